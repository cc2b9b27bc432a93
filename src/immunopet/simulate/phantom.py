"""One patient's phantom on the PET grid: tissue labels, lesions with their uptake profile, and CT."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from immunopet.simulate.anatomy import HU, LABELS, LESION_LABEL_OFFSET, Body, body_of, paint_body
from immunopet.simulate.canvas import Canvas, Shape
from immunopet.simulate.placement import place_lesions
from immunopet.simulate.pose import Pose


@dataclass(frozen=True)
class Phantom:
    """Labels, lesion profile and CT of one patient in phantom coordinates (mm, LPS axes).

    ``affine`` maps voxel index to phantom mm; a scan adds its table offset to get scanner LPS.
    ``profile`` is 1 outside lesions and ``1 - h r^2`` inside a lesion (``r`` its normalised
    radius, see :func:`lesion_r2`), ``necrotic_core_uptake`` inside a necrotic core. ``tissue`` holds
    the labels before the lesions were painted (what surrounds and lies under each lesion) and
    ``lesion_shapes`` each lesion's ``r2(x, y, z)`` and profile parameters, from which a scan's
    partial-volume fractions are computed (:mod:`immunopet.simulate.partial_volume`).
    """

    labels: np.ndarray
    profile: np.ndarray
    hu: np.ndarray
    affine: np.ndarray
    body: Body
    lesion_centres: list[tuple[float, float, float]]
    tissue: np.ndarray
    lesion_shapes: list[tuple[Callable[..., np.ndarray], float, float, float]]


def _rotation(a: float, b: float, c: float) -> np.ndarray:
    ca, sa, cb, sb, cc, sc = np.cos(a), np.sin(a), np.cos(b), np.sin(b), np.cos(c), np.sin(c)
    rx = np.array([[1, 0, 0], [0, ca, -sa], [0, sa, ca]])
    ry = np.array([[cb, 0, sb], [0, 1, 0], [-sb, 0, cb]])
    rz = np.array([[cc, -sc, 0], [sc, cc, 0], [0, 0, 1]])
    return rz @ ry @ rx


def lesion_r2(centre, radius: float, row) -> Callable[..., np.ndarray]:
    """Squared normalised radius of a lesion: the minimum over its rotated ellipsoid (semi-axes
    ``R, R axis_ratio_2, R axis_ratio_3``) and its lobes (spheres of 0.55 R centred 0.45 R away
    along ``lobe1_*``, ``lobe2_*``); ``<= 1`` inside the lesion."""
    r = _rotation(float(row.rot_a), float(row.rot_b), float(row.rot_c))
    semi = np.array([radius, radius * float(row.axis_ratio_2), radius * float(row.axis_ratio_3)])
    cx, cy, cz = (float(v) for v in centre)
    lobes = [np.add(centre, 0.45 * radius * np.array([getattr(row, f"lobe{k}_{a}") for a in "xyz"]))
             for k in range(1, int(row.lobes) + 1)]

    def r2(x, y, z):
        dx, dy, dz = x - cx, y - cy, z - cz
        out = sum(((r[0, d] * dx + r[1, d] * dy + r[2, d] * dz) / semi[d]) ** 2 for d in range(3))
        for lc in lobes:
            out = np.minimum(out, ((x - lc[0]) ** 2 + (y - lc[1]) ** 2 + (z - lc[2]) ** 2) / (0.55 * radius) ** 2)
        return out

    return r2


def lesion_profile(r2: np.ndarray, heterogeneity: float, core: float, core_uptake: float) -> np.ndarray:
    """Uptake relative to the centre SUV: ``1 - h r^2``, ``core_uptake`` inside a necrotic core."""
    value = 1.0 - heterogeneity * r2
    if core > 0:
        value = np.where(r2 < core * core, core_uptake, value)
    return value.astype(np.float32)


def grid_for(height_cm: float, phantom_params: dict[str, Any], *, quick: bool) -> tuple[tuple[int, int, int], float, np.ndarray]:
    """Shape, voxel size and origin (mm) of the grid: vertex to below the pubis, body centred."""
    voxel = float(phantom_params["quick_voxel_mm" if quick else "voxel_mm"])
    columns, rows = phantom_params["quick_matrix" if quick else "matrix"]
    z_top = 10.0
    z_bottom = -(0.48 * height_cm * 10.0 + float(phantom_params["scan_below_pubis_mm"]))
    slices = int(np.ceil((z_top - z_bottom) / voxel)) + 1
    origin = np.array([-(columns - 1) / 2.0 * voxel, -(rows - 1) / 2.0 * voxel, z_top - (slices - 1) * voxel])
    return (int(columns), int(rows), slices), voxel, origin


def build_phantom(subject: pd.Series, lesions: pd.DataFrame, params: dict[str, Any], *, quick: bool,
                  rng: np.random.Generator) -> Phantom:
    """The phantom of one patient.

    Parameters
    ----------
    subject
        A row of ``Cohort.subjects`` (``height_cm``, ``bmi``, ``sex``).
    lesions
        The patient's rows of ``Cohort.lesions`` in lesion order.
    params
        Complete simulator parameters.
    rng
        The patient's image stream (placement retries, CT noise).
    """
    shape, voxel, origin = grid_for(float(subject["height_cm"]), params["phantom"], quick=quick)
    canvas = Canvas(shape, voxel, origin)
    body = body_of(float(subject["height_cm"]), float(subject["bmi"]), str(subject["sex"]))
    paint_body(canvas, body)
    radii = (lesions["baseline_diameter_mm"].to_numpy(dtype=float) / 2.0).tolist()
    placements = lesions[["placement_u0", "placement_u1", "placement_u2"]].to_numpy(dtype=float)
    centres = place_lesions(body, lesions["site"].tolist(), radii, placements, rng)
    profile = np.ones(shape, dtype=np.float32)
    lesion_labels = [LESION_LABEL_OFFSET + k + 1 for k in range(len(radii))]
    core_uptake = float(params["lesions"]["shape"]["necrotic_core_uptake"])
    tissue = canvas.labels.copy()
    shapes = []
    for label, centre, radius, row in zip(lesion_labels, centres, radii, lesions.itertuples(index=False)):
        r2_of = lesion_r2(centre, radius, row)
        shapes.append((r2_of, float(row.heterogeneity), float(row.necrotic_core), core_uptake))
        shape_ = Shape(lambda x, y, z, f=r2_of: f(x, y, z) <= 1.0, tuple(np.subtract(centre, radius)),
                       tuple(np.add(centre, radius)))
        if canvas.paint(label, shape_, keep=[0, *lesion_labels]) == 0:
            canvas.labels[canvas.index_of(centre)] = label
        box = canvas.box(shape_.low, shape_.high)
        mine = canvas.labels[box] == label
        if not mine.any():  # the fallback voxel lies outside the box
            profile[canvas.index_of(centre)] = 1.0
            continue
        r2 = np.minimum(np.broadcast_to(r2_of(*canvas.coordinates(box)), mine.shape)[mine], 1.0)
        sub = profile[box]
        sub[mine] = lesion_profile(r2, float(row.heterogeneity), float(row.necrotic_core), core_uptake)
    hu_table = np.full(256, 40.0, dtype=np.float32)
    hu_table[0] = -1000.0
    for name, value in LABELS.items():
        hu_table[value] = HU[name]
    for label, site in zip(lesion_labels, lesions["site"]):
        hu_table[label] = 300.0 if site == "bone" else 35.0
    hu = hu_table[canvas.labels] + rng.normal(0.0, params["phantom"]["ct_noise_hu"], shape).astype(np.float32)
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = origin
    return Phantom(canvas.labels, profile, hu, affine, body, centres, tissue, shapes)


@dataclass(frozen=True)
class ScanPhantom:
    """The phantom as one scan sees it: labels, lesion profile and CT on that scan's grid (LPS mm).

    ``inside`` and ``flat`` are the nearest-neighbour lookup of :func:`scan_lookup` that made them;
    :meth:`take` resamples any other phantom-grid array the same way.
    """

    labels: np.ndarray
    profile: np.ndarray
    hu: np.ndarray
    affine: np.ndarray
    inside: np.ndarray
    flat: np.ndarray

    def take(self, values: np.ndarray, outside: float | bool = 0) -> np.ndarray:
        """``values`` (phantom grid) on this scan's grid; scan voxels outside the phantom get ``outside``."""
        return np.where(self.inside, values.ravel()[self.flat], outside)


