"""VOIs drawn once (on one scan) mapped onto another scan of the same patient through registration.

Two transforms take part (each from :mod:`immunopet.register`, mapping a scan's frame to the
reference scan's frame): ``drawn`` of the scan the VOI was drawn on, and ``target`` of the scan it
is measured on (identity for the reference scan itself). A point ``p`` drawn on scan D lands at
``target^-1(drawn(p))`` on scan T; a mask is pulled voxel by voxel the other way round.

- spheres and seeds: their centre is mapped; a sphere keeps its volume (rigid or not);
- masks: resampled onto the target grid (the scan it was drawn on must be the reference or be
  registered rigidly: a deformable transform is inverted for points only). A boolean mask is mapped
  by its signed distance (shape-based interpolation; Raya SP, Udupa JK, IEEE Trans Med Imaging
  1990;9:32-42; Herman GT, Zheng J, Bucholtz CA, IEEE Comput Graph Appl 1992;12:69-79): the
  distance to the boundary, positive inside, is interpolated linearly and its sign taken. Nearest
  neighbour would put the boundary on the drawn grid's voxel steps a second time; on the
  simulator's moving patients (4 mm voxels, true transforms) it biased a spleen's SUVmean by
  -2.8 to -3.0 % against the same organ drawn on the target grid, the signed distance with the
  drawn volume kept by -2.0 to -2.5 % (docs/registration.md). Fractions are mapped by linear
  interpolation of the mask.
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


#: Voxels of background kept around a mask's bounding box for its signed distance (at least 2: the
#: linear interpolation near the box's edge needs outside values on both sides of the boundary).
DISTANCE_MARGIN = 3
#: Signed distance given to points outside the box (mm): far outside.
FAR_OUTSIDE_MM = -1.0e6
#: Decimals (of mm) to which signed distances are compared when voxels are kept by volume.
TIE_DECIMALS = 3


def _inside(mask: Image) -> np.ndarray:
    values = np.asarray(mask.array)
    return values if values.dtype == np.bool_ else values > 0.5


def signed_distance(mask: Image, inside: np.ndarray | None = None) -> Image:
    """Signed distance of each voxel centre to the mask (mm) on the mask's bounding box grown by
    :data:`DISTANCE_MARGIN` voxels: ``edt(inside) - edt(outside)``, so an inside voxel next to an
    outside one holds ``+spacing`` and the outside one ``-spacing``, and the zero of the linear
    interpolation between them lies halfway, where the drawn boundary is."""
    from scipy import ndimage

    where = np.argwhere(_inside(mask) if inside is None else inside)
    if where.size == 0:
        raise ValueError("the mask is empty: nothing to map")
    low = where.min(axis=0) - DISTANCE_MARGIN  # may lie beyond the grid: background there too
    box = np.zeros(where.max(axis=0) - low + DISTANCE_MARGIN + 1, dtype=bool)
    box[tuple((where - low).T)] = True
    spacing = tuple(float(v) for v in mask.spacing)
    distance = ndimage.distance_transform_edt(box, sampling=spacing) - ndimage.distance_transform_edt(~box, sampling=spacing)
    affine = np.array(mask.affine, dtype=np.float64)
    affine[:3, 3] = mask.index_to_world(low.astype(np.float64))
    return Image(distance.astype(np.float32), affine, "mm", dict(mask.meta))


def map_mask(mask: Image, target_grid: Image, *, drawn: SimpleITK.Transform, target: SimpleITK.Transform,
             fractional: bool = False) -> Image:
    """A mask drawn on one scan (on any grid of that scan's frame) on ``target_grid``.

    Returns a bool mask (by signed distance, module docstring), or float32 fractions (0..1, linear
    interpolation of the mask) with ``fractional``. An empty mask maps to an empty mask. Only the
    target voxels that can reach the mask are resampled (:func:`target_window`).
    """
    from immunopet.register.transforms import resample_to_scan

    chain = _pull_transform(drawn, target)
    inside = _inside(mask)
    if not inside.any():
        empty = np.zeros(target_grid.shape, dtype=np.float32 if fractional else bool)
        return target_grid.with_array(empty, units="fraction" if fractional else "mask")
    if fractional:
        source = _cropped(mask.with_array(np.asarray(mask.array, dtype=np.float32)), inside, margin=1)
        window = target_window(source, target_grid, chain)
        mapped = resample_to_scan(source, _sub_grid(target_grid, window), chain, interpolation="linear").array
        return target_grid.with_array(_pasted(np.clip(mapped, 0, 1).astype(np.float32), window, target_grid),
                                      units="fraction")
    distance_image = signed_distance(mask, inside)
    window = target_window(distance_image, target_grid, chain)
    distance = resample_to_scan(distance_image, _sub_grid(target_grid, window), chain, interpolation="linear",
                                default=FAR_OUTSIDE_MM).array
    drawn_ml = float(inside.sum()) * mask.voxel_volume_ml
    inside_full = _pasted(distance > 0, window, target_grid)
    kept = _kept_by_volume(distance, drawn_ml, target_grid.voxel_volume_ml, chain)
    if kept is None:
        return target_grid.with_array(inside_full, units="mask")
    kept_full = _pasted(kept, window, target_grid)
    # a mask cut by the target's field of view keeps only what lies inside it: the zero level
    cut = _touches_faces(kept_full) or _touches_faces(inside_full)
    return target_grid.with_array(inside_full if cut else kept_full, units="mask")


Window = tuple[slice, slice, slice]


def target_window(source: Image, target_grid: Image, chain: SimpleITK.Transform) -> Window:
    """The index box of ``target_grid`` whose voxel centres can pull a value from ``source`` through
    ``chain`` (target frame -> source frame): for a linear chain the source grid's outer corners
    mapped by its inverse, widened by one voxel and clipped to the grid (maybe empty); for a deformable
    chain the whole grid."""
    from immunopet.register.transforms import exact_inverse, to_reference

    whole = tuple(slice(0, n) for n in target_grid.shape)
    inverse = exact_inverse(chain)
    if inverse is None:
        return whole  # type: ignore[return-value]
    ends = [(-0.5, n - 0.5) for n in source.shape]
    corners = np.array([[i, j, k] for i in ends[0] for j in ends[1] for k in ends[2]])
    ijk = target_grid.world_to_index(to_reference(inverse, source.index_to_world(corners)))
    low = np.clip(np.floor(ijk.min(axis=0)).astype(int) - 1, 0, target_grid.shape)
    high = np.clip(np.ceil(ijk.max(axis=0)).astype(int) + 2, low, target_grid.shape)
    return tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))  # type: ignore[return-value]


def _sub_grid(grid: Image, window: Window) -> Image:
    """An image on the voxels ``window`` of ``grid`` (its values are not used: zeros)."""
    affine = np.array(grid.affine, dtype=np.float64)
    affine[:3, 3] = grid.index_to_world(np.array([w.start for w in window], dtype=np.float64))
    return Image(np.zeros(tuple(w.stop - w.start for w in window), dtype=np.float32), affine, grid.units,
                 dict(grid.meta))


def _pasted(values: np.ndarray, window: Window, grid: Image) -> np.ndarray:
    out = np.zeros(grid.shape, dtype=values.dtype)
    out[window] = values
    return out


def _cropped(image: Image, inside: np.ndarray, *, margin: int) -> Image:
    """``image`` on the bounding box of ``inside`` widened by ``margin`` voxels (within the grid)."""
    where = np.argwhere(inside)
    low = np.maximum(where.min(axis=0) - margin, 0)
    high = np.minimum(where.max(axis=0) + margin + 1, image.shape)
    window = tuple(slice(int(a), int(b)) for a, b in zip(low, high, strict=True))
    affine = np.array(image.affine, dtype=np.float64)
    affine[:3, 3] = image.index_to_world(low.astype(np.float64))
    return Image(np.ascontiguousarray(np.asarray(image.array)[window]), affine, image.units, dict(image.meta))


def _linear_volume_scale(transform: SimpleITK.Transform) -> float:
    """``|det|`` of the linear steps of a transform (volume in its output per volume in its input).

    The local volume changes of a deformable step are not carried over: an organ keeps its volume
    from one scan day to the next, and a B-spline's change of an organ's volume is registration error
    (on the simulator's moving patients the zero level of a deformably mapped brain grew it by 1-6 %
    into the hot skull marrow: SUVmean +2.5 to +4.6 %).
    """
    import SimpleITK as sitk

    if not transform.IsLinear():
        if transform.GetName() != "CompositeTransform":
            return 1.0
        composite = sitk.CompositeTransform(transform)
        return float(np.prod([_linear_volume_scale(composite.GetNthTransform(k))
                              for k in range(composite.GetNumberOfTransforms())]))
    origin = np.asarray(transform.TransformPoint((0.0, 0.0, 0.0)))
    columns = [np.asarray(transform.TransformPoint(tuple(axis))) - origin for axis in np.eye(3)]
    return abs(float(np.linalg.det(np.column_stack(columns))))


def _kept_by_volume(distance: np.ndarray, drawn_ml: float, voxel_ml: float,
                    chain: SimpleITK.Transform) -> np.ndarray | None:
    """The voxels of largest signed distance that hold the drawn volume (times the linear steps'
    ``|det|``), or None when that is no voxel or every voxel the mask can reach. The zero level alone
    loses up to 10 % of a 3-voxel-radius ball, whose thin edges interpolate below zero, can lose a
    one-voxel mask altogether, and under a deformable step grows or shrinks an organ. The caller keeps
    the zero level instead for a mask cut by the target's field of view."""
    n = int(round(drawn_ml / _linear_volume_scale(chain) / voxel_ml))
    box = np.flatnonzero(distance > FAR_OUTSIDE_MM / 2)  # the box's voxels: the others are far outside
    if not 0 < n < box.size:
        return None
    # distances to the micrometre, ties taken in index order: the same voxels whichever window of the
    # grid was resampled (its float rounding differs by ~1e-6 mm) and on every run
    values = np.round(distance.flat[box], TIE_DECIMALS)
    threshold = np.partition(values, box.size - n)[box.size - n]
    above = box[values > threshold]
    tied = box[values == threshold][: n - above.size]
    kept = np.zeros(distance.shape, dtype=bool)
    kept.flat[above] = True
    kept.flat[tied] = True
    return kept


def _touches_faces(mask: np.ndarray) -> bool:
    return any(face.any() for face in (mask[0], mask[-1], mask[:, 0], mask[:, -1], mask[:, :, 0], mask[:, :, -1]))
