"""Every input of the SUV factor, read from the header (or an override) together with its source.

The reading rules follow the IBSI SUV manual (Vácha et al.); they are listed in ``docs/suv.md``.
Missing inputs are recorded, not raised, here: :class:`SuvInputs` raises the recorded
:class:`~immunopet.errors.SUVError` when a computation actually needs the value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from immunopet.dicom import suv as arithmetic
from immunopet.dicom.header import Sourced, seconds_between
from immunopet.dicom.overrides import SuvOverrides, fix_for
from immunopet.dicom.reference_time import read_reference_datetime  # noqa: F401 - its former home
from immunopet.errors import SUVError
from immunopet.nuclides import get_nuclide

#: Half-lives between injection and scan beyond which the date is taken as mistyped (2^-20 of the dose:
#: 37 h of F-18, 65 days of Zr-89; delayed scans stay below 5).
MAX_HALF_LIVES = 20

log = logging.getLogger(__name__)

SUPPORTED_UNITS = ("BQML", "GML", "CM2ML", "CNTS")
#: DICOM SUVType (0054,1006) -> (SUV kind, LBM formula used by that type).
SUV_TYPES = {
    "BW": ("bw", "janmahasatian"), "BSA": ("bsa", "janmahasatian"), "IBW": ("ibw", "janmahasatian"),
    "LBM": ("lbm", "james120"), "LBMJAMES128": ("lbm", "james128"), "LBMJANMA": ("lbm", "janmahasatian"),
}


@dataclass
class SuvInputs:
    """The SUV inputs of one PET series, each a :class:`Sourced` (value + source + note).

    ``scan_datetime`` is the acquisition start (the reference time of DecayCorrection START and
    NONE); ``reference_datetime`` is the time the image values are decay corrected to.
    ``replaced`` keeps the header values that overrides replaced (``None`` when the header had
    none); ``missing`` the error to raise when an absent input is needed.
    """

    file: str
    units: Sourced
    suv_type: Sourced
    decay_correction: Sourced
    nuclide: Sourced
    half_life_s: Sourced
    injected_bq: Sourced
    injection_datetime: Sourced
    scan_datetime: Sourced
    weight_kg: Sourced
    height_cm: Sourced
    sex: Sourced
    lbm_formula: Sourced
    warnings: list[str] = field(default_factory=list)
    replaced: dict[str, Sourced | None] = field(default_factory=dict)
    missing: dict[str, SUVError] = field(default_factory=dict)

    NAMES = (
        "units", "suv_type", "decay_correction", "nuclide", "half_life_s", "injected_bq",
        "injection_datetime", "scan_datetime", "weight_kg", "height_cm", "sex", "lbm_formula",
    )

    # ----- access -------------------------------------------------------------------------------
    def get(self, name: str, *, header: bool = False) -> Any:
        """Value of input ``name`` (the header's, with ``header=True``, when an override replaced
        it and the header had one); raises the recorded SUVError if it is missing."""
        item: Sourced = getattr(self, name)
        if header and self.replaced.get(name) is not None:
            item = self.replaced[name]  # type: ignore[assignment]
        if item.value is None:
            raise self.missing.get(name) or SUVError(
                f"{name} is unknown", file=self.file, fix=fix_for(name) if name in _FIXABLE else None
            )
        return item.value

    @property
    def reference_datetime(self) -> datetime:
        """The time the voxel values are decay corrected to (injection for ADMIN)."""
        if self.decay_correction.value == "ADMIN":
            return self.get("injection_datetime")
        return self.get("scan_datetime")

    def injected_bq_at_reference(self, *, header: bool = False) -> float:
        """Injected activity decayed from injection to the reference time (Bq)."""
        dose = float(self.get("injected_bq", header=header))
        if self.decay_correction.value == "ADMIN":
            return dose
        injection = self.get("injection_datetime", header=header)
        elapsed = seconds_between(injection, self.get("scan_datetime"))
        if elapsed < 0:
            raise SUVError(
                f"injection ({injection.isoformat()}, {self.injection_datetime.source}) is "
                f"{-elapsed / 3600:.2f} h after the scan's reference time "
                f"({self.scan_datetime.value.isoformat()}, {self.scan_datetime.source})",
                file=self.file, attribute=self.injection_datetime.source, fix=fix_for("injection_datetime"),
            )
        half_life = float(self.get("half_life_s"))
        activity = arithmetic.decayed_activity(dose, elapsed, half_life)
        if not activity > 0 or elapsed > MAX_HALF_LIVES * half_life:  # a mistyped date: SUVs 1e6 and more
            raise SUVError(
                f"the injected activity decays to {activity:g} Bq over the {elapsed / 3600:.4g} h "
                f"({elapsed / half_life:.3g} half-lives; at most {MAX_HALF_LIVES} are plausible) from injection "
                f"({self.injection_datetime.source}) to the reference time ({self.scan_datetime.source})",
                file=self.file, attribute=self.scan_datetime.source, fix=fix_for("injection_datetime"),
            )
        return activity

    def normaliser(self, kind: str, *, header: bool = False, lbm_formula: str | None = None) -> float:
        """Body-size term of SUV ``kind`` (g, or cm^2 for bsa) from these inputs."""
        body: dict[str, Any] = {"weight_kg": float(self.get("weight_kg", header=header))}
        if kind != "bw":
            body["height_cm"] = float(self.get("height_cm", header=header))
        if kind in ("lbm", "ibw"):
            body["sex"] = str(self.get("sex", header=header))
        formula = lbm_formula or self.lbm_formula.value
        value = arithmetic.normaliser(kind, lbm_formula=formula, **body)
        if value <= 0:
            raise SUVError(
                f"SUV{kind} body-size term is {value:.3g} (not positive) for these inputs",
                file=self.file, attribute="PatientWeight/PatientSize", fix=fix_for("weight_kg"),
            )
        return value

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name).as_dict() for name in self.NAMES}


_FIXABLE = ("injection_datetime", "injected_bq", "weight_kg", "height_cm", "sex", "nuclide")


def record_missing(inputs: dict[str, Sourced], errors: dict[str, SUVError], name: str, error: SUVError) -> None:
    inputs[name] = Sourced(None, error.attribute or "absent", error.message)
    errors[name] = error


def apply_overrides(inputs: SuvInputs, overrides: SuvOverrides | None) -> SuvInputs:
    """Replace header values by the overrides given; log each replacement."""
    if overrides is None:
        return inputs
    for name, value in overrides.given().items():
        if name == "nuclide":
            nuclide = get_nuclide(str(value))
            replace = {"nuclide": Sourced(nuclide.name, "override: nuclide"),
                       "half_life_s": Sourced(nuclide.half_life_s, "override: nuclide (immunopet.nuclides table)")}
        else:
            replace = {name: Sourced(value, f"override: {name}")}
        for key, item in replace.items():
            old: Sourced = getattr(inputs, key)
            inputs.replaced[key] = old if old.value is not None else None
            inputs.missing.pop(key, None)
            setattr(inputs, key, item)
            shown = old.value.isoformat() if isinstance(old.value, datetime) else old.value
            log.info("%s: override %s = %s (header %s: %s)", inputs.file, key, item.value, old.source, shown)
    return inputs
