"""Export: an :class:`~immunopet.image.Image` to float32 NIfTI plus a JSON sidecar.

The NIfTI affine comes from :meth:`Image.to_nifti` (LPS -> RAS, sform and qform code 1), which
ITK-SNAP, 3D Slicer and nibabel all read the same way. The sidecar ``OUT.json`` records units,
series and, for PET, every SUV input with its source (the :meth:`PetScan.audit` dictionary). The
voxels come from an image's array (:func:`write_nifti`) or slab by slab as they are converted
(:func:`write_nifti_slabs`); header and sidecar are the same either way.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from immunopet.errors import ImmunoPETError
from immunopet.image import Image, non_finite_per_slice
from immunopet.nifti_writer import write_nifti_blocks, write_nifti_file

log = logging.getLogger(__name__)


def sidecar_path(out: str | os.PathLike[str]) -> Path:
    """``OUT.json`` beside ``OUT.nii.gz`` / ``OUT.nii``."""
    out = Path(out)
    name = out.name
    for suffix in (".nii.gz", ".nii"):
        if name.endswith(suffix):
            return out.with_name(name[: -len(suffix)] + ".json")
    return out.with_name(name + ".json")


def check_output_name(out: str | os.PathLike[str]) -> Path:
    """``out`` as a Path, if it names a NIfTI file (``.nii.gz`` or ``.nii``)."""
    out = Path(out)
    if not (out.name.endswith(".nii.gz") or out.name.endswith(".nii")):
        raise ImmunoPETError("output must end in .nii.gz or .nii", file=out, fix="name the output like pet_suv.nii.gz")
    return out


def non_finite_output_error(bad: int, out: str | os.PathLike[str]) -> ImmunoPETError:
    """The error for an output holding ``bad`` NaN or infinite voxel values (nothing is written)."""
    return ImmunoPETError(f"{bad} voxel value(s) are not finite (NaN or infinite); nothing written", file=out,
                          fix="check the rescale and SUV inputs of the series (immunopet inspect)")


def write_nifti(image: Image, out: str | os.PathLike[str], *, sidecar: dict[str, Any] | None = None,
                include_identifiers: bool = False) -> Path:
    """Write ``image`` as float32 NIfTI to ``out`` and a JSON sidecar; returns the sidecar path.

    Both files are written to temporary names in the output folder and renamed when complete; the
    voxels go from the array's memory to the file (:mod:`immunopet.nifti_writer`). The sidecar
    holds no UIDs, dates or absolute paths unless ``include_identifiers``
    (:mod:`immunopet.dicom.privacy`). Non-finite voxel values are refused before writing.
    """
    out = check_output_name(out)
    array = np.asarray(image.array, dtype=np.float32)
    bad = int(non_finite_per_slice(array).sum())  # a slab at a time: no volume-sized mask
    if bad:
        raise non_finite_output_error(bad, out)
    image = image.with_array(array)
    return _write_pair(image, out, lambda nifti, temporary, compress: write_nifti_file(
        nifti, array, temporary, compress=compress), sidecar, include_identifiers)


def write_nifti_slabs(image: Image, slabs: Iterable[np.ndarray], out: str | os.PathLike[str], *,
                      sidecar: dict[str, Any] | None = None, include_identifiers: bool = False) -> Path:
    """:func:`write_nifti` for voxels that come one slab at a time instead of from ``image.array``.

    ``image`` gives the grid, units and metadata (its array only its shape, e.g. the placeholder of
    :func:`~immunopet.dicom.volume.read_headers`); ``slabs`` are float32 C-order ``(n, J, I)``
    arrays of consecutive slices ``k`` covering the volume, which is NIfTI's voxel order. An error
    raised while they are made (a non-finite slice, unreadable pixel data) leaves no file behind.
    The header and the sidecar are those :func:`write_nifti` writes for the same image.
    """
    def bytes_of(slab: np.ndarray) -> memoryview:
        if slab.dtype != np.float32 or slab.shape[1:] != image.shape[1::-1] or not slab.flags.c_contiguous:
            raise ValueError(f"expected C-order float32 slabs of shape (n, {image.shape[1]}, {image.shape[0]}), "
                             f"got {slab.dtype} {slab.shape}")
        return memoryview(slab.reshape(-1).view(np.uint8))

    return _write_pair(image, check_output_name(out), lambda nifti, temporary, compress: write_nifti_blocks(
        nifti, (bytes_of(slab) for slab in slabs), temporary, compress=compress), sidecar, include_identifiers)


def _write_pair(image: Image, out: Path, write_voxels: Callable[[Any, Path, bool], None],
                sidecar: dict[str, Any] | None, include_identifiers: bool) -> Path:
    """The NIfTI (header from ``image``, voxels by ``write_voxels(nifti, path, compress)``) and its sidecar."""
    direction = image.direction
    if not np.allclose(direction.T @ direction, np.eye(3), atol=1e-4):
        log.warning("%s: the grid is sheared (gantry tilt); the NIfTI sform keeps it exactly, the qform "
                    "and ITK-based viewers approximate it: resample the image for those viewers", out)
    out.parent.mkdir(parents=True, exist_ok=True)
    nifti = image.to_nifti()
    nifti.header["descrip"] = f"immunopet {image.units}"[:79].encode()
    nifti.header["scl_slope"], nifti.header["scl_inter"] = 1.0, 0.0
    record: dict[str, Any] = {
        "units": image.units,
        "shape": list(image.shape),
        "spacing_mm": [float(s) for s in image.spacing],
        "affine_lps": np.round(image.affine, 6).tolist(),
        "series_uid": image.meta.get("series_uid"),
        "frame_of_reference_uid": image.meta.get("frame_of_reference_uid"),
        "modality": image.meta.get("modality"),
        "source": image.meta.get("source"),
    }
    if sidecar:
        record.update(sidecar)
    from immunopet.jsonable import jsonable

    record = jsonable(json.loads(json.dumps(record, default=str)))  # NaN -> null also with identifiers
    if not include_identifiers:
        from immunopet.dicom.privacy import input_roots, redact

        record = redact(record, input_roots(image.meta.get("source")))
    path = sidecar_path(out)
    from immunopet.atomic import partial_path

    # both are renamed into place only when both are written (a volume never stands without its sidecar)
    temporary, temporary_json = partial_path(out, keep_suffix=True), partial_path(path)
    try:
        write_voxels(nifti, temporary, out.name.endswith(".gz"))
        temporary_json.write_text(json.dumps(record, indent=2, allow_nan=False) + "\n")
        os.replace(temporary, out)
        os.replace(temporary_json, path)
    finally:
        for leftover in (temporary, temporary_json):
            leftover.unlink(missing_ok=True)
    return path
