"""VOIs drawn once (on one scan) mapped onto another scan of the same patient through registration.

Two transforms take part (each from :mod:`immunopet.register`, mapping a scan's frame to the
reference scan's frame): ``drawn`` of the scan the VOI was drawn on, and ``target`` of the scan it
is measured on (identity for the reference scan itself). A point ``p`` drawn on scan D lands at
``target^-1(drawn(p))`` on scan T; a mask is pulled voxel by voxel the other way round.

- spheres and seeds: their centre is mapped; a sphere keeps its volume (rigid or not);
- masks: resampled onto the target grid (the scan it was drawn on must be the reference or be
  registered rigidly: a deformable transform is inverted for points only), nearest neighbour (labels) or linear (fractions, then
  thresholded at 0.5 when a boolean mask is asked for).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from immunopet.image import Image

if TYPE_CHECKING:
    import SimpleITK


def map_centre(centre_lps: Sequence[float], *, drawn: SimpleITK.Transform,
               target: SimpleITK.Transform) -> tuple[float, float, float]:
    """Centre of a sphere or seed drawn on one scan, in the target scan's patient frame."""
    from immunopet.register.transforms import from_reference, to_reference

    in_reference = to_reference(drawn, np.asarray(centre_lps, dtype=np.float64).reshape(1, 3))
    mapped = from_reference(target, in_reference)[0]
    return float(mapped[0]), float(mapped[1]), float(mapped[2])


def _pull_transform(drawn: SimpleITK.Transform, target: SimpleITK.Transform) -> SimpleITK.Transform:
    """``drawn^-1 o target``: target frame -> reference frame -> the drawn scan's frame (for pulling).

    Needs the closed-form inverse of ``drawn``: a mask drawn on a scan registered with a B-spline
    step must be drawn on the reference scan instead (or the scans registered rigidly).
    """
    import SimpleITK as sitk

    from immunopet.errors import RegistrationError
    from immunopet.register.transforms import exact_inverse

    inverse = exact_inverse(drawn)
    if inverse is None:
        raise RegistrationError(
            "a mask drawn on a scan registered with a deformable step cannot be mapped to other days",
            attribute="drawn_on", fix="draw the mask on the reference scan, or register rigidly")
    return sitk.CompositeTransform([inverse, target])  # inverse(target(x))


def map_mask(mask: Image, target_grid: Image, *, drawn: SimpleITK.Transform, target: SimpleITK.Transform,
             fractional: bool = False) -> Image:
    """A mask drawn on one scan (on any grid of that scan's frame) on ``target_grid``.

    Returns a bool mask, or float32 fractions (0..1, linear interpolation) with ``fractional``.
    """
    from immunopet.register.transforms import resample_to_scan

    chain = _pull_transform(drawn, target)
    source = mask.with_array(np.asarray(mask.array, dtype=np.float32))
    mapped = resample_to_scan(source, target_grid, chain, interpolation="linear" if fractional else "nearest")
    if fractional:
        return mapped.with_array(np.clip(mapped.array, 0, 1).astype(np.float32), units="fraction")
    return mapped.with_array(mapped.array > 0.5, units="mask")
