"""The coded concepts of the exported SEG and SR: organs, lesions, derivations, metrics and units.

Codes are taken from pydicom's tables of DICOM PS3.16 (so a misspelt name fails on import) where
they exist there; the few concepts DICOM has no code for (total lesion uptake, percent of injected
activity, which SUVpeak) are given in the IBSI or in this software's private scheme ``99IMMUNOPET``,
declared in each object's Coding Scheme Identification Sequence. ``docs/export.md`` lists them all.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

PRIVATE_SCHEME = "99IMMUNOPET"
PRIVATE_SCHEME_NAME = "immunopet local codes"
IBSI_SCHEME = "IBSI"
IBSI_SCHEME_NAME = "Image Biomarker Standardisation Initiative"


def private(value: str, meaning: str) -> Code:
    return Code(value, PRIVATE_SCHEME, meaning)


# --- what a segment is -------------------------------------------------------------------------
ANATOMY = codes.SCT.AnatomicalStructure
BODY_SUBSTANCE = codes.SCT.BodySubstance
LESION_CATEGORY = codes.SCT.MorphologicallyAbnormalStructure
LESION_TYPE = codes.SCT.Neoplasm
INTESTINE = Code("113276009", "SCT", "Intestine")  # SNOMED CT "Intestinal structure"; not in pydicom's table

#: Standard organ names of docs/study-format.md -> (category, type) of the segment.
ORGANS: dict[str, tuple[Code, Code]] = {
    "blood_pool": (BODY_SUBSTANCE, codes.SCT.Blood),
    "liver": (ANATOMY, codes.SCT.Liver),
    "spleen": (ANATOMY, codes.SCT.Spleen),
    "kidneys": (ANATOMY, codes.SCT.Kidney),
    "bone_marrow": (ANATOMY, codes.SCT.BoneMarrow),
    "lungs": (ANATOMY, codes.SCT.Lung),
    "brain": (ANATOMY, codes.SCT.Brain),
    "muscle": (ANATOMY, codes.SCT.SkeletalMuscle),
    "intestine": (ANATOMY, INTESTINE),
    "lymph_nodes": (ANATOMY, codes.SCT.LymphNode),
    "tonsils": (ANATOMY, codes.SCT.PalatineTonsil),
}

#: Lesion sites (vois.csv ``site``) -> anatomic region of the segment and finding site of the SR.
SITES: dict[str, Code] = {
    "lung": codes.SCT.Lung,
    "liver": codes.SCT.Liver,
    "lymph_node": codes.SCT.LymphNode,
    "bone": codes.SCT.Bone,
    "adrenal": codes.SCT.AdrenalGland,
    "soft_tissue": codes.SCT.SoftTissue,
    "bladder_wall": codes.SCT.Bladder,
    "spleen": codes.SCT.Spleen,
    "kidney": codes.SCT.Kidney,
    "brain": codes.SCT.Brain,
    "mediastinum": codes.SCT.Mediastinum,
    "peritoneum": codes.SCT.PeritonealCavity,
}


def segment_property(kind: str, site: str) -> tuple[Code, Code, Code | None]:
    """(category, type, anatomic region or None) of a VOI of ``kind`` (organ / lesion) at ``site``.

    An organ not among the standard names is an "Anatomical Structure" of unstated type (its label
    names it); a lesion is a "Neoplasm" with the site as its anatomic region when the site is known.
    """
    key = str(site).strip().lower()
    if kind == "lesion":
        return LESION_CATEGORY, LESION_TYPE, SITES.get(key)
    category, kind_code = ORGANS.get(key, (ANATOMY, ANATOMY))
    return category, kind_code, None


# --- how a segment was made (the vois.csv source and delineation) ------------------------------
@dataclass(frozen=True)
class Derivation:
    """How a VOI was made: the segment's algorithm type, its name and family (CID 7162)."""

    algorithm_type: str  # highdicom SegmentAlgorithmTypeValues: MANUAL / SEMIAUTOMATIC / AUTOMATIC
    name: str
    family: Code


DELINEATIONS = {
    "fixed": "fixed SUV threshold",
    "pct_max": "percentage of SUVmax threshold",
    "a50p": "A50%P: 50 % of SUVpeak with local background (Boellaard)",
}


def derivation(row: dict) -> Derivation:
    """The derivation of one vois.csv row (see ``docs/export.md``, "Segments")."""
    source = str(row.get("source") or "")
    delineation = row.get("delineation") or None
    if source == "seed" or (source == "mask" and delineation):
        method = DELINEATIONS.get(str(delineation or "pct_max"), str(delineation))
        base = "seed" if source == "seed" else "mask"
        return Derivation("SEMIAUTOMATIC", f"{base} + {method}", codes.cid7162.HistogramAnalysis)
    if source == "sphere":
        return Derivation("SEMIAUTOMATIC", "sphere of fixed size at a given centre", codes.cid7162.ManualProcessing)
    if source == "segmenter":
        return Derivation("AUTOMATIC", "organ segmenter output", codes.cid7162.ArtificialIntelligence)
    names = {"mask": "manual mask (NIfTI label map)", "rtstruct": "manual contour (RTSTRUCT)", "seg": "DICOM SEG segment"}
    return Derivation("MANUAL", names.get(source, source or "unknown"), codes.cid7162.ManualProcessing)


# --- what was measured ---------------------------------------------------------------------------
#: SUV kind -> the quantity (CID 7466-like PET units concepts) and its UCUM unit.
SUV_QUANTITY: dict[str, tuple[Code, Code]] = {
    "bw": (codes.DCM.Suvbw, Code("{SUVbw}g/ml", "UCUM", "Standardized Uptake Value body weight")),
    "lbm": (codes.DCM.SuvlbmJanma, Code("{SUVlbm(Janma)}g/ml", "UCUM",
                                        "Standardized Uptake Value lean body mass (Janmahasatian)")),
    "bsa": (codes.DCM.Suvbsa, Code("{SUVbsa}cm2/ml", "UCUM", "Standardized Uptake Value body surface area")),
    "ibw": (codes.DCM.Suvibw, Code("{SUVibw}g/ml", "UCUM", "Standardized Uptake Value ideal body weight")),
}

MAXIMUM = codes.SCT.Maximum
MEAN = codes.SCT.Mean
GLOBAL_PEAK = Code("0F91", IBSI_SCHEME, "Global intensity peak")
LOCAL_PEAK = Code("VJGA", IBSI_SCHEME, "Local intensity peak")
VOLUME = codes.SCT.Volume
MILLILITRE = Code("ml", "UCUM", "milliliter")
TLU = private("TLU", "Total lesion uptake (SUVmean x volume)")
PCT_ID = private("PCTID", "Percent of injected activity in the VOI")
PERCENT = Code("%", "UCUM", "Percent")
RATIO = codes.DCM.LesionToBackgroundSUVRatio
NO_UNITS = Code("1", "UCUM", "no units")

# --- report, time point -------------------------------------------------------------------------
PROCEDURE = codes.cid100.PETWholeBody
DEVICE = codes.DCM.Device
TITLE = codes.cid7021.PETMeasurementReport
INJECTION_EVENT = codes.SCT.AdministrationOfRadiopharmaceutical
DAYS = Code("d", "UCUM", "day")


def tlu_unit(suv_type: str) -> Code:
    """SUV x mL (UCUM multiplies with "."), e.g. ``{SUVbw}g/ml.ml``."""
    unit = SUV_QUANTITY[suv_type][1]
    return Code(f"{unit.value}.ml", "UCUM", f"{unit.meaning} x milliliter")
