"""Units and decay correction of enhanced (multi-frame) PET, where classic attributes may be absent.

Enhanced PET images may state their units only in a Real World Value Mapping (UCUM code in
MeasurementUnitsCodeSequence) and their decay correction as DecayCorrected (0018,9758) YES/NO with
DecayCorrectionDateTime (0018,9701). Classic attributes, when present, win.
"""

from __future__ import annotations

from pydicom.dataset import Dataset

from immunopet.dicom.header import value_of

#: UCUM unit codes of Real World Value Mapping -> the classic Units (0054,1001) value.
UCUM_UNITS = {
    "bq/ml": "BQML", "{suvbw}g/ml": "GML", "g/ml": "GML", "{suvlbm}g/ml": "GML", "{suvibw}g/ml": "GML",
    "{suvbsa}cm2/ml": "CM2ML", "cm2/ml": "CM2ML", "{counts}": "CNTS", "{counts}/s": "CPS",
}


def _mapping_items(ds: Dataset) -> list[Dataset]:
    """Real World Value Mapping items: top level, then shared and first per-frame functional group."""
    items: list[Dataset] = list(ds.get("RealWorldValueMappingSequence") or [])
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        sequence = ds.get(groups)
        if sequence:
            items.extend(sequence[0].get("RealWorldValueMappingSequence") or [])
    return items


def units_of(ds: Dataset) -> str:
    """Units (0054,1001), else the UCUM code of the first Real World Value Mapping; ``""`` if none."""
    units = str(value_of(ds, "Units") or "").upper()
    if units:
        return units
    for item in _mapping_items(ds):
        codes = item.get("MeasurementUnitsCodeSequence")
        if codes and codes[0].get("CodeValue"):
            code = str(codes[0].CodeValue).strip()
            return UCUM_UNITS.get(code.lower(), code.upper())
    return ""


def decay_correction_of(ds: Dataset) -> str:
    """DecayCorrection (0054,1102), else DecayCorrected (0018,9758): YES -> START, NO -> NONE."""
    decay = str(value_of(ds, "DecayCorrection") or "").upper()
    if decay:
        return decay
    corrected = str(value_of(ds, "DecayCorrected") or "").upper()
    return {"YES": "START", "NO": "NONE"}.get(corrected, "")


CONVERTED = "SharedFunctionalGroupsSequence > UnassignedSharedConvertedAttributesSequence"


def suv_view(ds: Dataset) -> tuple[Dataset, list[str]]:
    """``ds`` with the attributes a legacy-converted enhanced image keeps in the shared functional
    groups' UnassignedSharedConvertedAttributesSequence (Units, RadiopharmaceuticalInformationSequence,
    DecayCorrection...) lifted to the top level where absent there, and their keywords.

    highdicom's LegacyConvertedEnhancedPETImage writes them there. The returned dataset is a shallow
    copy (pixel data are not copied); ``ds`` itself is unchanged.
    """
    shared = ds.get("SharedFunctionalGroupsSequence")
    converted = shared[0].get("UnassignedSharedConvertedAttributesSequence") if shared else None
    if not converted:
        return ds, []
    view = Dataset()
    view.update({element.tag: element for element in ds if element.tag != 0x7FE00010})
    lifted = []
    for element in converted[0]:
        if element.tag not in view:
            view[element.tag] = element
            lifted.append(element.keyword)
    return view, lifted
