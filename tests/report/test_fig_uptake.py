"""Uptake figures plot exactly the recomputed statistics of their input tables."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm
from scipy.stats import gmean

from immunopet.report.fig_uptake import (
    biodistribution_figure,
    heterogeneity_figure,
    response_figure,
    waterfall_figure,
)


def test_biodistribution_lines_are_mean_and_sd(synthetic_measurements):
    fig = biodistribution_figure(synthetic_measurements)
    ax = fig.axes[0]
    organs = synthetic_measurements[synthetic_measurements["kind"] == "organ"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == sorted(organs["site"].unique())
    for site in labels:
        line = next(line for line in ax.get_lines() if line.get_gid() == f"bio-{site}")
        expected = [organs.loc[(organs["site"] == site) & (organs["day"] == d), "suv_mean"].to_numpy().mean()
                    for d in sorted(organs["day"].unique())]
        assert np.allclose(line.get_ydata(), expected)


def test_heterogeneity_marks_geometric_means(synthetic_measurements):
    lesions = synthetic_measurements[(synthetic_measurements["kind"] == "lesion") & (synthetic_measurements["day"] == 7)]
    fig = heterogeneity_figure(lesions)
    ax = fig.axes[0]
    order = [t.get_text() for t in ax.get_xticklabels()]
    assert sorted(order) == sorted(lesions["patient_id"].unique())
    segments = ax.collections[-1].get_segments()
    drawn = {order[int(round(s[:, 0].mean()))]: s[0, 1] for s in segments}
    for pid, rows in lesions.groupby("patient_id"):
        assert np.isclose(drawn[pid], gmean(rows["suv_max"]))
    # patients are grouped by tumour type along x
    types = lesions.groupby("patient_id")["tumour_type"].first().loc[order].tolist()
    assert types == sorted(types)
    assert ax.get_yscale() == "log"
    n_points = sum(len(c.get_offsets()) for c in ax.collections[:-1])
    assert n_points == len(lesions)


def test_response_figure_groups_patients(synthetic_patients):
    fig = response_figure(synthetic_patients)
    ax = fig.axes[0]
    labels = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    assert labels == [r for r in ("CR", "PR", "SD", "PD") if (synthetic_patients["best_response"] == r).any()]
    for i, label in enumerate(labels):
        dots = ax.collections[i].get_offsets()
        expected = synthetic_patients.loc[synthetic_patients["best_response"] == label, "pet_uptake"]
        assert np.allclose(np.sort(dots[:, 1]), np.sort(expected)) and np.allclose(dots[:, 0].mean(), i)


def test_waterfall_sorted_and_coloured_by_uptake(synthetic_patients):
    fig = waterfall_figure(synthetic_patients)
    ax = fig.axes[0]
    bars = ax.patches
    heights = np.array([b.get_height() for b in bars])
    assert len(bars) == len(synthetic_patients)
    assert (np.diff(heights) <= 0).all()
    names = [t.get_text() for t in ax.get_xticklabels()]
    by_id = synthetic_patients.set_index("patient_id")
    assert np.allclose(heights, by_id.loc[names, "best_pct_change"])
    norm = LogNorm(synthetic_patients["pet_uptake"].min(), synthetic_patients["pet_uptake"].max())
    cmap = matplotlib.colormaps["viridis"]
    for bar, pid in zip(bars, names, strict=True):
        assert np.allclose(bar.get_facecolor(), cmap(norm(by_id.loc[pid, "pet_uptake"])))
