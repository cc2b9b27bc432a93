"""One registration job from files: load both scans, register, assess, write the transform file.

A job is a plain dict of paths and settings (so it can run in a worker process); its result is a
plain dict that the caller stores. A job that fails returns ``status: failed`` with the reason: one
bad scan never stops the others.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from immunopet.errors import ImmunoPETError
from immunopet.image import Image
from immunopet.register.params import QualityLimits, RegistrationParams

log = logging.getLogger(__name__)


def load_scan_image(path: str | Path, modality: str) -> Image:
    """A CT (HU) or PET image from a DICOM folder or a NIfTI file."""
    path = Path(path)
    if path.is_file() and path.name.lower().endswith((".nii", ".nii.gz")):
        return Image.from_nifti(str(path), units="HU" if modality == "CT" else "")
    from immunopet.dicom import load_image_series

    return load_image_series(path)


def _write_snapshot(fixed: Image, moving: Image, transform: Any, job: dict[str, Any]) -> None:
    """The report's checkerboard plane (:mod:`immunopet.register.snapshot`); a failure only loses the figure."""
    from immunopet.register.snapshot import coronal_snapshot, snapshot_path, write_snapshot

    try:
        planes = coronal_snapshot(fixed, moving, transform, modality=job["modality"])
        write_snapshot(planes, snapshot_path(job["transform_path"]))
    except (RuntimeError, OSError, ValueError) as error:
        log.warning("registration of %s: no checkerboard snapshot (%s: %s)", job["scan_id"],
                    error.__class__.__name__, error)


def run_pairs(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run jobs one after the other, each reference image read once (the jobs of one patient share it)."""
    cache: dict[tuple[str, str], Image] = {}
    return [run_pair(job, cache=cache) for job in jobs]


def run_pair(job: dict[str, Any], *, cache: dict[tuple[str, str], Image] | None = None) -> dict[str, Any]:
    """Run one job (``cache``: images already read, by path and modality, for the reference image;
    a one-off cache when not given).

    Keys of ``job``: ``scan_id``, ``reference_scan_id``, ``fixed`` and ``moving`` (paths of the
    measured and the reference scan's image), ``modality`` (``CT``/``PT``), ``params``
    (:class:`RegistrationParams` fields), ``limits`` (:class:`QualityLimits` fields), ``transform_path``,
    optional ``landmarks`` (``[points_in_fixed, points_in_moving]``) and ``threads``.
    """
    import SimpleITK as sitk

    from immunopet.register.pair import register_pair
    from immunopet.register.quality import assess
    from immunopet.register.transforms import write_transform

    if job.get("threads"):
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(int(job["threads"]))
    cache = {} if cache is None else cache
    params = RegistrationParams.from_dict(job["params"])
    limits = QualityLimits.from_dict(job.get("limits", {}))
    out: dict[str, Any] = {"scan_id": job["scan_id"], "reference_scan_id": job["reference_scan_id"],
                           "modality": job["modality"], "input_hash": job.get("input_hash"),
                           "transform_path": job["transform_path"], "status": "failed", "error": None}
    try:
        fixed = load_scan_image(job["fixed"], job["modality"])
        key = (str(job["moving"]), job["modality"])
        if key not in cache:
            cache[key] = load_scan_image(job["moving"], job["modality"])
        moving = cache[key]
        result = register_pair(fixed, moving, modality=job["modality"], params=params)
        landmarks = job.get("landmarks")
        pairs = (np.asarray(landmarks[0]), np.asarray(landmarks[1])) if landmarks else None
        quality = assess(fixed, moving, result.transform, modality=job["modality"], landmarks=pairs,
                         limits=limits, params=params)
        write_transform(result.transform, job["transform_path"])
        _write_snapshot(fixed, moving, result.transform, job)
    except (ImmunoPETError, RuntimeError, OSError, ValueError) as error:
        out["error"] = str(error) if isinstance(error, ImmunoPETError) else f"{error.__class__.__name__}: {error}"
        log.warning("registration of %s failed: %s", job["scan_id"], out["error"])
        return out
    out.update(status="done", seconds=round(result.seconds, 3), stop=result.stop,
               deformable=params.deformable, voxel_mm=float(np.min(fixed.spacing)), **quality.as_dict())
    return out
