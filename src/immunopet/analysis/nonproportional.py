"""When one hazard ratio misleads: restricted mean survival time difference and piecewise hazard ratios.

- RMST (Royston P, Parmar MKB. Restricted mean survival time: an alternative to the hazard ratio
  for the design and analysis of randomized trials with a time-to-event outcome. *BMC Med Res
  Methodol* 2013;13:152): area under each group's Kaplan-Meier curve up to a stated horizon, with
  the Greenwood-type variance of that area, ``sum_j A_j^2 d_j / (n_j (n_j - d_j))`` (``A_j`` the
  area from event time ``t_j`` to the horizon; Klein JP, Moeschberger ML, *Survival Analysis*,
  2nd ed., 2003, section 4.5); difference high - low with a normal interval and p. (The variance
  returned by ``lifelines.utils.restricted_mean_survival_time`` is that of min(T, horizon), not of
  the estimate.)
- Piecewise hazard ratio: follow-up split at a break point (episodes, ``lifelines``
  ``CoxTimeVaryingFitter``), one coefficient of the predictor before and one after the break, and
  the Wald test of their equality.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from immunopet.analysis.record import Notes, not_run, stat


def km_rmst(durations: np.ndarray, events: np.ndarray, horizon: float) -> tuple[float, float]:
    """Kaplan-Meier restricted mean up to ``horizon`` and the variance of that estimate."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float) > 0
    times = np.unique(t[e & (t <= horizon)])
    at_risk = np.array([(t >= u).sum() for u in times], dtype=float)
    deaths = np.array([(e & (t == u)).sum() for u in times], dtype=float)
    surv = np.cumprod(1.0 - deaths / at_risk)
    edges = np.r_[0.0, times, horizon]
    heights = np.r_[1.0, surv]
    pieces = heights * np.diff(edges)  # area of each step up to the horizon
    rmst = float(pieces.sum())
    tail = np.cumsum(pieces[::-1])[::-1][1:]  # A_j: area from t_j to the horizon
    ok = at_risk > deaths
    var = float(np.sum(tail[ok] ** 2 * deaths[ok] / (at_risk[ok] * (at_risk[ok] - deaths[ok]))))
    return rmst, var


def rmst_difference(data: pd.DataFrame, *, horizon: float, ci_level: float, notes: Notes, analysis: str,
                    inputs: str) -> dict:
    """RMST(high) - RMST(low) up to ``horizon`` months; ``data`` has ``T``, ``E`` and ``group``.

    The horizon is cut to the shorter of the groups' longest follow-up (with a warning), because the
    Kaplan-Meier curve is undefined past it.
    """
    groups = {g: part for g, part in data.groupby("group") if len(part)}
    if set(groups) != {"high", "low"}:
        return not_run("RMST difference", inputs=inputs, n=len(data), reason="one group only")
    reach = min(float(part["T"].max()) for part in groups.values())
    used = min(horizon, reach)
    if used < horizon:
        notes.warn(analysis, f"RMST horizon {horizon:g} months is past the follow-up of a group: cut to {used:g}")
    values = {}
    for name, part in groups.items():
        values[name] = km_rmst(part["T"].to_numpy(), part["E"].to_numpy(), used)
    diff = values["high"][0] - values["low"][0]
    se = float(np.sqrt(values["high"][1] + values["low"][1]))
    z = stats.norm.ppf(0.5 + ci_level / 2.0)
    p = float(2.0 * stats.norm.sf(abs(diff) / se)) if se > 0 else None
    return stat("RMST difference", inputs=inputs, n=len(data), estimate=diff,
                estimate_label=f"RMST high - low (months, horizon {used:g})",
                ci=(diff - z * se, diff + z * se) if se > 0 else None, ci_level=ci_level, p_value=p,
                method="area under each Kaplan-Meier curve to the horizon, Greenwood-type variance; normal "
                       "interval of the difference",
                horizon_months=used, rmst_high=values["high"][0], rmst_low=values["low"][0],
                n_high=int(len(groups["high"])), n_low=int(len(groups["low"])))


