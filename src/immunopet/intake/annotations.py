"""VOIs from the annotations found in the export: RTSTRUCT ROIs and SEG segments of a quantified scan.

An RTSTRUCT or SEG belongs to a scan when it refers to the scan's PET or CT series, or, when none of
the series it refers to is quantified (e.g. it was drawn on a series since cropped), shares the PET's
FrameOfReferenceUID. Each ROI or segment becomes a ``vois.csv``
row; its kind and site are guessed from its name (a standard organ name is an organ, anything else a
lesion of site ``unspecified``), which the user corrects in the table.
"""

from __future__ import annotations

import re
from immunopet.intake import rules
from immunopet.intake.headers import SeriesHeader
from immunopet.intake.model import Decision, Scan

#: Words in an ROI name -> standard organ name (docs/study-format.md).
ORGAN_WORDS = {
    "blood_pool": "blood_pool", "bloodpool": "blood_pool", "aorta": "blood_pool", "liver": "liver",
    "spleen": "spleen", "kidney": "kidneys", "kidneys": "kidneys", "lung": "lungs", "lungs": "lungs",
    "brain": "brain", "muscle": "muscle", "intestine": "intestine", "bone_marrow": "bone_marrow",
    "marrow": "bone_marrow", "lymph_nodes": "lymph_nodes", "tonsils": "tonsils",
}
UNSPECIFIED_SITE = "unspecified"


def classify(label: str) -> tuple[str, str]:
    """``(kind, site)`` guessed from an ROI or segment name."""
    words = re.findall(r"[a-z_]+", label.lower())
    for word in [label.lower().strip().replace(" ", "_"), *words]:
        if word in ORGAN_WORDS:
            return "organ", ORGAN_WORDS[word]
    return "lesion", UNSPECIFIED_SITE


def voi_id_of(label: str) -> str:
    """A voi_id from a name: whitespace runs become ``_``; an organ gets its standard name."""
    kind, site = classify(label)
    return site if kind == "organ" else re.sub(r"\s+", "_", label.strip())


def voi_rows(scans: list[Scan], notes: list[SeriesHeader], decisions: dict[str, Decision]) -> list[dict]:
    """``vois.csv`` rows (file path absolute here; the writer makes it relative); records decisions."""
    rows: list[dict] = []
    for note in notes:
        if note.problem:
            decisions[note.uid] = _left(note, f"{rules.UNREADABLE}: {note.problem}")
            continue
        targets = [s for s in scans if note.references & {s.pet.uid, s.ct.uid if s.ct else ""}]
        if not targets:  # no (matching) series reference: the frame of reference decides
            targets = [s for s in scans if note.info.frame_of_reference_uid
                       and note.info.frame_of_reference_uid == s.pet.info.frame_of_reference_uid]
        if not targets or not note.labels:
            decisions[note.uid] = _left(note, rules.ANNOTATION_UNUSED if note.labels
                                        else f"{rules.ANNOTATION_UNUSED}: no ROI or segment")
            continue
        source = "rtstruct" if note.info.modality == "RTSTRUCT" else "seg"
        for scan in targets:
            taken = {r["voi_id"] for r in rows if r["scan_id"] == scan.scan_id}
            for label in note.labels:
                kind, site = classify(label)
                voi_id = voi_id_of(label)
                if voi_id in taken:
                    continue  # the same ROI drawn again (e.g. on the CT): the first one is kept
                taken.add(voi_id)
                rows.append({"scan_id": scan.scan_id, "voi_id": voi_id, "kind": kind, "site": site,
                             "source": source, "path": str(note.info.files[0]), "label": label})
        decisions[note.uid] = Decision(note, "voi", targets[0].patient_id, ",".join(s.scan_id for s in targets))
    return rows


def _left(note: SeriesHeader, reason: str) -> Decision:
    return Decision(note, "left out", reason=reason)
