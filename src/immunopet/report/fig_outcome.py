"""Outcome figures: Kaplan-Meier curves with numbers at risk, ROC curves, the cut-off sensitivity of log-rank p."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from immunopet.report.figio import PALETTE, new_figure, styled

#: Predictors compared in the ROC figure: column -> label (those present in the table are drawn).
PREDICTORS = {
    "pet_uptake": "PET uptake",
    "ihc_ic": "PD-L1 IHC (IC)",
    "ihc_tc": "PD-L1 IHC (TC)",
    "rna_cd274": "RNA-seq CD274",
    "rna_teff": "RNA-seq T-effector",
}


def split_groups(values: pd.Series, *, threshold: float | None = None) -> pd.Series:
    """``"high"`` when a value is above ``threshold`` (default: the median), else ``"low"``."""
    cut = float(values.median()) if threshold is None else threshold
    return pd.Series(np.where(values > cut, "high", "low"), index=values.index).where(values.notna())


def at_risk(durations: np.ndarray, times: Sequence[float]) -> list[int]:
    """Number of patients still at risk (follow-up time >= t) at each time ``t``."""
    durations = np.asarray(durations, dtype=float)
    return [int((durations >= t).sum()) for t in times]


@styled
def km_figure(patients: pd.DataFrame, *, value: str = "pet_uptake", label: str = "PET uptake",
              endpoints: Mapping[str, str] | None = None, threshold: float | None = None,
              notes: Mapping[str, str] | None = None) -> Figure:
    """Kaplan-Meier curves per endpoint for patients above vs at/below the median ``value``.

    Parameters
    ----------
    patients
        Patient table with ``value`` and ``<endpoint>_months`` / ``<endpoint>_event`` columns.
    value
        Column that splits the patients.
    label
        Its name in the legend.
    endpoints
        ``{"pfs": "Progression-free survival", ...}``; those without columns are left out.
    threshold
        Split value; the median of ``value`` when ``None``.
    notes
        Text per endpoint shown in the panel (e.g. the log-rank p and hazard ratio).

    Notes
    -----
    Curves are drawn from :class:`lifelines.KaplanMeierFitter` estimates as post-steps (gid
    ``km-<endpoint>-<group>``); censored patients are ticks; the table under each panel gives the
    numbers at risk at the x ticks.
    """
    from lifelines import KaplanMeierFitter

    endpoints = endpoints or {"pfs": "Progression-free survival", "os": "Overall survival"}
    endpoints = {k: v for k, v in endpoints.items() if {f"{k}_months", f"{k}_event"} <= set(patients.columns)}
    fig = new_figure(5.2 * max(len(endpoints), 1), 4.4)
    grid = fig.add_gridspec(2, max(len(endpoints), 1), height_ratios=[4, 1])
    groups = split_groups(patients[value], threshold=threshold)
    for col, (key, title) in enumerate(endpoints.items()):
        ax = fig.add_subplot(grid[0, col])
        table_ax = fig.add_subplot(grid[1, col], sharex=ax)
        data = patients.assign(group=groups).dropna(subset=["group", f"{key}_months", f"{key}_event"])
        horizon = float(data[f"{key}_months"].max()) if len(data) else 1.0
        ticks = np.linspace(0.0, np.ceil(horizon / 6.0) * 6.0, int(np.ceil(horizon / 6.0)) + 1)
        rows = []
        for n, group in enumerate(("high", "low")):
            part = data[data["group"] == group]
            if part.empty:
                continue
            durations = part[f"{key}_months"].to_numpy(float)
            events = part[f"{key}_event"].to_numpy(int)
            kmf = KaplanMeierFitter().fit(durations, events, label=group)
            sf = kmf.survival_function_.iloc[:, 0]
            colour = PALETTE[n]
            where = "median" if threshold is None else f"{threshold:g}"
            name = f"{label} {'above' if group == 'high' else 'at or below'} {where}"
            (line,) = ax.step(sf.index.to_numpy(), sf.to_numpy(), where="post", color=colour, lw=1.6,
                              label=f"{name} (n={len(part)})")
            line.set_gid(f"km-{key}-{group}")
            censored = durations[events == 0]
            ax.plot(censored, kmf.survival_function_at_times(censored).to_numpy(), "|", ms=8,
                    color=colour, gid=f"censor-{key}-{group}")
            rows.append((group, colour, at_risk(durations, ticks)))
        ax.set_ylim(-0.02, 1.05)
        ax.set_xlim(0, ticks[-1])
        ax.set_ylabel("probability")
        ax.set_title(title)
        ax.legend(loc="lower left")
        if notes and key in notes:
            ax.text(0.98, 0.97, notes[key], transform=ax.transAxes, ha="right", va="top", fontsize=8)
        ax.tick_params(labelbottom=False)
        _draw_at_risk(table_ax, ticks, rows)
    return fig


def _draw_at_risk(ax, ticks: np.ndarray, rows: list[tuple[str, str, list[int]]]) -> None:
    ax.set_ylim(-0.5, len(rows) - 0.5)
    ax.set_yticks(range(len(rows)), [group for group, _, _ in rows][::-1] if rows else [])
    for y, (_, colour, counts) in enumerate(reversed(rows)):
        for t, count in zip(ticks, counts, strict=True):
            ax.text(t, y, str(count), ha="center", va="center", color=colour, fontsize=8)
    ax.set_xlabel("months")
    ax.set_title("number at risk", fontsize=8, loc="left")
    for side in ("left", "top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0, pad=14)


def responder_flags(patients: pd.DataFrame, responders: Sequence[str] = ("CR", "PR")) -> pd.Series:
    """1 for a responder, 0 for a non-responder, NaN when best response is missing or ``NE``."""
    response = patients["best_response"]
    flags = response.isin(list(responders)).astype(float)
    return flags.where(response.notna() & (response != "NE"))


@styled
def roc_figure(patients: pd.DataFrame, *, responders: Sequence[str] = ("CR", "PR"),
               predictors: Mapping[str, str] | None = None) -> Figure:
    """ROC curves of each predictor for response (responders = ``responders``).

    Each curve (gid ``roc-<column>``) is :func:`sklearn.metrics.roc_curve` on the patients with both
    the predictor and a response; its AUC, :func:`sklearn.metrics.roc_auc_score`, is in the legend.
    """
    from sklearn.metrics import roc_auc_score, roc_curve

    predictors = predictors or PREDICTORS
    outcome = responder_flags(patients, responders)
    fig = new_figure(4.6, 4.2)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=0.8)
    drawn = 0
    for column, name in predictors.items():
        if column not in patients.columns:
            continue
        ok = outcome.notna() & patients[column].notna()
        y, score = outcome[ok].astype(int), patients.loc[ok, column].astype(float)
        if y.nunique() < 2:
            continue
        fpr, tpr, _ = roc_curve(y, score)
        auc = roc_auc_score(y, score)
        ax.plot(fpr, tpr, lw=1.6, color=PALETTE[drawn % len(PALETTE)], gid=f"roc-{column}",
                label=f"{name}: AUC {auc:.2f} (n={int(ok.sum())})", drawstyle="default")
        drawn += 1
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - specificity")
    ax.set_ylabel("sensitivity")
    ax.set_title(f"Response ({'/'.join(responders)}) prediction")
    if drawn:
        ax.legend(loc="lower right")
    else:
        ax.text(0.5, 0.5, "no ROC curve: responders and non-responders\nwith predictor values are both needed",
                transform=ax.transAxes, ha="center", va="center", fontsize=8)
    return fig


@styled
def cutoff_figure(scan: pd.DataFrame, *, predictor: str = "pet_uptake", label: str = "PET uptake") -> Figure:
    """Log-rank p-value against the split quantile (25th-75th percentile) of ``predictor``, per endpoint.

    ``scan`` is the ``cutoff_scan`` table of the analysis (``quantile, p_value, predictor, endpoint``);
    each line has gid ``cutoff-<endpoint>``; the dashed line is p = 0.05, the dotted one the median.
    """
    rows = scan[scan["predictor"] == predictor] if len(scan) else scan
    fig = new_figure(4.8, 3.6)
    ax = fig.add_subplot()
    for k, (endpoint, part) in enumerate(rows.groupby("endpoint", sort=True) if len(rows) else []):
        part = part.sort_values("quantile")
        ax.plot(100 * part["quantile"], part["p_value"], marker="o", ms=3, lw=1.4, color=PALETTE[k % len(PALETTE)],
                gid=f"cutoff-{endpoint}", label=str(endpoint).upper())
    ax.axhline(0.05, ls="--", color="grey", lw=0.8)
    ax.axvline(50, ls=":", color="grey", lw=0.8)
    ax.set_yscale("log")
    ax.set_xlabel(f"cut-off: percentile of {label}")
    ax.set_ylabel("log-rank p (unadjusted)")
    ax.set_title("Sensitivity of the split to its cut-off")
    if len(rows):
        ax.legend(loc="best")
    else:
        ax.text(0.5, 0.5, "no cut-off scan in the analysis", transform=ax.transAxes, ha="center", va="center")
    return fig
