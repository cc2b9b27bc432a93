"""What init needs to know of each series beyond discovery: one header per series, read in full.

Discovery (:mod:`immunopet.dicom.discover`) reads a few attributes of every file; the rules of init
(corrections, image type, injection, patient attributes, what an RTSTRUCT or SEG refers to) need more,
and they are the same in every file of a series, so only the series' first file is read again here
(without pixel data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import pydicom
from pydicom.dataset import Dataset

from immunopet.dicom.discover import SeriesInfo
from immunopet.dicom.header import (
    combine, date_time_of, float_of, latest_before, parse_da, parse_dt, parse_tm, raw_text,
)
from immunopet.dicom.radionuclide import identify_nuclide

SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
DOSE_SR_CLASSES = {"1.2.840.10008.5.1.4.1.1.88.67", "1.2.840.10008.5.1.4.1.1.88.68"}


@dataclass
class SeriesHeader:
    """One discovered series with the attributes the init rules use (``None`` when absent)."""

    info: SeriesInfo
    sop_class_uid: str = ""
    image_type: tuple[str, ...] = ()
    series_number: int | None = None
    corrected: frozenset[str] = frozenset()
    attenuation_method: str = ""
    decay_correction: str = ""
    reconstruction: str = ""
    acquisition: datetime | None = None
    injection: datetime | None = None
    injection_source: str = ""
    half_life_s: float | None = None
    nuclide: str | None = None
    radiopharmaceutical: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    references: set[str] = field(default_factory=set)
    labels: list[str] = field(default_factory=list)
    problem: str | None = None

    @property
    def uid(self) -> str:
        return self.info.series_uid

    @property
    def fov_ml(self) -> float:
        """Volume of the image grid (mL), 0 when the series is not a volume."""
        if self.info.shape is None or self.info.spacing is None:
            return 0.0
        (i, j, k), (si, sj, sk) = self.info.shape, self.info.spacing
        return i * si * j * sj * k * sk / 1000.0


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _injection(ds: Dataset, drug: Dataset | None, scan_start: datetime | None) -> tuple[datetime | None, str]:
    if drug is None:
        return None, ""
    full = parse_dt(raw_text(drug, "RadiopharmaceuticalStartDateTime"))
    if full is not None:
        return full, "RadiopharmaceuticalStartDateTime (0018,1078)"
    clock = parse_tm(raw_text(drug, "RadiopharmaceuticalStartTime"))
    if clock is None:
        return None, ""
    day = parse_da(raw_text(ds, "SeriesDate")) or parse_da(raw_text(ds, "StudyDate"))
    if scan_start is not None:
        return latest_before(clock, scan_start), "RadiopharmaceuticalStartTime (0018,1072), on the scan day"
    return combine(day, clock), "RadiopharmaceuticalStartTime (0018,1072) + SeriesDate"


def _references(ds: Dataset) -> set[str]:
    """Series UIDs an RTSTRUCT or SEG refers to."""
    found: set[str] = set()
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            for series in study.get("RTReferencedSeriesSequence", []):
                if series.get("SeriesInstanceUID"):
                    found.add(str(series.SeriesInstanceUID))
    for series in ds.get("ReferencedSeriesSequence", []):
        if series.get("SeriesInstanceUID"):
            found.add(str(series.SeriesInstanceUID))
    return found


def _labels(ds: Dataset) -> list[str]:
    if "StructureSetROISequence" in ds:
        return [str(r.get("ROIName", "")).strip() for r in ds.StructureSetROISequence if str(r.get("ROIName", "")).strip()]
    if "SegmentSequence" in ds:
        return [str(s.get("SegmentLabel", "") or s.get("SegmentNumber", "")).strip() for s in ds.SegmentSequence]
    return []


def read_series_header(info: SeriesInfo) -> SeriesHeader:
    """The :class:`SeriesHeader` of ``info`` from its first file (pixel data never read)."""
    header = SeriesHeader(info)
    try:
        ds = pydicom.dcmread(info.files[0], stop_before_pixels=True, force=True)
    except Exception as error:  # noqa: BLE001 - reported as the series' problem, never fatal
        header.problem = f"header cannot be read: {type(error).__name__}: {error}"
        return header
    header.sop_class_uid = _text(ds, "SOPClassUID")
    image_type = ds.get("ImageType") or []
    header.image_type = tuple(str(v).upper() for v in (image_type if not isinstance(image_type, str) else [image_type]))
    number = float_of(ds, "SeriesNumber")  # raw text: a damaged value is no number, never an exception
    header.series_number = int(number) if number is not None and math.isfinite(number) else None
    corrected = ds.get("CorrectedImage") or []
    header.corrected = frozenset(str(v).upper() for v in (corrected if not isinstance(corrected, str) else [corrected]))
    header.attenuation_method = _text(ds, "AttenuationCorrectionMethod")
    header.decay_correction = _text(ds, "DecayCorrection").upper()
    header.reconstruction = _text(ds, "ReconstructionMethod")
    header.acquisition = date_time_of(ds, "Acquisition") or info.series_datetime
    drug_seq = ds.get("RadiopharmaceuticalInformationSequence") or []
    drug = drug_seq[0] if len(drug_seq) else None
    header.injection, header.injection_source = _injection(ds, drug, header.acquisition)
    if drug is not None:
        header.half_life_s = float_of(drug, "RadionuclideHalfLife")
        header.radiopharmaceutical = _text(drug, "Radiopharmaceutical")
        codes = drug.get("RadionuclideCodeSequence") or []
        code = codes[0] if len(codes) else None
        found = identify_nuclide(
            _text(code, "CodeValue") if code is not None else None,
            _text(code, "CodeMeaning") if code is not None else None,
            _text(drug, "Radionuclide"), _text(drug, "Radiopharmaceutical"),
        )
        header.nuclide = found.name if found else None
    header.patient_name = _text(ds, "PatientName")
    header.birth_date = _text(ds, "PatientBirthDate")
    sex = _text(ds, "PatientSex").upper()
    header.sex = sex if sex in ("M", "F", "O") else None
    size = float_of(ds, "PatientSize")
    header.height_cm = round(size * 100.0, 1) if size and 0.5 < size < 2.6 else None
    weight = float_of(ds, "PatientWeight")
    header.weight_kg = weight if weight and weight > 0 else None
    header.references = _references(ds)
    header.labels = _labels(ds)
    return header
