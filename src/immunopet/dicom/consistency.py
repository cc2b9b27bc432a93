"""The SUV inputs must agree across the slices of a series.

Every slice of a PET series carries its own copy of the patient's weight, the dose, the injection
time... One edited or foreign slice (PatientWeight 95 instead of 71) would change the SUV without
a trace if only one slice were read, and which one would depend on the command. So every slice is
compared: a disagreement is an :class:`~immunopet.errors.SUVError` naming the attribute and the
slices, unless an override supplies that input (then it is a warning).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import Tag

from immunopet.dicom.geometry import Frame
from immunopet.dicom.header import label, raw_text
from immunopet.dicom.overrides import SuvOverrides, fix_for
from immunopet.errors import SUVError
from immunopet.safe_text import safe_text

_RADIOPHARMACEUTICAL = Tag(0x0054, 0x0016)
#: (keyword, in the radiopharmaceutical item?, the override that replaces it or None).
COMPARED: tuple[tuple[str, bool, str | None], ...] = (
    ("Units", False, None), ("DecayCorrection", False, None), ("SUVType", False, None),
    ("SeriesDate", False, None), ("SeriesTime", False, None), ("DecayCorrectionDateTime", False, None),
    ("PatientWeight", False, "weight_kg"), ("PatientSize", False, "height_cm"), ("PatientSex", False, "sex"),
    ("RadionuclideTotalDose", True, "injected_bq"),
    ("RadiopharmaceuticalStartDateTime", True, "injection_datetime"),
    ("RadiopharmaceuticalStartTime", True, "injection_datetime"),
    ("RadionuclideHalfLife", True, "nuclide"),
)


def _same_radiopharmaceutical_bytes(datasets: list[Dataset]) -> bool:
    """Every file holds the same still unparsed bytes for the radiopharmaceutical sequence.

    Read with the same encoding (VR, byte order, character set), equal bytes parse to equal values,
    so its attributes agree without parsing one copy per slice (pydicom keeps defined-length
    sequences raw until read, :mod:`immunopet.dicom.lazy_sequences` the others).
    """
    first = None
    for ds in datasets:
        element = ds.get_item(_RADIOPHARMACEUTICAL, keep_deferred=True)
        if not isinstance(element, RawDataElement) or element.value is None:
            return False
        key = (element.value, element.is_implicit_VR, element.is_little_endian, str(ds.original_character_set))
        if first is None:
            first = key
        elif key != first:
            return False
    return True


def _radiopharmaceutical(ds: Dataset) -> Dataset | None:
    sequence = ds.get("RadiopharmaceuticalInformationSequence")
    return sequence[0] if sequence else None


def _normalised(text: str | None) -> object:
    """Numbers compare as numbers ("71" == "71.0"), text without case or padding."""
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        return text.strip().upper()
    return number if math.isfinite(number) else text.strip().upper()  # NaN != NaN: compare as text


def _reader(keyword: str, in_rp: bool) -> Callable[[Dataset], object]:
    if in_rp:
        return lambda ds: _normalised(raw_text(_radiopharmaceutical(ds), keyword))
    return lambda ds: _normalised(raw_text(ds, keyword))


def _describe(groups: dict[object, list[str]]) -> str:
    parts = []
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    if len(ordered) > 3:
        parts_left = sum(len(files) for _, files in ordered[3:])
        ordered = ordered[:3]
    else:
        parts_left = 0
    for value, files in ordered:
        shown = "(absent)" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        parts.append(f"{safe_text(shown, max_length=60)} in {len(files)} slice(s) (e.g. {files[0]})")
    if parts_left:
        parts.append(f"other values in {parts_left} slice(s)")
    return "; ".join(parts)


def check_slices_agree(frames: list[Frame], overrides: SuvOverrides | None) -> list[str]:
    """Compare the SUV inputs of every file of ``frames``; returns warnings, raises on conflicts."""
    datasets: dict[int, tuple[Dataset, str]] = {}
    for frame in frames:
        datasets.setdefault(id(frame.ds), (frame.ds, frame.file))
    if len(datasets) < 2:
        return []
    given = overrides.given() if overrides is not None else {}
    warnings: list[str] = []
    same_rp = _same_radiopharmaceutical_bytes([ds for ds, _ in datasets.values()])
    for keyword, in_rp, override in COMPARED:
        if in_rp and same_rp:
            continue
        read = _reader(keyword, in_rp)
        groups: dict[object, list[str]] = defaultdict(list)
        for ds, file in datasets.values():
            groups[read(ds)].append(file)
        if len(groups) == 1:
            continue
        text = f"{label(keyword)} differs between the slices of the series: {_describe(groups)}"
        if override is not None and override in given:
            warnings.append(f"{text}; the override {override} is used for all slices")
            continue
        remedy = "remove the slices that do not belong to the series"
        raise SUVError(text, file=frames[0].file, attribute=label(keyword),
                       fix=fix_for(override, remedy) if override else remedy)
    return warnings