def scan_grid(phantom: Phantom, pose: Pose) -> tuple[tuple[int, int, int], np.ndarray]:
    """Shape and affine of a scan's grid: the phantom's matrix, its axial range moved with the
    patient (``tz``) and lengthened or shortened by the pose's field-of-view margins."""
    voxel = float(phantom.affine[0, 0])
    nx, ny, nz = phantom.labels.shape
    z_low = phantom.affine[2, 3] - pose.fov_bottom_mm + pose.translation_mm[2]
    z_high = phantom.affine[2, 3] + (nz - 1) * voxel + pose.fov_top_mm + pose.translation_mm[2]
    slices = int(np.floor((z_high - z_low) / voxel)) + 1
    affine = phantom.affine.copy()
    affine[2, 3] = round(z_low, 2)
    return (nx, ny, slices), affine


def scan_lookup(phantom: Phantom, pose: Pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest-neighbour lookup from the scan grid of ``pose`` into the phantom: ``(affine, inside,
    flat)``, where ``flat`` (scan-grid shaped) indexes the phantom's raveled arrays and ``inside``
    marks scan voxels that fall within the phantom."""
    shape, affine = scan_grid(phantom, pose)
    axes = [affine[d, 3] + affine[d, d] * np.arange(shape[d], dtype=np.float32) for d in range(3)]
    x, y, z = axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]
    px, py, pz = pose.to_phantom(x, y, z)
    voxel, origin, dims = float(phantom.affine[0, 0]), phantom.affine[:3, 3], phantom.labels.shape
    index = [np.rint((p - np.float32(o)) / np.float32(voxel)).astype(np.int32) for p, o in zip((px, py, pz), origin)]
    index = [np.broadcast_to(i, shape) for i in index]
    inside = (index[0] >= 0) & (index[0] < dims[0]) & (index[1] >= 0) & (index[1] < dims[1]) \
        & (index[2] >= 0) & (index[2] < dims[2])
    flat = np.ravel_multi_index([np.where(inside, i, 0) for i in index], dims)
    return affine, inside, flat


def on_scan_grid(phantom: Phantom, pose: Pose) -> ScanPhantom:
    """Resample labels, profile and CT onto the scan grid of ``pose`` (nearest neighbour through the
    inverse pose, so every scan voxel holds exactly one phantom voxel's tissue; outside is air)."""
    affine, inside, flat = scan_lookup(phantom, pose)
    labels = np.where(inside, phantom.labels.ravel()[flat], 0).astype(np.uint8)
    profile = np.where(inside, phantom.profile.ravel()[flat], 1.0).astype(np.float32)
    hu = np.where(inside, phantom.hu.ravel()[flat], -1000.0).astype(np.float32)
    return ScanPhantom(labels, profile, hu, affine, inside, flat)
