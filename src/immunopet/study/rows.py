"""What each table holds: one pydantic model per row, plus the checks that span several columns.

This module is the one place where the columns of ``patients.csv``, ``scans.csv``, ``vois.csv`` and
``lesions.csv`` and their checks are declared:

- :data:`ROW_MODELS`: the row model of each table (types, ranges, allowed values); its fields without
  a default are the required columns;
- :data:`ROW_RULES`: checks over several cells of one row (a survival time needs its event), each
  returning ``(column, message)`` pairs.

Cells arrive as text; an empty cell is ``None``. Numbers must be finite (``inf``/``nan`` are
refused). Checks that need several rows or tables (unique ids, references, files) live in
:mod:`immunopet.study.crosscheck`; limits shared with the store in :mod:`immunopet.study.limits`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from immunopet.study.limits import ID_LENGTH, ID_RULE, TEXT_LENGTH, is_identifier


def _whole_number(value: object) -> object:
    """Spreadsheets write ``1`` as ``1.0``: accept a float text that is a whole number."""
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\.0*\s*", value):
        return int(float(value))
    return value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


def _event(value: object) -> object:
    """A survival event: 0 (censored) or 1 (event), also written ``0.0`` / ``1.0``."""
    if isinstance(value, str) and re.fullmatch(r"\s*[01](\.0*)?\s*", value):
        return int(float(value))
    raise ValueError(f"an event is coded 0 (censored) or 1 (event), found {value!r}")


def _identifier(value: str) -> str:
    if not is_identifier(value):
        raise ValueError(f"ids become file names: at most {ID_LENGTH} characters, {ID_RULE} (found {value!r})")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
Event = Annotated[int, BeforeValidator(_event)]
#: An id that may end up in a file name (``mip_{patient_id}.png``) or a store key.
Identifier = Annotated[str, AfterValidator(_identifier)]
#: Free text kept in a ``VARCHAR`` column of the store.
Text = Annotated[str, Field(min_length=1, max_length=TEXT_LENGTH)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, allow_inf_nan=False)


class PatientRow(_Row):
    """A row of ``patients.csv``."""

    patient_id: Identifier
    tumour_type: Text
    sex: Annotated[Literal["M", "F", "O"], BeforeValidator(_upper)] | None = None
    height_cm: float | None = Field(None, gt=50, lt=260)
    dose_cohort: Text | None = None
    ihc_ic: WholeNumber | None = Field(None, ge=0, le=3)
    ihc_tc: WholeNumber | None = Field(None, ge=0, le=3)
    rna_cd274: float | None = None
    rna_teff: float | None = None
    best_response: Annotated[Literal["CR", "PR", "SD", "PD", "NE"], BeforeValidator(_upper)] | None = None
    best_pct_change: float | None = Field(None, ge=-100)
    pfs_months: float | None = Field(None, ge=0)
    pfs_event: Event | None = None
    os_months: float | None = Field(None, ge=0)
    os_event: Event | None = None


class ScanRow(_Row):
    """A row of ``scans.csv``."""

    scan_id: Identifier
    patient_id: Identifier
    day: float = Field(ge=0)
    pet: str = Field(min_length=1)
    ct: str | None = None
    pet_series_uid: Text | None = None
    pet_units: Literal["BQML", "SUVbw", "SUVlbm", "SUVbsa", "SUVibw"] | None = None
    injection_datetime: datetime | None = None
    injected_mbq: float | None = Field(None, gt=0)
    weight_kg: float | None = Field(None, gt=0, lt=400)


class VoiRow(_Row):
    """A row of ``vois.csv``: on one scan (``scan_id``), or drawn once (``patient_id`` + ``drawn_on``)."""

    scan_id: Identifier | None = None
    patient_id: Identifier | None = None
    drawn_on: Identifier | None = None
    voi_id: Identifier
    kind: Literal["organ", "lesion"]
    site: Text
    source: Literal["mask", "rtstruct", "seg", "sphere", "seed", "segmenter", "segmenter-rules"]
    path: str | None = None
    label: Text | None = None
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

    patient_id: Identifier
    voi_id: Identifier
    site: Text | None = None
    baseline_diameter_mm: float | None = Field(None, gt=0)
    pct_change: float | None = Field(None, ge=-100)


#: The row model of each table, by its key in ``study.yaml``'s ``tables``.
ROW_MODELS: dict[str, type[_Row]] = {
    "patients": PatientRow, "scans": ScanRow, "vois": VoiRow, "lesions": LesionRow,
}

#: A check over several cells of one validated row: ``(column, message)`` for each problem.
RowRule = Callable[[dict[str, Any]], list[tuple[str, str]]]


def _survival_pairs(row: dict[str, Any]) -> list[tuple[str, str]]:
    """A survival time needs its event and an event its time (else the patient drops out silently)."""
    problems = []
    for endpoint in ("pfs", "os"):
        time, event = f"{endpoint}_months", f"{endpoint}_event"
        if (row.get(time) is None) != (row.get(event) is None):
            empty, given = (time, event) if row.get(time) is None else (event, time)
            problems.append((empty, f"{given} is given, so {empty} is needed too (or leave both empty)"))
    return problems


#: Row checks of each table, run on rows that passed their model.
ROW_RULES: dict[str, tuple[RowRule, ...]] = {
    "patients": (_survival_pairs,), "scans": (), "vois": (), "lesions": (),
}
