"""What a Cox model needs beside its hazard ratio: the likelihood-ratio test (also under strata), the
Schoenfeld-residual test of proportional hazards, and Harrell's C with a bootstrap interval.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats


def null_log_likelihood(durations: np.ndarray, events: np.ndarray, strata: np.ndarray | None = None) -> float:
    """Log partial likelihood at beta = 0 with Efron's ties, within strata.

    At beta = 0 every risk score is 1, so at an event time with ``d`` tied events and ``r`` patients
    at risk Efron's term is ``-sum_{l=0}^{d-1} log(r - l)``. (lifelines' own likelihood-ratio test
    compares with an *unstratified* null model, wrong for a stratified fit.)
    """
    durations = np.asarray(durations, dtype=float)
    events = np.asarray(events, dtype=bool)
    strata = np.zeros(durations.size) if strata is None else np.asarray(strata)
    total = 0.0
    for level in pd.unique(strata):
        t, e = durations[strata == level], events[strata == level]
        for time in np.unique(t[e]):
            d = int(np.sum(e & (t == time)))
            r = int(np.sum(t >= time))
            total -= float(np.sum(np.log(r - np.arange(d))))
    return total


def lr_test(ll_full: float, ll_reduced: float, df: int) -> tuple[float, float]:
    """Likelihood-ratio chi-square and p of nested models (chi-square with ``df`` degrees of freedom)."""
    chi2 = max(2.0 * (ll_full - ll_reduced), 0.0)
    return chi2, float(stats.chi2.sf(chi2, df))


def schoenfeld_test(fitter, data: pd.DataFrame, *, transform: str = "rank") -> dict[str, object]:
    """Grambsch-Therneau test of proportional hazards per covariate (lifelines).

    ``lifelines.statistics.proportional_hazard_test`` (scaled Schoenfeld residuals against the rank
    of the event times; Grambsch & Therneau, *Biometrika* 1994;81:515-526). Returns ``ph_test_p``
    (covariate -> p), ``ph_test_chi2`` and ``ph_transform``; ``None`` values when it cannot run.
    """
    from lifelines.statistics import proportional_hazard_test

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = proportional_hazard_test(fitter, data, time_transform=transform)
    except (ValueError, np.linalg.LinAlgError, ZeroDivisionError):
        return {"ph_test_p": None, "ph_test_chi2": None, "ph_transform": transform}
    summary = result.summary
    index = [name[-1] if isinstance(name, tuple) else name for name in summary.index]
    return {"ph_test_p": dict(zip(index, summary["p"].astype(float), strict=True)),
            "ph_test_chi2": dict(zip(index, summary["test_statistic"].astype(float), strict=True)),
            "ph_transform": transform}


def _pair_matrices(durations: np.ndarray, events: np.ndarray, risk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(usable, concordant) pair matrices of Harrell's C; concordant counts ties in risk one half.

    A pair (i, j) is usable when i has an event and either ``t_i < t_j`` or the times are equal and j
    is censored (the pairs of ``lifelines.utils.concordance_index``); concordant when i has the
    higher risk.
    """
    t, e, r = (np.asarray(a, dtype=float) for a in (durations, events, risk))
    ti, tj, ei, ej = t[:, None], t[None, :], e[:, None] > 0, e[None, :] > 0
    usable = (ei & ((ti < tj) | ((ti == tj) & ~ej))).astype(float)
    diff = r[:, None] - r[None, :]
    return usable, usable * np.where(diff > 0, 1.0, np.where(diff == 0, 0.5, 0.0))


def harrell_c(durations: np.ndarray, events: np.ndarray, risk: np.ndarray) -> float:
    """Harrell's concordance of ``risk`` (higher = earlier event)."""
    usable, concordant = _pair_matrices(durations, events, risk)
    return float(concordant.sum() / usable.sum()) if usable.sum() > 0 else float("nan")


def concordance_interval(durations: np.ndarray, events: np.ndarray, risk: np.ndarray, *, n_boot: int, seed: int,
                         ci_level: float) -> tuple[float, float | None, float | None]:
    """Harrell's C of a fixed risk score and its percentile bootstrap interval over patients.

    A resample that draws patient i ``w_i`` times has ``C* = w'Kw / w'Uw`` (U usable pairs, K
    concordant), so every replicate is two matrix products over the original pairs (a patient
    paired with its own copy is never usable). The score is held fixed (the model is not refitted).
    """
    usable, concordant = _pair_matrices(durations, events, risk)
    c = float(concordant.sum() / usable.sum()) if usable.sum() > 0 else float("nan")
    n = len(durations)
    if n_boot <= 0 or n < 3 or not np.isfinite(c):
        return c, None, None
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    weights = np.zeros((n_boot, n))
    np.add.at(weights, (np.repeat(np.arange(n_boot), n), idx.ravel()), 1.0)
    den = ((weights @ usable) * weights).sum(axis=1)
    num = ((weights @ concordant) * weights).sum(axis=1)
    boot = num[den > 0] / den[den > 0]
    if boot.size < 10:
        return c, None, None
    tail = (1.0 - ci_level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return c, float(low), float(high)
