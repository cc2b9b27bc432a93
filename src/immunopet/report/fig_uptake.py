"""Uptake figures: biodistribution over time, lesion heterogeneity, uptake against response."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure

from immunopet.report.figio import PALETTE, new_figure, plain_log_ticks, styled

RESPONSE_ORDER = ("CR", "PR", "SD", "PD", "NE")
UPTAKE_CMAP = "viridis"


def biodistribution_table(measurements: pd.DataFrame, *, value: str = "suv_mean") -> pd.DataFrame:
    """Organ ``value`` per nominal day: n, mean and SD over patients (one row per organ and day)."""
    organs = measurements[measurements["kind"] == "organ"]
    table = (
        organs.groupby(["site", "day"])[value]
        .agg(n="count", mean="mean", sd="std")
        .reset_index()
        .sort_values(["site", "day"], kind="stable")
    )
    return table.reset_index(drop=True)


@styled
def biodistribution_figure(measurements: pd.DataFrame, *, value: str = "suv_mean",
                           units: str = "SUV") -> Figure:
    """Organ SUVmean over scan days: mean over patients with error bars of one SD."""
    table = biodistribution_table(measurements, value=value)
    fig = new_figure(6.4, 4.0)
    ax = fig.add_subplot()
    sites = table["site"].unique()
    dodge = 0.06 * (np.arange(len(sites)) - (len(sites) - 1) / 2)
    for n, (site, rows) in enumerate(table.groupby("site", sort=True)):
        bars = ax.errorbar(rows["day"] + dodge[n], rows["mean"], yerr=rows["sd"].fillna(0.0), marker="o", ms=4,
                    capsize=3, lw=1.3, color=PALETTE[n % len(PALETTE)], label=site,
                    ls="-" if n < len(PALETTE) else "--")
        bars.lines[0].set_gid(f"bio-{site}")
    ax.set_xlabel("days after injection (nominal)")
    ax.set_ylabel(f"{value.replace('_', '').replace('suv', 'SUV')} ({units}), mean ± SD")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Biodistribution")
    return fig


def geometric_means(lesions: pd.DataFrame, *, value: str) -> pd.Series:
    """Geometric mean of ``value`` over each patient's lesions (non-positive values ignored)."""
    positive = lesions[lesions[value] > 0]
    return np.exp(np.log(positive[value]).groupby(positive["patient_id"]).mean())


@styled
def heterogeneity_figure(lesions: pd.DataFrame, *, value: str = "suv_max",
                         label: str = "lesion SUVmax") -> Figure:
    """Lesion uptake per patient, patients grouped by tumour type (log scale).

    Parameters
    ----------
    lesions
        One row per lesion at one scan day, columns ``patient_id``, ``tumour_type`` and ``value``.
    value
        The lesion metric column.
    label
        Axis label for it.

    Notes
    -----
    Each dot is a lesion; the black bar marks the patient's geometric mean. Within a tumour type,
    patients are sorted by geometric mean.
    """
    gmeans = geometric_means(lesions, value=value)
    types = lesions.groupby("patient_id")["tumour_type"].first()
    order = (
        pd.DataFrame({"type": types, "gmean": gmeans.reindex(types.index)})
        .sort_values(["type", "gmean"], kind="stable")
        .index.tolist()
    )
    position = {pid: i for i, pid in enumerate(order)}
    fig = new_figure(max(4.5, 0.28 * len(order) + 1.8), 3.8)
    ax = fig.add_subplot()
    for n, (tumour, rows) in enumerate(lesions.groupby("tumour_type", sort=True)):
        rows = rows[rows[value] > 0]
        ax.scatter(rows["patient_id"].map(position), rows[value], s=16, alpha=0.8,
                   color=PALETTE[n % len(PALETTE)], label=str(tumour), zorder=2)
    xs = [position[p] for p in gmeans.index if p in position]
    ax.hlines(gmeans.loc[[p for p in gmeans.index if p in position]], np.array(xs) - 0.35,
              np.array(xs) + 0.35, colors="black", lw=1.6, zorder=3, label="geometric mean")
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_xticks(range(len(order)), order, rotation=90)
    ax.set_xlim(-0.7, len(order) - 0.3)
    ax.set_xlabel("patient")
    ax.set_ylabel(label)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("Lesion uptake per patient")
    return fig


@styled
def response_figure(patients: pd.DataFrame, *, value: str = "pet_uptake",
                    label: str = "patient PET uptake") -> Figure:
    """Per-patient uptake by RECIST best response: a box per category with the patients as dots."""
    data = patients.dropna(subset=[value, "best_response"])
    data = data[data[value] > 0]
    present = [r for r in RESPONSE_ORDER if (data["best_response"] == r).any()]
    present += sorted(set(data["best_response"]) - set(RESPONSE_ORDER))
    fig = new_figure(4.2, 3.6)
    ax = fig.add_subplot()
    groups = [data.loc[data["best_response"] == r, value].to_numpy() for r in present]
    if groups:
        ax.boxplot(groups, positions=range(len(present)), widths=0.5, showfliers=False,
                   medianprops={"color": "black"})
    for i, values in enumerate(groups):
        offsets = np.linspace(-0.12, 0.12, len(values)) if len(values) > 1 else np.zeros(1)
        ax.scatter(i + offsets, values, s=18, color=PALETTE[i % len(PALETTE)], zorder=3)
    ax.set_xticks(range(len(present)), [f"{r}\n(n={len(g)})" for r, g in zip(present, groups, strict=True)])
    ax.set_yscale("log")
    plain_log_ticks(ax.yaxis)
    ax.set_xlabel("best overall response (RECIST 1.1)")
    ax.set_ylabel(label)
    ax.set_title("Uptake by response")
    return fig


def uptake_norm(values: Sequence[float]) -> Normalize:
    """The colour normalisation of uptake values (log scale when all positive)."""
    finite = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if finite.size and (finite > 0).all() and finite.max() > finite.min():
        return LogNorm(finite.min(), finite.max())
    low, high = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
    return Normalize(low, high if high > low else low + 1.0)


@styled
def waterfall_figure(patients: pd.DataFrame, *, value: str = "pet_uptake",
                     label: str = "PET uptake") -> Figure:
    """Best % change in tumour size per patient, sorted from largest growth to largest shrinkage.

    Bars are coloured by the patient's uptake (``viridis``, log scale); patients without uptake
    are grey. Dashed lines mark the RECIST thresholds (+20 %, -30 %).
    """
    data = patients.dropna(subset=["best_pct_change"]).sort_values("best_pct_change", ascending=False,
                                                                     kind="stable")
    import matplotlib

    cmap = matplotlib.colormaps[UPTAKE_CMAP]
    norm = uptake_norm(data[value].tolist())
    colours = [cmap(norm(v)) if np.isfinite(v) else (0.6, 0.6, 0.6, 1.0) for v in data[value]]
    fig = new_figure(max(4.5, 0.25 * len(data) + 2.0), 3.6)
    ax = fig.add_subplot()
    ax.bar(range(len(data)), data["best_pct_change"], color=colours, width=0.8)
    ax.axhline(20, ls="--", lw=0.8, color="grey")
    ax.axhline(-30, ls="--", lw=0.8, color="grey")
    ax.axhline(0, lw=0.8, color="black")
    ax.set_xticks(range(len(data)), data["patient_id"], rotation=90)
    ax.set_ylabel("best change in sum of diameters (%)")
    from matplotlib.cm import ScalarMappable

    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label=label)
    if isinstance(norm, LogNorm):
        plain_log_ticks(bar.ax.yaxis)
    ax.set_title("Waterfall plot")
    return fig
