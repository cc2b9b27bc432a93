"""One worker task = one scan: load the PET, build its VOIs, measure them all at once.

Tasks carry file paths and table rows only (never volumes), so they travel cheaply to a process
pool or a Dask cluster; the result carries table rows back. Workers never touch the store.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from immunopet.errors import ImmunoPETError, StudyError
from immunopet.image import Image

log = logging.getLogger(__name__)

#: Relative difference allowed between the header's half-life and the study's nuclide.
HALF_LIFE_TOLERANCE = 0.01


@dataclass(frozen=True)
class ScanTask:
    """Everything a worker needs for one scan (picklable; paths are absolute)."""

    scan_id: str
    root: str
    pet: str
    series_uid: str | None
    pet_units: str | None
    overrides: dict[str, Any]
    vois: list[dict[str, Any]]
    suv_type: str
    nuclide: str


@dataclass
class ScanResult:
    """What a worker hands back for one scan."""

    scan_id: str
    status: str  # "done" | "failed"
    error: str | None = None
    measurements: list[dict[str, Any]] = field(default_factory=list)
    voi_errors: dict[str, str] = field(default_factory=dict)
    audit: dict[str, Any] | None = None
    hours_pi: float | None = None
    suv_factor: float | None = None
    injected_bq: float | None = None
    seconds: float = 0.0
    projections: Any = None  # immunopet.projection.Projections of the SUV volume, for the report's MIPs


@dataclass(frozen=True)
class LoadedPet:
    """The PET of one scan as the measurement needs it."""

    suv: Image
    activity: Image | None
    injected_bq: float | None
    hours_pi: float | None
    suv_factor: float | None
    audit: dict[str, Any]


def _check_half_life(pet: Any, nuclide: str, path: str) -> None:
    """The header's half-life must be the study nuclide's (``study.yaml`` ``nuclide``)."""
    from immunopet.nuclides import get_nuclide

    try:
        header = float(pet.inputs.get("half_life_s"))
    except (AttributeError, KeyError, TypeError, ValueError, ImmunoPETError):
        return  # the dicom layer refuses a PET without a usable half-life itself
    expected = get_nuclide(nuclide)
    if abs(header - expected.half_life_s) > HALF_LIFE_TOLERANCE * expected.half_life_s:
        raise StudyError(
            f"the PET header's half-life is {header / 3600:.2f} h but study.yaml says {expected.name} "
            f"({expected.half_life_s / 3600:.2f} h)",
            file=path, attribute="RadionuclideHalfLife (0018,1075)",
            fix="check the nuclide in study.yaml, or that the right PET series is listed in scans.csv",
        )


def load_scan_pet(task: ScanTask) -> LoadedPet:
    """Read the PET of ``task`` (DICOM series with overrides, or a NIfTI volume already in SUV)."""
    if task.pet.lower().endswith((".nii", ".nii.gz")):
        from immunopet.study.manifest import SUV_UNITS

        if task.pet_units != SUV_UNITS[task.suv_type]:
            raise StudyError(f"the NIfTI PET is in {task.pet_units}, the study uses {SUV_UNITS[task.suv_type]}",
                             file=task.pet, attribute="pet_units", fix="give a DICOM PET or a NIfTI in the study's SUV")
        try:
            suv = Image.from_nifti(task.pet, units=task.pet_units)
        except (OSError, ValueError) as unreadable:  # nibabel's ImageFileError is a ValueError
            raise StudyError(f"cannot read the NIfTI PET ({unreadable})", file=task.pet, attribute="pet",
                             fix="check the file (a .nii or .nii.gz volume) or give the DICOM series") from unreadable
        return LoadedPet(suv, None, None, None, None, {"source": task.pet, "stored_units": task.pet_units})
    from immunopet.dicom import SuvOverrides, load_pet

    overrides = SuvOverrides(**task.overrides) if task.overrides else None
    pet = load_pet(task.pet, series_uid=task.series_uid, overrides=overrides)
    _check_half_life(pet, task.nuclide, task.pet)
    injected = float(pet.injected_bq_at_reference)
    return LoadedPet(
        pet.suv(task.suv_type), pet.image, injected, float(pet.uptake_hours),
        float(pet.suv_factor(task.suv_type)), pet.audit(),
    )


def _clean(value: Any) -> Any:
    """numpy scalars -> Python, NaN/inf -> None (JSON and SQL friendly)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _jsonable(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_jsonable(v) for v in data]
    if hasattr(data, "isoformat"):
        return data.isoformat()
    if data is None or isinstance(data, (str, bool, int, float)) or hasattr(data, "item"):
        return _clean(data)
    return str(data)


def measure_loaded(pet: LoadedPet, vois: list[dict[str, Any]], root: Path) -> tuple[list[dict], dict[str, str]]:
    """Build every VOI and measure them in one call; a VOI that fails is returned with its reason."""
    from immunopet.voi import measure_masks

    from immunopet.study.masks import build_masks

    masks, failures = build_masks(vois, pet.suv, root=root)
    if not masks:
        return [], failures
    table = measure_masks(pet.suv, masks, activity=pet.activity, injected_bq=pet.injected_bq, blood_pool="blood_pool")
    rows = [{k: _clean(v) for k, v in row.items()} for row in table.to_dict("records")]
    return rows, failures


def quantify_scan(task: ScanTask) -> ScanResult:
    """Run one scan; never raises for bad input: a failing scan comes back with ``status="failed"``."""
    started = time.perf_counter()
    try:
        pet = load_scan_pet(task)
        rows, failures = measure_loaded(pet, task.vois, Path(task.root))
        from immunopet.projection import projections

        mips = projections(pet.suv)  # while the volume is in memory: the report need not read it again
    except ImmunoPETError as error:
        return ScanResult(task.scan_id, "failed", str(error), seconds=time.perf_counter() - started)
    except Exception as error:  # a bug or an unreadable file: recorded, the study goes on
        log.debug("scan %s failed:\n%s", task.scan_id, traceback.format_exc())
        return ScanResult(task.scan_id, "failed", f"{error.__class__.__name__}: {error}",
                          seconds=time.perf_counter() - started)
    return ScanResult(
        task.scan_id, "done", None, rows, failures, _jsonable(pet.audit), pet.hours_pi, pet.suv_factor,
        pet.injected_bq, time.perf_counter() - started, mips,
    )
