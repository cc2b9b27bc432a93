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


def harrell_c(durations: np.ndarray, events: np.ndarray, risk: np.ndarray) -> np.ndarray:
    """Harrell's concordance of ``risk`` (higher = earlier event) along the last axis, vectorised.

    A pair (i, j) is usable when i has an event and either ``t_i < t_j`` or the times are equal and j is
    censored; concordant when i has the higher risk; ties in risk count one half (the pairs of
    ``lifelines.utils.concordance_index``).
    """
    t, e, r = (np.asarray(a, dtype=float) for a in (durations, events, risk))
    ti, tj, ei, ej = t[..., :, None], t[..., None, :], e[..., :, None] > 0, e[..., None, :] > 0
    usable = ei & ((ti < tj) | ((ti == tj) & ~ej))
    diff = r[..., :, None] - r[..., None, :]
    score = np.where(diff > 0, 1.0, np.where(diff == 0, 0.5, 0.0))
    pairs = usable.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(pairs > 0, (score * usable).sum(axis=(-2, -1)) / pairs, np.nan)


def concordance_interval(durations: np.ndarray, events: np.ndarray, risk: np.ndarray, *, n_boot: int, seed: int,
                         ci_level: float) -> tuple[float, float | None, float | None]:
    """Harrell's C of a fixed risk score and its percentile bootstrap interval over patients.

    The score is held fixed (the model is not refitted), so the interval reflects sampling of
    patients only; it is wider, not narrower, once refitting is added.
    """
    c = float(harrell_c(durations, events, risk))
    if n_boot <= 0 or len(durations) < 3:
        return c, None, None
    idx = np.random.default_rng(seed).integers(0, len(durations), size=(n_boot, len(durations)))
    boot = np.concatenate([harrell_c(np.asarray(durations)[part], np.asarray(events)[part], np.asarray(risk)[part])
                           for part in np.array_split(idx, max(1, n_boot // 500))])
    boot = boot[np.isfinite(boot)]
    if boot.size < 10:
        return c, None, None
    tail = (1.0 - ci_level) / 2.0
    low, high = np.quantile(boot, [tail, 1.0 - tail])
    return c, float(low), float(high)
