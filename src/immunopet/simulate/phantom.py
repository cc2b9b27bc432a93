"""One patient's phantom on the PET grid: tissue labels, lesions with their uptake profile, and CT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from immunopet.simulate.anatomy import HU, LABELS, LESION_LABEL_OFFSET, Body, body_of, paint_body
from immunopet.simulate.canvas import Canvas, ellipsoid
from immunopet.simulate.placement import place_lesions


@dataclass(frozen=True)
class Phantom:
    """Labels, lesion profile and CT of one patient in phantom coordinates (mm, LPS axes).

    ``affine`` maps voxel index to phantom mm; a scan adds its table offset to get scanner LPS.
    ``profile`` is 1 outside lesions and ``1 - h (r/R)^2`` inside lesion ``L``.
    """

    labels: np.ndarray
    profile: np.ndarray
    hu: np.ndarray
    affine: np.ndarray
    body: Body
    lesion_centres: list[tuple[float, float, float]]


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
    for label, centre, radius, het in zip(lesion_labels, centres, radii, lesions["heterogeneity"]):
        shape_ = ellipsoid(centre, (radius, radius, radius))
        if canvas.paint(label, shape_, keep=[0, *lesion_labels]) == 0:
            canvas.labels[canvas.index_of(centre)] = label
        box = canvas.box(shape_.low, shape_.high)
        x, y, z = canvas.coordinates(box)
        r2 = ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2) / (radius * radius)
        mine = canvas.labels[box] == label
        sub = profile[box]
        sub[mine] = (1.0 - float(het) * np.minimum(np.broadcast_to(r2, mine.shape)[mine], 1.0)).astype(np.float32)
        if not mine.any():  # the fallback voxel lies outside the box
            profile[canvas.index_of(centre)] = 1.0
    hu_table = np.full(256, 40.0, dtype=np.float32)
    hu_table[0] = -1000.0
    for name, value in LABELS.items():
        hu_table[value] = HU[name]
    for label, site in zip(lesion_labels, lesions["site"]):
        hu_table[label] = 300.0 if site == "bone" else 35.0
    hu = hu_table[canvas.labels] + rng.normal(0.0, params["phantom"]["ct_noise_hu"], shape).astype(np.float32)
    affine = np.diag([voxel, voxel, voxel, 1.0])
    affine[:3, 3] = origin
    return Phantom(canvas.labels, profile, hu, affine, body, centres)
