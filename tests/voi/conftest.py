"""Fixtures of the VOI tests: real PET series read independently with pydicom, geometry factories."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from immunopet.image import Image


def _read_series(folder: Path) -> Image:
    """Independent reader (pydicom): slices sorted along the normal, per-slice rescale applied."""
    import pydicom

    slices = [pydicom.dcmread(str(p)) for p in sorted(folder.glob("*.dcm"))]
    iop = np.asarray(slices[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    slices.sort(key=lambda ds: float(np.dot(normal, np.asarray(ds.ImagePositionPatient, dtype=float))))
    positions = np.array([np.asarray(ds.ImagePositionPatient, dtype=float) for ds in slices])
    row_mm, col_mm = (float(v) for v in slices[0].PixelSpacing)
    affine = np.eye(4)
    affine[:3, 0] = iop[:3] * col_mm
    affine[:3, 1] = iop[3:] * row_mm
    affine[:3, 2] = (positions[-1] - positions[0]) / (len(slices) - 1)
    affine[:3, 3] = positions[0]
    array = np.stack(
        [ds.pixel_array.T * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in slices], axis=-1
    ).astype(np.float32)
    meta = {"frame_of_reference_uid": str(slices[0].FrameOfReferenceUID), "files": [str(ds.filename) for ds in slices]}
    return Image(array, affine, str(slices[0].get("Units", "")), meta)


@pytest.fixture(scope="session")
def read_series():
    """The independent pydicom series reader, as a callable."""
    return _read_series


@pytest.fixture(scope="session")
def ge_pet(shared_data) -> Image:
    """The GE FDG PET of tcia-sts-001 in Bq/mL (units as stored), with its frame of reference UID."""
    return _read_series(shared_data / "tcia-sts-001-ge-fdg" / "pet")


@pytest.fixture()
def aniso_grid():
    """Factory: an image grid with anisotropic voxels; ``array`` values default to zeros."""

    def make(shape=(30, 26, 20), spacing=(2.0, 3.0, 4.0), origin=(-30.0, -39.0, -40.0), array=None, direction=None):
        affine = np.eye(4)
        rot = np.eye(3) if direction is None else np.asarray(direction, dtype=float)
        affine[:3, :3] = rot * np.asarray(spacing, dtype=float)
        affine[:3, 3] = origin
        data = np.zeros(shape, dtype=np.float32) if array is None else array
        return Image(data, affine, "SUVbw")

    return make


@pytest.fixture()
def rotation():
    """Factory: rotation matrix about an LPS axis (0, 1, 2) by an angle in degrees."""

    def make(axis: int, degrees: float) -> np.ndarray:
        a = np.deg2rad(degrees)
        c, s = np.cos(a), np.sin(a)
        i, j = [x for x in range(3) if x != axis]
        r = np.eye(3)
        r[i, i], r[i, j], r[j, i], r[j, j] = c, -s, s, c
        return r

    return make