def episodes(data: pd.DataFrame, column: str, cut: float) -> pd.DataFrame:
    """Each patient's follow-up as (start, stop] episodes split at ``cut``, with the predictor as
    ``early`` (before the cut) and ``late`` (after) columns."""
    first = data.assign(start=0.0, stop=np.minimum(data["T"], cut), event=np.where(data["T"] <= cut, data["E"], 0))
    later = data[data["T"] > cut].assign(start=cut, stop=lambda d: d["T"], event=lambda d: d["E"])
    rows = pd.concat([first, later], ignore_index=True)
    early = rows["start"] < cut
    return rows.assign(early=np.where(early, rows[column], 0.0), late=np.where(early, 0.0, rows[column]))


def piecewise_hr(data: pd.DataFrame, *, column: str, cut: float, strata: list[str], ci_level: float,
                 notes: Notes, analysis: str, inputs: str, per: str) -> dict:
    """Hazard ratios of ``column`` (already on its analysis scale) before and after ``cut`` months.

    ``data`` has ``T``, ``E``, ``column`` and the strata columns, one row per patient.
    """
    from lifelines import CoxTimeVaryingFitter
    from lifelines.exceptions import ConvergenceError

    long = episodes(data.reset_index(drop=True).rename_axis("pid").reset_index(), column, cut)
    events = {"early": int(long.loc[long["start"] < cut, "event"].sum()),
              "late": int(long.loc[long["start"] >= cut, "event"].sum())}
    if min(events.values()) == 0:
        return not_run("piecewise Cox", inputs=inputs, n=len(data), reason="no events on one side of the break",
                       break_months=cut, events_early=events["early"], events_late=events["late"])
    fitter = CoxTimeVaryingFitter(alpha=1.0 - ci_level)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitter.fit(long[["pid", "start", "stop", "event", "early", "late", *strata]], id_col="pid",
                       event_col="event", start_col="start", stop_col="stop", strata=strata or None)
    except (ConvergenceError, np.linalg.LinAlgError, ValueError) as failed:
        notes.warn(analysis, f"piecewise Cox model did not converge ({str(failed).splitlines()[0]})")
        return not_run("piecewise Cox", inputs=inputs, n=len(data), reason="did not converge", break_months=cut)
    b = fitter.params_.to_numpy()
    cov = np.asarray(fitter.variance_matrix_, dtype=float)
    se = np.sqrt(np.diag(cov))
    z = stats.norm.ppf(0.5 + ci_level / 2.0)
    se_diff = float(np.sqrt(max(cov[0, 0] + cov[1, 1] - 2.0 * cov[0, 1], 0.0)))
    p_equal = float(2.0 * stats.norm.sf(abs(b[0] - b[1]) / se_diff)) if se_diff > 0 else None
    with np.errstate(over="ignore"):
        parts = {k: {"hazard_ratio": float(np.exp(b[i])), "ci_low": float(np.exp(b[i] - z * se[i])),
                     "ci_high": float(np.exp(b[i] + z * se[i])), "p_value": float(2.0 * stats.norm.sf(abs(b[i]) / se[i])),
                     "events": events[k]} for i, k in enumerate(("early", "late"))}
    return stat("piecewise Cox", inputs=inputs, n=len(data), estimate=parts["early"]["hazard_ratio"],
                estimate_label=f"hazard ratio {per}, first {cut:g} months",
                ci=(parts["early"]["ci_low"], parts["early"]["ci_high"]), ci_level=ci_level,
                p_value=parts["early"]["p_value"],
                method="lifelines CoxTimeVaryingFitter on episodes split at the break; Wald tests; p_equal: "
                       "Wald test of equal coefficients before and after",
                break_months=cut, early=parts["early"], late=parts["late"], p_equal=p_equal,
                strata=list(strata))
