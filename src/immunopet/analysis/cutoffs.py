"""Which cut-off splits a predictor for Kaplan-Meier / log-rank, and how the p-value moves with it.

A prespecified cut-off (``analysis.cutoffs`` of ``study.yaml``, or ``--split VALUE``) is the
analysis; without one the median is used and labelled data-driven. The scan over the 25th-75th
percentile cut-offs shows how unstable a split p-value is (Altman DG, Lausen B, Sauerbrei W,
Schumacher M. Dangers of using "optimal" cutpoints in the evaluation of prognostic factors. *J Natl
Cancer Inst* 1994;86:829-835); it is a sensitivity analysis, never a search for the best cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.study.analysis_plan import CutOff

#: Quantiles of the cut-off scan (25th to 75th percentile in 5-point steps).
SCAN_QUANTILES = tuple(np.round(np.arange(0.25, 0.7501, 0.05), 2))
SCAN_COLUMNS = ["quantile", "cutoff", "n_high", "n_low", "events", "statistic", "p_value"]


def resolve(values: pd.Series, *, cutoff: CutOff | None, override: float | None = None) -> tuple[float, str, str]:
    """(cut value, source, label) for a predictor; "high" is strictly above the value.

    ``override`` (``--split VALUE``) wins over the plan's cut-off, which wins over the median.
    """
    finite = pd.to_numeric(values, errors="coerce").dropna()
    if override is not None:
        return float(override), "prespecified value (--split)", f"> {override:g}"
    if cutoff is not None and cutoff.value is not None:
        return float(cutoff.value), "prespecified value", cutoff.label or f"> {cutoff.value:g}"
    if cutoff is not None and cutoff.quantile is not None:
        value = float(np.quantile(finite, cutoff.quantile)) if len(finite) else np.nan
        return value, f"prespecified quantile {cutoff.quantile:g}", cutoff.label or f"> {100 * cutoff.quantile:g}th percentile"
    value = float(finite.median()) if len(finite) else np.nan
    return value, "median (data-driven)", "> median"


def logrank_chi2(durations: np.ndarray, events: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Log-rank (Mantel-Haenszel) chi-square of each row of the boolean ``high`` (k, n) against the rest.

    At each distinct event time: observed high-group events, expected ``d n1 / n`` and the
    hypergeometric variance ``d (n1/n)(1 - n1/n)(n - d)/(n - 1)``; chi2 = (O - E)^2 / V. Vectorised
    over the k splits (``lifelines.statistics.logrank_test`` gives the same statistic, one split at
    a time).
    """
    t = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=float) > 0
    high = np.atleast_2d(high).astype(float)
    times = np.unique(t[e])
    at_risk = (t[None, :] >= times[:, None]).astype(float)  # (m, n)
    died = ((t[None, :] == times[:, None]) & e[None, :]).astype(float)
    n, d = at_risk.sum(axis=1), died.sum(axis=1)
    n1, d1 = high @ at_risk.T, high @ died.T  # (k, m)
    expected = d * n1 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.where(n > 1, d * (n1 / n) * (1 - n1 / n) * (n - d) / np.maximum(n - 1, 1), 0.0)
        return ((d1 - expected).sum(axis=1)) ** 2 / var.sum(axis=1)


def scan(data: pd.DataFrame, column: str) -> pd.DataFrame:
    """Log-rank test of ``data`` (``T``, ``E``, ``column``) split at each scan quantile.

    Quantiles that give the same split as a lower one are dropped (an ordinal score has few
    distinct cuts); a split with an empty group is left out.
    """
    from scipy import stats

    values = data[column].to_numpy(dtype=float)
    picked, seen = [], set()
    for q in SCAN_QUANTILES:
        cut = float(np.quantile(values, q)) if len(values) else np.nan
        high = values > cut
        if tuple(high) in seen or high.all() or not high.any():
            continue
        seen.add(tuple(high))
        picked.append((float(q), cut, high))
    if not picked or data["E"].sum() == 0:
        return pd.DataFrame(columns=SCAN_COLUMNS)
    chi2 = logrank_chi2(data["T"].to_numpy(), data["E"].to_numpy(), np.array([h for _, _, h in picked]))
    rows = [{"quantile": q, "cutoff": cut, "n_high": int(h.sum()), "n_low": int((~h).sum()),
             "events": int(data["E"].sum()), "statistic": float(c), "p_value": float(stats.chi2.sf(c, 1))}
            for (q, cut, h), c in zip(picked, chi2, strict=True)]
    return pd.DataFrame(rows, columns=SCAN_COLUMNS)
