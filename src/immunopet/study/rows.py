"""One pydantic model per table row (``patients.csv``, ``scans.csv``, ``vois.csv``, ``lesions.csv``).

Cells arrive as text; an empty cell is ``None``. Checks that need several rows or tables (unique
ids, references, files) live in :mod:`immunopet.study.crosscheck`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator


def _whole_number(value: object) -> object:
    """Spreadsheets write ``1`` as ``1.0``: accept a float text that is a whole number."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\.0*\s*", value):
        return int(float(value))
    return value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class PatientRow(_Row):
    """A row of ``patients.csv``."""

    patient_id: str = Field(min_length=1)
    tumour_type: str = Field(min_length=1)
    sex: Annotated[Literal["M", "F", "O"], BeforeValidator(_upper)] | None = None
    height_cm: float | None = Field(None, gt=50, lt=260)
    dose_cohort: str | None = None
    ihc_ic: WholeNumber | None = Field(None, ge=0, le=3)
    ihc_tc: WholeNumber | None = Field(None, ge=0, le=3)
    rna_cd274: float | None = None
    rna_teff: float | None = None
    best_response: Annotated[Literal["CR", "PR", "SD", "PD", "NE"], BeforeValidator(_upper)] | None = None
    best_pct_change: float | None = Field(None, ge=-100)
    pfs_months: float | None = Field(None, ge=0)
    pfs_event: WholeNumber | None = Field(None, ge=0, le=1)
    os_months: float | None = Field(None, ge=0)
    os_event: WholeNumber | None = Field(None, ge=0, le=1)


class ScanRow(_Row):
    """A row of ``scans.csv``."""

    scan_id: str = Field(min_length=1)
    patient_id: str = Field(min_length=1)
    day: float = Field(ge=0)
    pet: str = Field(min_length=1)
    ct: str | None = None
    pet_series_uid: str | None = None
    pet_units: Literal["BQML", "SUVbw", "SUVlbm", "SUVbsa", "SUVibw"] | None = None
    injection_datetime: datetime | None = None
    injected_mbq: float | None = Field(None, gt=0)
    weight_kg: float | None = Field(None, gt=0, lt=400)


class VoiRow(_Row):
    """A row of ``vois.csv``: on one scan (``scan_id``), or drawn once (``patient_id`` + ``drawn_on``)."""

    scan_id: str | None = None
    patient_id: str | None = None
    drawn_on: str | None = None
    voi_id: str = Field(min_length=1)
    kind: Literal["organ", "lesion"]
    site: str = Field(min_length=1)
    source: Literal["mask", "rtstruct", "seg", "sphere", "seed", "segmenter", "segmenter-rules"]
    path: str | None = None
    label: str | None = None
    x_mm: float | None = None
    y_mm: float | None = None
    z_mm: float | None = None
    diameter_mm: float | None = Field(None, gt=0)
    volume_ml: float | None = Field(None, gt=0)
    delineation: Literal["fixed", "pct_max", "a50p"] | None = None
    threshold: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_scan_or_all(self) -> VoiRow:
        if not self.scan_id and not (self.patient_id and self.drawn_on):
            raise ValueError("give scan_id (a VOI of one scan), or patient_id and drawn_on (drawn once, measured on every scan)")
        if self.scan_id and self.drawn_on:
            raise ValueError("give either scan_id or drawn_on, not both")
        return self


class LesionRow(_Row):
    """A row of ``lesions.csv``."""

    patient_id: str = Field(min_length=1)
    voi_id: str = Field(min_length=1)
    site: str | None = None
    baseline_diameter_mm: float | None = Field(None, gt=0)
    pct_change: float | None = Field(None, ge=-100)


#: The row model of each table, by its key in ``study.yaml``'s ``tables``.
ROW_MODELS: dict[str, type[_Row]] = {
    "patients": PatientRow, "scans": ScanRow, "vois": VoiRow, "lesions": LesionRow,
}
