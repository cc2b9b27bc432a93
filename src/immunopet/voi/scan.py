"""Measure every VOI of one PET scan from files: the Python side of ``immunopet measure``.

The PET is a DICOM series folder (read by :func:`immunopet.dicom.load_pet`, SUV of the kind asked
for) or a NIfTI volume already in SUV or Bq/mL, as autoPET or dcm2niix leave them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from immunopet.errors import ImmunoPETError, VOIError
from immunopet.image import Image

log = logging.getLogger(__name__)

SUV_UNITS = {"SUVbw": "bw", "SUVlbm": "lbm", "SUVbsa": "bsa", "SUVibw": "ibw"}


@dataclass(frozen=True)
class PetInput:
    """An SUV image with, when known, its activity image and injected activity at reference time."""

    suv: Image
    activity: Image | None = None
    injected_bq: float | None = None
    notes: list[str] = field(default_factory=list)


def is_nifti(path: str | Path) -> bool:
    return str(path).lower().endswith((".nii", ".nii.gz"))


def load_pet_input(
    path: str | Path, *, series_uid: str | None = None, suv: str = "bw", units: str | None = None,
    injected_mbq: float | None = None, weight_kg: float | None = None, assume_unit_slope: bool = False,
) -> PetInput:
    """Read the PET as SUV (+ Bq/mL and injected activity when known). See module docstring.

    ``assume_unit_slope``: DICOM PET slices without RescaleSlope are read with slope 1 (logged)
    instead of being refused, as ``immunopet convert --assume-unit-slope`` does.
    """
    path = Path(path)
    if not path.exists():
        raise VOIError("PET not found", file=path, fix="give a DICOM series folder or a NIfTI file")
    injected_bq = None if injected_mbq is None else float(injected_mbq) * 1e6
    if not is_nifti(path):
        from immunopet.dicom import SuvOverrides, load_pet

        given = injected_bq is not None or weight_kg is not None
        overrides = SuvOverrides(injected_bq=injected_bq, weight_kg=weight_kg) if given else None
        scan = load_pet(path, series_uid=series_uid, overrides=overrides, assume_unit_slope=assume_unit_slope)
        return PetInput(scan.suv(suv), scan.image, float(scan.injected_bq_at_reference))
    if units is None:
        raise VOIError("a NIfTI PET needs its units", file=path, attribute="--units",
                       fix="give --units BQML or --units SUVbw (SUVlbm, SUVbsa, SUVibw)")
    from immunopet.dicom.files import require_regular_file

    require_regular_file(path, error=VOIError)
    image = Image.from_nifti(str(path))
    if not np.isfinite(image.array).all():
        bad = int(np.count_nonzero(~np.isfinite(image.array)))
        raise VOIError(f"{bad} voxel value(s) of the PET are NaN or infinite: metrics would be undefined", file=path,
                       fix="replace them (e.g. by 0 outside the body) or re-export the PET from its DICOM series")
    units = {u.lower(): u for u in ("BQML", *SUV_UNITS)}.get(units.lower(), units)
    if units == "BQML":
        if injected_bq is None or weight_kg is None or suv != "bw":
            raise VOIError("SUV from a Bq/mL NIfTI needs the injected activity and the weight (body-weight SUV only)",
                           file=path, attribute="--injected-mbq / --weight-kg",
                           fix="give --injected-mbq (decayed to the image reference time) and --weight-kg")
        factor = weight_kg * 1000.0 / injected_bq
        suv_image = image.with_array(image.array * np.float32(factor), units="SUVbw")
        return PetInput(suv_image, image.with_array(image.array, units="BQML"), injected_bq)
    if units not in SUV_UNITS:
        raise VOIError(f"unknown units {units!r}", file=path, attribute="--units",
                       fix="use BQML, SUVbw, SUVlbm, SUVbsa or SUVibw")
    if SUV_UNITS[units] != suv:
        log.warning("%s is already in %s: --suv %s ignored", path, units, suv)
    suv_image = image.with_array(image.array, units=units)
    if units == "SUVbw" and injected_bq is not None and weight_kg is not None:
        # C [Bq/mL] = SUVbw * D_ref [Bq] / W [g]
        activity = image.with_array(image.array * np.float32(injected_bq / (weight_kg * 1000.0)), units="BQML")
        return PetInput(suv_image, activity, injected_bq)
    note = ("pct_id and mean_bqml need Bq/mL: the NIfTI PET is in SUV, so they are left empty "
            "(for SUVbw give --injected-mbq and --weight-kg to recover Bq/mL)")
    log.info(note)
    return PetInput(suv_image, None, injected_bq, [note])


def parse_sphere(spec: str, number: int) -> tuple[str, list[float], float]:
    """``"X,Y,Z,DIAM_MM[,NAME]"`` -> (name, centre, diameter)."""
    parts = [p.strip() for p in spec.split(",")]
    try:
        if len(parts) not in (4, 5):
            raise ValueError("expected 4 or 5 fields")
        centre, diameter = [float(p) for p in parts[:3]], float(parts[3])
    except ValueError as bad:
        raise VOIError(f"cannot read sphere {spec!r} ({bad})", attribute="--sphere",
                       fix="write X,Y,Z,DIAM_MM[,NAME] in LPS mm, e.g. --sphere 12.5,-30,104,16.9,blood_pool") from bad
    return (parts[4] if len(parts) == 5 else f"sphere_{number}"), centre, diameter


def collect_masks(
    grid: Image, *, masks: Sequence[str] = (), labels: str | None = None, rtstructs: Sequence[str] = (),
    rois: Sequence[str] | None = None, segs: Sequence[str] = (), spheres: Sequence[str] = (),
    segmenters: Sequence[str] = (), fractional: bool = False,
) -> tuple[dict[str, np.ndarray], list[str]]:
    """All VOIs from all sources on ``grid``; a failing source is recorded and the rest goes on."""
    from immunopet.voi.nifti_masks import masks_from_nifti, read_label_table
    from immunopet.voi.rtstruct import masks_from_rtstruct
    from immunopet.voi.seg import masks_from_seg
    from immunopet.voi.segmenter import masks_from_segmenter
    from immunopet.voi.spheres import sphere_mask

    table = read_label_table(labels) if labels else None
    jobs = [(f"mask {m}", lambda m=m: masks_from_nifti(m, grid, labels=table, fractional=fractional)) for m in masks]
    jobs += [(f"rtstruct {r}", lambda r=r: masks_from_rtstruct(r, grid, roi_names=rois or None)) for r in rtstructs]
    jobs += [(f"seg {s}", lambda s=s: masks_from_seg(s, grid)) for s in segs]
    jobs += [(f"segmenter {d}", lambda d=d: masks_from_segmenter(d, grid, fractional=fractional)) for d in segmenters]
    for n, spec in enumerate(spheres, start=1):
        def one(spec=spec, n=n):
            name, centre, diameter = parse_sphere(spec, n)
            return {name: sphere_mask(grid, centre, diameter_mm=diameter, name=name)}
        jobs.append((f"sphere {spec}", one))
    found: dict[str, np.ndarray] = {}
    errors: list[str] = []
    for what, job in jobs:
        try:
            for name, mask in job().items():
                if name in found:
                    raise VOIError(f"VOI name {name!r} given twice", attribute="voi_id", fix="rename one of them")
                found[name] = mask
        except ImmunoPETError as error:
            log.error("%s: %s", what, error)
            errors.append(f"{what}: {error}")
    return found, errors


def measure_scan(
    pet: str | Path, *, series_uid: str | None = None, suv: str = "bw", units: str | None = None,
    injected_mbq: float | None = None, weight_kg: float | None = None, assume_unit_slope: bool = False,
    blood_pool: str = "blood_pool", **sources,
) -> pd.DataFrame:
    """Metrics of every VOI of one PET (``sources``: the keyword arguments of :func:`collect_masks`).

    ``DataFrame.attrs["errors"]`` lists the VOI sources that failed; ``attrs["notes"]`` what was left empty.
    """
    from immunopet.voi.measure import measure_masks

    data = load_pet_input(pet, series_uid=series_uid, suv=suv, units=units, injected_mbq=injected_mbq,
                          weight_kg=weight_kg, assume_unit_slope=assume_unit_slope)
    masks, errors = collect_masks(data.suv, **sources)
    if not masks:
        raise VOIError("no VOI could be made" + (f": {'; '.join(errors)}" if errors else ""),
                       fix="give --mask, --rtstruct, --seg, --sphere or --segmenter")
    table = measure_masks(data.suv, masks, activity=data.activity, injected_bq=data.injected_bq, blood_pool=blood_pool)
    table.attrs["errors"] = errors
    table.attrs["notes"] = list(data.notes)
    table.attrs["suv_units"] = data.suv.units
    return table
