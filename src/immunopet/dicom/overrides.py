"""User-supplied SUV inputs that replace header values (case report forms beat headers)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from immunopet.dicom.plausible import RANGES, implausible
from immunopet.errors import SUVError

#: For each SUV input: the command-line option and the SuvOverrides field that set it.
FIXES: dict[str, tuple[str, str]] = {
    "injection_datetime": ("--injection-datetime 2024-05-01T09:30", "injection_datetime"),
    "injected_bq": ("--injected-mbq 37.0", "injected_bq"),
    "weight_kg": ("--weight-kg 70", "weight_kg"),
    "height_cm": ("--height-cm 170", "height_cm"),
    "sex": ("--sex M|F", "sex"),
    "nuclide": ("--nuclide Zr-89", "nuclide"),
}


def fix_for(name: str, extra: str = "") -> str:
    """The fix text of an SUVError about input ``name``: CLI option and override field."""
    option, field_name = FIXES[name]
    text = f"supply {option} on the command line (SuvOverrides({field_name}=...) / the study manifest)"
    return f"{extra}; or {text}" if extra else text


@dataclass(frozen=True)
class SuvOverrides:
    """Values that replace the DICOM header's SUV inputs; each use is logged and audited.

    Parameters
    ----------
    injection_datetime
        Full date-time of injection (``datetime`` or ISO 8601 text), local time of the site.
    injected_bq
        Activity injected, in Bq, at ``injection_datetime`` (net of residual activity).
    weight_kg, height_cm
        Patient weight (kg) and height (cm) at the scan.
    sex
        ``"M"``, ``"F"`` or ``"O"`` (other: the mean of the male and female formulas).
    nuclide
        Radionuclide name (``"Zr-89"``); its tabulated half-life replaces RadionuclideHalfLife.
    """

    injection_datetime: datetime | None = None
    injected_bq: float | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    sex: str | None = None
    nuclide: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.injection_datetime, str):
            try:
                parsed = datetime.fromisoformat(self.injection_datetime)
            except ValueError as error:
                raise SUVError(
                    f"injection date-time override {self.injection_datetime!r} is not ISO 8601",
                    attribute="injection_datetime", fix="write it like 2024-05-01T09:30:00",
                ) from error
            object.__setattr__(self, "injection_datetime", parsed.replace(tzinfo=None))
        elif isinstance(self.injection_datetime, datetime) and self.injection_datetime.tzinfo is not None:
            # headers hold local times without offset: compare like with like
            object.__setattr__(self, "injection_datetime", self.injection_datetime.replace(tzinfo=None))
        for name in RANGES:
            value = getattr(self, name)
            if value is None:
                continue
            try:
                number = float(value)
            except (TypeError, ValueError):
                number = math.nan
            problem = implausible(name, number)
            if problem is not None:
                raise SUVError(f"override {problem}", attribute=name, fix=f"check the unit of {name}")
            object.__setattr__(self, name, number)
        if self.sex is not None:
            sex = str(self.sex).strip().upper()[:1]
            if sex not in ("M", "F", "O"):
                raise SUVError(f"override sex={self.sex!r} is not M, F or O", attribute="sex", fix="use M, F or O")
            object.__setattr__(self, "sex", sex)

    def given(self) -> dict[str, Any]:
        """The overrides actually supplied (non-``None``)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}
