"""Using a stored transform: map points and masks between a scan and its reference scan.

A transform ``T`` (see :mod:`immunopet.register.pair`) maps a point of the measured scan's patient
frame to the reference scan's frame. Hence:

- a mask or image of the reference is put on a scan's grid by pull resampling through ``T``
  (nearest neighbour for labels, linear for fractions);
- a point of the reference (sphere centre, seed) is mapped onto the scan by ``T^-1``: exact for a
  rigid transform, and for a deformable one by fixed-point iteration ``x <- x + (p - T(x))`` until
  ``|T(x) - p| < 0.01 mm``;
- a point of the scan is mapped to the reference by ``T`` itself.

Transform files are ITK text files (``.tfm``), written to a temporary file in the same folder and
renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from immunopet.errors import RegistrationError
from immunopet.image import Image

if TYPE_CHECKING:
    import SimpleITK

INVERSE_TOLERANCE_MM = 0.01
INVERSE_MAX_STEPS = 100


def write_transform(transform: SimpleITK.Transform, path: str | os.PathLike[str]) -> Path:
    """Write ``transform`` as an ITK transform file (atomically: temporary file + rename)."""
    import SimpleITK as sitk

    from immunopet.atomic import atomic_write

    return atomic_write(Path(path), lambda partial: sitk.WriteTransform(transform, str(partial)), keep_suffix=True)


def read_transform(path: str | os.PathLike[str]) -> SimpleITK.Transform:
    """Read an ITK transform file; a composite file comes back as its single transform when it holds one."""
    import SimpleITK as sitk

    from immunopet.register.transform_text import check_transform_text

    path = Path(path)
    if not path.is_file():
        raise RegistrationError("transform file not found", file=path, fix="run immunopet register STUDY_DIR")
    check_transform_text(path)  # ITK's own reader crashes the process on some damaged files
    try:
        transform = sitk.ReadTransform(str(path))
    except RuntimeError as bad:
        raise RegistrationError(f"not a readable ITK transform file ({str(bad).splitlines()[-1]})", file=path,
                                fix="delete it and run immunopet register STUDY_DIR again") from bad
    if transform.GetDimension() != 3:
        raise RegistrationError(f"expected a 3-D transform, got {transform.GetDimension()}-D", file=path)
    return transform


def to_reference(transform: SimpleITK.Transform, points_lps: np.ndarray) -> np.ndarray:
    """Points ``(N, 3)`` of the measured scan's frame mapped into the reference frame (``T(p)``)."""
    points = np.atleast_2d(np.asarray(points_lps, dtype=np.float64))
    return np.array([transform.TransformPoint(tuple(map(float, p))) for p in points]).reshape(points.shape)


def from_reference(transform: SimpleITK.Transform, points_lps: np.ndarray) -> np.ndarray:
    """Points ``(N, 3)`` of the reference frame mapped into the measured scan's frame (``T^-1(p)``)."""
    points = np.atleast_2d(np.asarray(points_lps, dtype=np.float64))
    inverse = exact_inverse(transform)
    if inverse is not None:
        return to_reference(inverse, points)
    out = np.empty_like(points)
    for n, target in enumerate(points):
        x = target.copy()
        for _ in range(INVERSE_MAX_STEPS):
            error = target - np.asarray(transform.TransformPoint(tuple(map(float, x))))
            x += error
            if np.linalg.norm(error) < INVERSE_TOLERANCE_MM:
                break
        else:
            raise RegistrationError(
                f"the transform cannot be inverted at {target.round(1).tolist()} mm (no convergence): "
                "the deformation folds there", fix="register rigidly only (registration: deformable: false)")
        out[n] = x
    return out


def exact_inverse(transform: SimpleITK.Transform) -> SimpleITK.Transform | None:
    """The closed-form inverse of a linear (rigid, affine) transform, or None for deformable ones."""
    import SimpleITK as sitk

    if isinstance(transform, sitk.CompositeTransform):  # linear too when all its steps are: not ITK's inverse
        steps = [exact_inverse(transform.GetNthTransform(i)) for i in range(transform.GetNumberOfTransforms())]
        if any(step is None for step in steps):
            return None
        inverse = sitk.CompositeTransform(3)
        for step in reversed(steps):
            inverse.AddTransform(step)
        return inverse
    if transform.IsLinear() and hasattr(transform, "GetMatrix"):
        # T(p) = M (p - c) + c + t  =>  T^-1(q) = M^-1 (q - c) + c - M^-1 t, inverted in numpy: ITK's own
        # GetInverse of an Euler transform returns NaN for denormal angles
        matrix = np.asarray(transform.GetMatrix(), dtype=float).reshape(3, 3)
        inverse_matrix = np.linalg.inv(matrix)
        inverse = sitk.AffineTransform(3)
        inverse.SetCenter(transform.GetCenter())
        inverse.SetMatrix(tuple(inverse_matrix.ravel()))
        inverse.SetTranslation(tuple(-inverse_matrix @ np.asarray(transform.GetTranslation(), dtype=float)))
        return inverse
    if transform.IsLinear():
        return transform.GetInverse()  # a translation (no matrix)
    return None


def resample_to_scan(reference_image: Image, scan_grid: Image, transform: SimpleITK.Transform, *,
                     interpolation: str = "nearest", default: float = 0.0) -> Image:
    """``reference_image`` (drawn on the reference scan) on ``scan_grid`` through ``transform``.

    ``interpolation`` is ``"nearest"`` (labels: values are kept exactly) or ``"linear"`` (fractions
    or intensities). Points falling outside the reference image take ``default``.
    """
    import SimpleITK as sitk

    modes = {"nearest": sitk.sitkNearestNeighbor, "linear": sitk.sitkLinear}
    if interpolation not in modes:
        raise RegistrationError(f"interpolation must be nearest or linear, got {interpolation!r}")
    source = reference_image
    if interpolation == "linear" or source.array.dtype == np.bool_:
        source = source.with_array(np.asarray(source.array, dtype=np.float32))
    # the output grid from the scan's geometry alone: its voxels are not copied into a reference image
    size = [int(n) for n in scan_grid.shape]
    out = sitk.Resample(source.to_sitk(), size, transform, modes[interpolation],
                        [float(o) for o in scan_grid.origin], [float(v) for v in scan_grid.spacing],
                        [float(d) for d in scan_grid.direction.ravel()], float(default), sitk.sitkUnknown)
    array = sitk.GetArrayFromImage(out).transpose(2, 1, 0)
    if reference_image.array.dtype == np.bool_:
        array = array > 0.5
    return Image(array, scan_grid.affine, reference_image.units, dict(reference_image.meta))
