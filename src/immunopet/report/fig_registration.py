"""Checkerboard figures of the registrations: how the reference scan lines up with each other day.

One figure per registered scan, from the coronal snapshot its registration kept
(:mod:`immunopet.register.snapshot`): the measured scan, then a checkerboard of the measured scan
and the reference scan resampled onto it, without and with the transform. Where the registration
is right, edges run straight across the tile borders; a shift or a rotation breaks them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from immunopet.report.figio import SavedFigure, new_figure, safe_file_stem, save_figure, styled

#: Tiles along the longer side of the plane.
TILES = 8


def checkerboard(a: np.ndarray, b: np.ndarray, *, tiles: int = TILES) -> np.ndarray:
    """``a`` in the even tiles and ``b`` in the odd ones (``tiles`` tiles along the longer axis)."""
    if a.shape != b.shape:
        raise ValueError(f"planes of different shape: {a.shape} and {b.shape}")
    size = max(1, -(-max(a.shape) // max(1, tiles)))  # tile edge in pixels (ceiling division)
    i, k = np.indices(a.shape)
    odd = ((i // size) + (k // size)) % 2 == 1
    return np.where(odd, b, a)


def _window(modality: str, fixed: np.ndarray) -> tuple[float, float, str]:
    if modality == "CT":
        return -200.0, 300.0, "HU"
    finite = fixed[np.isfinite(fixed)]
    high = float(np.percentile(finite, 99.5)) if finite.size else 1.0
    return 0.0, high if high > 0 else 1.0, ""


@styled
def registration_figure(scan_id: str, reference_id: str, planes: dict[str, np.ndarray], *, modality: str) -> Figure:
    """Measured scan | checkerboard before | checkerboard after, on one grey scale."""
    low, high, units = _window(modality, planes["fixed"])
    spacing_i, spacing_k = (float(s) for s in planes["spacing_mm"])
    n_i, n_k = planes["fixed"].shape
    extent = (0.0, n_i * spacing_i, 0.0, n_k * spacing_k)
    fig = new_figure(6.6, 3.4)
    axes = fig.subplots(1, 3)
    panels = (
        (planes["fixed"], f"{scan_id} ({modality})"),
        (checkerboard(planes["fixed"], planes["before"]), f"with {reference_id}, before"),
        (checkerboard(planes["fixed"], planes["after"]), f"with {reference_id}, registered"),
    )
    image = None
    for ax, (data, title) in zip(axes, panels, strict=True):
        shown = np.nan_to_num(data, nan=low)  # outside the reference image: background
        image = ax.imshow(shown.T, origin="lower", extent=extent, cmap="gray", vmin=low, vmax=high,
                          interpolation="nearest", aspect="equal")
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if image is not None and units:
        fig.colorbar(image, ax=list(axes), shrink=0.7, label=units, location="right")
    fig.suptitle(f"Registration of {scan_id} to {reference_id} (coronal, R | L)", fontsize=9)
    return fig


def figure_name(scan_id: str) -> str:
    """The file stem (and :attr:`SavedFigure.name`) of the checkerboard figure of ``scan_id``."""
    return safe_file_stem(f"registration_{scan_id}")


def registration_figures(study_dir: Path, records: Iterable[Mapping[str, Any]], figures_dir: Path, *,
                         svg: bool, dpi: int) -> list[SavedFigure]:
    """Saved checkerboard figures of the registered scans (``records``: registration.json rows with
    status ``done``) whose snapshot exists, in the records' order."""
    from immunopet.register.snapshot import read_snapshot, snapshot_path

    saved = []
    for record in records:
        if record.get("status") != "done" or not record.get("transform_path"):
            continue
        planes = read_snapshot(Path(study_dir) / snapshot_path(record["transform_path"]))
        if planes is None:
            continue
        scan_id, reference_id = str(record["scan_id"]), str(record["reference_scan_id"])
        fig = registration_figure(scan_id, reference_id, planes, modality=str(record.get("modality") or "CT"))
        caption = (f"{scan_id} registered to {reference_id}: coronal plane through the trunk; checkerboard of "
                   "the two scans before and after registration (edges should run straight across the tiles).")
        saved.append(save_figure(fig, figures_dir, figure_name(scan_id), caption=caption, dpi=dpi, svg=svg))
    return saved
