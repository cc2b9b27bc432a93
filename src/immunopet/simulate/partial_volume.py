"""Partial-volume fractions of the lesions on a scan's grid, and the true SUV map they make.

Each lesion is an analytic shape in phantom coordinates (:func:`immunopet.simulate.phantom.lesion_r2`:
ellipsoid, lobes, optional necrotic core). On a scan's grid the fraction of a voxel inside a lesion is
the share of the ``SUPERSAMPLE^3`` points of a regular sub-grid of the voxel whose phantom position
(through the scan's inverse pose) lies inside the lesion (``r^2 <= 1``) and inside the body, and the
lesion's uptake in the voxel is the mean profile ``1 - h r^2`` (``core_uptake`` inside a core) of
those points. The true SUV of a voxel is the SUV of the tissue the lesion lies in times ``1 - f`` plus
the lesion's centre SUV times its mean profile times ``f``, so the image is formed from the fractions,
and the truth's voxel values, label means and fractional volumes ``sum(f) x voxel volume`` are exact
for it. A lesion's voxels in the label map are those with ``f >= 0.5`` (the voxel of its largest
fraction when none reaches one half), the label of the largest fraction where lesions meet.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from immunopet.simulate.anatomy import LESION_LABEL_OFFSET, lesion_boxes
from immunopet.simulate.canvas import grown_box

if TYPE_CHECKING:
    from immunopet.simulate.pose import Pose

#: A lesion of ``Phantom.lesion_shapes``: ``r2(x, y, z)`` (phantom mm), heterogeneity, core, core uptake.
LesionShape = tuple[Callable[..., np.ndarray], float, float, float]

#: Sub-points per voxel along each axis (27 per voxel): fractions in steps of 1/27.
SUPERSAMPLE = 3
#: Voxels searched around a lesion's nearest-neighbour voxels (its analytic edge lies within one).
MARGIN = 2


@dataclass(frozen=True)
class LesionFractions:
    """One lesion on one scan grid: the box it can touch, the fraction of each voxel of the box inside
    it and the lesion's mean profile there (1 where the fraction is 0)."""

    label: int
    box: tuple[slice, slice, slice]
    fraction: np.ndarray
    profile: np.ndarray

    @property
    def volume_voxels(self) -> float:
        """The lesion's volume in voxels: the sum of its fractions."""
        return float(self.fraction.sum())


def _sub_offsets(voxel: np.ndarray) -> np.ndarray:
    steps = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE - 0.5
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    return grid * voxel


def lesion_fractions(nearest: np.ndarray, tissue: np.ndarray, affine: np.ndarray, pose: Pose,
                     shapes: Sequence[LesionShape]) -> list[LesionFractions]:
    """The fractions of every lesion on one scan grid.

    Parameters
    ----------
    nearest
        The scan's nearest-neighbour label map (where to look for each lesion).
    tissue
        The labels without lesions on the scan grid (0: air, where no lesion reaches).
    affine
        The scan grid's affine (axis-aligned).
    pose
        The scan's :class:`immunopet.simulate.pose.Pose` (``to_phantom``).
    shapes
        ``Phantom.lesion_shapes``: per lesion ``(r2_of, heterogeneity, core, core_uptake)``.
    """
    from immunopet.simulate.phantom import lesion_profile

    voxel = np.diag(affine)[:3]
    offsets = _sub_offsets(voxel)
    boxes = lesion_boxes(nearest)
    out = []
    for n, (r2_of, heterogeneity, core, core_uptake) in enumerate(shapes):
        if n >= len(boxes) or boxes[n] is None:
            continue  # outside this scan's field of view
        box = grown_box(boxes[n], MARGIN, nearest.shape)
        axes = [affine[d, 3] + voxel[d] * np.arange(box[d].start, box[d].stop) for d in range(3)]
        centres = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 1, 3)
        points = centres + offsets[None]  # (voxels, sub-points, 3) scan LPS mm
        r2 = r2_of(*pose.to_phantom(points[..., 0], points[..., 1], points[..., 2]))
        inside = r2 <= 1.0
        count = inside.sum(axis=1)
        shape = tuple(b.stop - b.start for b in box)
        fraction = (count / offsets.shape[0]).reshape(shape)
        fraction = np.where(tissue[box] > 0, fraction, 0.0).astype(np.float32)
        uptake = lesion_profile(np.minimum(r2, 1.0), heterogeneity, core, core_uptake)
        mean = np.divide((uptake * inside).sum(axis=1), count, out=np.ones(count.shape), where=count > 0)
        out.append(LesionFractions(LESION_LABEL_OFFSET + n + 1, box, fraction, mean.reshape(shape).astype(np.float32)))
    return out


def fraction_labels(tissue: np.ndarray, fractions: list[LesionFractions]) -> np.ndarray:
    """The label map: the tissue, and each lesion where its fraction is at least one half and the
    largest (its largest-fraction voxel when no voxel reaches one half)."""
    labels = tissue.astype(np.uint8, copy=True)
    best = np.zeros(tissue.shape, dtype=np.float32)
    for lesion in fractions:
        f = lesion.fraction
        if not (f > 0).any():
            continue
        take = (f >= 0.5) & (f > best[lesion.box])
        if not take.any():
            take = np.zeros(f.shape, dtype=bool)
            take[np.unravel_index(int(np.argmax(f)), f.shape)] = True
        labels[lesion.box][take] = lesion.label
        best[lesion.box][take] = f[take]
    return labels


def fractional_suv(tissue_suv: np.ndarray, fractions: list[LesionFractions], lesions: pd.DataFrame,
                   day: float) -> np.ndarray:
    """The true SUV map: the tissue's SUV blended with each lesion by its fraction (module docstring).

    ``tissue_suv`` is the SUV of the lesion-free labels; lesion ``n`` has the centre SUV
    ``suv_max_day<d> / max_profile_factor`` (as :func:`immunopet.simulate.patient.true_suv`).
    """
    from immunopet.simulate.lesions import max_profile_factor

    suv = tissue_suv.astype(np.float32, copy=True)
    peak = max_profile_factor(lesions["heterogeneity"].to_numpy(), lesions["necrotic_core"].to_numpy())
    centre = lesions[f"suv_max_day{day:g}"].to_numpy() / peak
    covered = np.zeros(suv.shape, dtype=np.float32)
    for lesion in fractions:
        n = lesion.label - LESION_LABEL_OFFSET - 1
        f = np.minimum(lesion.fraction, 1.0 - covered[lesion.box])  # lesions that meet share a voxel
        region = suv[lesion.box]
        suv[lesion.box] = region - f * tissue_suv[lesion.box] + f * np.float32(centre[n]) * lesion.profile
        covered[lesion.box] += f
    return suv


def fraction_maps(shape: tuple[int, int, int], fractions: list[LesionFractions]) -> tuple[np.ndarray, np.ndarray]:
    """Two maps of the scan grid: the summed lesion fraction of every voxel (float32, 0-1) and the label
    of the lesion with the largest fraction there (uint8, 0 outside every lesion)."""
    total = np.zeros(shape, dtype=np.float32)
    index = np.zeros(shape, dtype=np.uint8)
    best = np.zeros(shape, dtype=np.float32)
    for lesion in fractions:
        f = lesion.fraction
        total[lesion.box] += f
        take = f > best[lesion.box]
        index[lesion.box][take] = lesion.label
        best[lesion.box][take] = f[take]
    return np.minimum(total, 1.0), index
