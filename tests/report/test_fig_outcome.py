"""Kaplan-Meier and ROC figures: steps match events, numbers at risk and AUCs are right."""

from __future__ import annotations

import numpy as np
from scipy.stats import mannwhitneyu

from immunopet.report.fig_outcome import at_risk, km_figure, responder_flags, roc_figure, split_groups


def _line(fig, gid):
    return next(line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid)


def test_km_steps_drop_once_per_event_time(synthetic_patients):
    fig = km_figure(synthetic_patients)
    high = synthetic_patients["pet_uptake"] > synthetic_patients["pet_uptake"].median()
    for key in ("pfs", "os"):
        for group, rows in (("high", synthetic_patients[high]), ("low", synthetic_patients[~high])):
            line = _line(fig, f"km-{key}-{group}")
            x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            drops = x[1:][np.diff(y) < 0]
            event_times = np.unique(rows.loc[rows[f"{key}_event"] == 1, f"{key}_months"])
            assert np.allclose(np.sort(drops), event_times)
            # product-limit value after the last step, computed by hand
            durations = rows[f"{key}_months"].to_numpy()
            events = rows[f"{key}_event"].to_numpy()
            s = np.prod([1 - ((durations == t) & (events == 1)).sum() / (durations >= t).sum() for t in event_times])
            assert np.isclose(y[-1], s)


def test_km_at_risk_table_counts(synthetic_patients):
    fig = km_figure(synthetic_patients, endpoints={"os": "Overall survival"})
    table_ax = fig.axes[1]
    numbers = [(t.get_position(), int(t.get_text())) for t in table_ax.texts]
    high = synthetic_patients["pet_uptake"] > synthetic_patients["pet_uptake"].median()
    top_row = max(p[1] for p, _ in numbers)  # rows are drawn bottom-up: "high" is the top row
    for (x, y), count in numbers:
        rows = synthetic_patients[high if y == top_row else ~high]
        assert count == int((rows["os_months"] >= x).sum())
    assert at_risk(np.array([1.0, 2.0, 3.0]), [0, 2, 2.5, 4]) == [3, 2, 1, 0]
    groups = split_groups(synthetic_patients["pet_uptake"])
    assert (groups == "high").sum() == 11


def test_roc_curves_area_equals_mann_whitney_auc(synthetic_patients):
    fig = roc_figure(synthetic_patients)
    y = responder_flags(synthetic_patients)
    for column in ("pet_uptake", "ihc_ic", "rna_cd274"):
        line = _line(fig, f"roc-{column}")
        fpr, tpr = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        area = np.trapezoid(tpr, fpr)
        score = synthetic_patients[column]
        u = mannwhitneyu(score[y == 1], score[y == 0]).statistic
        assert np.isclose(area, u / ((y == 1).sum() * (y == 0).sum()))
        assert f"AUC {area:.2f}" in line.get_label()


def test_km_split_at_a_given_value(synthetic_patients):
    fig = km_figure(synthetic_patients, threshold=8.0, endpoints={"os": "Overall survival"})
    high = synthetic_patients[synthetic_patients["pet_uptake"] > 8.0]
    line = _line(fig, "km-os-high")
    assert f"above 8 (n={len(high)})" in line.get_label()
    drops = np.asarray(line.get_xdata())[1:][np.diff(np.asarray(line.get_ydata())) < 0]
    assert np.allclose(np.sort(drops), np.unique(high.loc[high["os_event"] == 1, "os_months"]))


def test_cutoff_figure_draws_the_scan_p_values(synthetic_patients):
    import pandas as pd

    from immunopet.analysis.cutoffs import scan
    from immunopet.report.fig_outcome import cutoff_figure

    parts = []
    for key in ("pfs", "os"):
        data = synthetic_patients.rename(columns={f"{key}_months": "T", f"{key}_event": "E"})[["T", "E", "pet_uptake"]]
        parts.append(scan(data, "pet_uptake").assign(predictor="pet_uptake", endpoint=key))
    table = pd.concat(parts, ignore_index=True)
    fig = cutoff_figure(table)
    for key, part in table.groupby("endpoint"):
        line = _line(fig, f"cutoff-{key}")
        assert np.allclose(line.get_xdata(), 100 * part.sort_values("quantile")["quantile"])
        assert np.allclose(line.get_ydata(), part.sort_values("quantile")["p_value"])
    empty = cutoff_figure(table.iloc[:0])
    assert not [line for line in empty.axes[0].get_lines() if str(line.get_gid()).startswith("cutoff-")]
