"""Image figures: MIP grids per patient and PET/CT fusion slices through lesions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from immunopet.report.figio import new_figure, nice_ceiling, styled
from immunopet.projection import Projections
from immunopet.report.projection import FusionSlice

MIP_CMAP = "gray_r"
PET_CMAP = "hot"


@styled
def mip_grid_figure(title: str, rows: Sequence[tuple[str, Projections]], *, vmax: float,
                    units: str = "SUV") -> Figure:
    """Coronal and sagittal MIPs, one row per scan day, all on one SUV scale ``[0, vmax]``.

    Parameters
    ----------
    title
        Figure title, e.g. the patient id.
    rows
        ``(row label, projections)`` in the order to show (scan days ascending).
    vmax
        Upper end of the grey scale (the same for every patient and day of a report).
    units
        Colour-bar label.

    Notes
    -----
    Pixels are shown with their physical aspect (``imshow`` extent in mm), head up, the patient's
    right on the left of the coronal view and anterior on the left of the sagittal view.
    """
    n = max(len(rows), 1)
    fig = new_figure(4.6, 2.45 * n + 0.5)
    axes = fig.subplots(n, 2, squeeze=False, gridspec_kw={"width_ratios": _width_ratios(rows)})
    image = None
    for (label, proj), (ax_cor, ax_sag) in zip(rows, axes, strict=False):
        for ax, view in ((ax_cor, "coronal"), (ax_sag, "sagittal")):
            data = proj.coronal if view == "coronal" else proj.sagittal
            image = ax.imshow(data.T, origin="lower", extent=proj.extent(view), cmap=MIP_CMAP,
                              vmin=0.0, vmax=vmax, interpolation="nearest", aspect="equal")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        ax_cor.set_ylabel(label)
    axes[0, 0].set_title("coronal (R | L)")
    axes[0, 1].set_title("sagittal (A | P)")
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.6, label=units, location="right")
    fig.suptitle(title)
    return fig


def _width_ratios(rows: Sequence[tuple[str, Projections]]) -> list[float]:
    if not rows:
        return [1.0, 1.0]
    proj = rows[0][1]
    return [proj.coronal.shape[0] * proj.spacing[0], proj.sagittal.shape[0] * proj.spacing[1]]


def voxel_outline(cut: FusionSlice, *, upsample: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The VOI mask of ``cut`` on a finer grid, so that its 0.5 contour follows the voxel edges.

    Returns x (mm), y (mm) and the upsampled mask (shape ``(nx * upsample, ny * upsample)``).
    """
    dx = cut.x_mm[1] - cut.x_mm[0] if len(cut.x_mm) > 1 else 1.0
    dy = cut.y_mm[1] - cut.y_mm[0] if len(cut.y_mm) > 1 else 1.0
    fine = np.repeat(np.repeat(cut.mask, upsample, axis=0), upsample, axis=1)
    x = cut.x_mm[0] - dx / 2 + (np.arange(fine.shape[0]) + 0.5) * dx / upsample
    y = cut.y_mm[0] - dy / 2 + (np.arange(fine.shape[1]) + 0.5) * dy / upsample
    return x, y, fine


@styled
def fusion_figure(title: str, slices: Sequence[FusionSlice], *, vmax: float | None = None, units: str = "SUV",
                  ct_window: tuple[float, float] = (-160.0, 240.0)) -> Figure:
    """Axial PET/CT fusion through each lesion with the VOI outline.

    Parameters
    ----------
    title
        Figure title (patient and scan).
    slices
        One :class:`FusionSlice` per lesion.
    vmax
        Upper end of every panel's PET colour scale; ``None``: each panel ends at its lesion's
        SUVmax on the slice, rounded up (:func:`~immunopet.report.figio.nice_ceiling`), so small
        lesions stay visible.
    ct_window
        CT grey window in HU (soft tissue by default).
    """
    n = max(len(slices), 1)
    cols = min(n, 4)
    nrows = int(np.ceil(n / cols))
    fig = new_figure(2.75 * cols, 2.6 * nrows + 0.4)
    axes = fig.subplots(nrows, cols, squeeze=False)
    for ax, cut in zip(axes.ravel(), slices, strict=False):
        dx = cut.x_mm[1] - cut.x_mm[0] if len(cut.x_mm) > 1 else 1.0
        dy = cut.y_mm[1] - cut.y_mm[0] if len(cut.y_mm) > 1 else 1.0
        extent = (cut.x_mm[0] - dx / 2, cut.x_mm[-1] + dx / 2, cut.y_mm[-1] + dy / 2, cut.y_mm[0] - dy / 2)
        top = vmax if vmax is not None else nice_ceiling(float(cut.pet[cut.mask].max()) if cut.mask.any() else cut.pet.max())
        if cut.ct is not None:
            ax.imshow(cut.ct.T, origin="upper", extent=extent, cmap="gray", vmin=ct_window[0],
                      vmax=ct_window[1], interpolation="nearest")
        pet_image = ax.imshow(np.ma.masked_less_equal(cut.pet.T, 0.1 * top), origin="upper", extent=extent,
                              cmap=PET_CMAP, vmin=0.0, vmax=top, alpha=0.6 if cut.ct is not None else 1.0,
                              interpolation="nearest")
        if cut.mask.any():
            x, y, fine = voxel_outline(cut)
            ax.contour(x, y, fine.T.astype(np.float32), levels=[0.5], colors="#00FFFF", linewidths=1.0)
        ax.set_title(f"{cut.label}  z = {cut.z_mm:.0f} mm")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_aspect("equal")
        bar = fig.colorbar(pet_image, ax=ax, shrink=0.8, pad=0.02)
        bar.ax.set_title(units, fontsize=7)
    for ax in axes.ravel()[len(slices):]:
        ax.set_axis_off()
    fig.suptitle(title)
    return fig
