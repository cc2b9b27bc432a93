"""Patlak analysis: ``C_T(t) / C_B(t) = Ki * integral_0^t C_B ds / C_B(t) + V_T``, by weighted least squares.

Patlak CS, Blasberg RG, Fenstermacher JD. J Cereb Blood Flow Metab 1983;3:1-7; for 89Zr-labelled
antibodies Jauw YWS et al., J Nucl Med 2019;60:1696-1702. The fit, its weights and its standard
errors are defined in ``docs/kinetics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats

#: Fewer points than this give no fit (a line through two points has no residual to judge it by).
MIN_POINTS = 3


@dataclass(frozen=True)
class PatlakFit:
    """One Patlak fit. ``ki`` in 1/h; every number ``nan`` and ``reason`` set when not fitted."""

    ki: float
    ki_se: float
    ki_ci_low: float
    ki_ci_high: float
    v_t: float
    v_t_se: float
    n_points: int
    df: int
    ci_level: float
    reason: str = ""

    def as_dict(self) -> dict:
        return {"ki_per_h": self.ki, "ki_se": self.ki_se, "ki_ci_low": self.ki_ci_low, "ki_ci_high": self.ki_ci_high,
                "v_t": self.v_t, "v_t_se": self.v_t_se, "n_points": self.n_points, "df": self.df,
                "reason": self.reason or None}


@lru_cache(maxsize=256)
def _t_quantile(level: float, df: int) -> float:
    return float(stats.t.ppf(0.5 + level / 2.0, df))


def _no_fit(n: int, ci_level: float, reason: str) -> PatlakFit:
    nan = float("nan")
    return PatlakFit(nan, nan, nan, nan, nan, nan, n, max(n - 2, 0), ci_level, reason)


def patlak_fit(x: np.ndarray, y: np.ndarray, *, weights: np.ndarray | None = None,
               ci_level: float = 0.95) -> PatlakFit:
    """Weighted least-squares line ``y = Ki x + V_T`` with standard errors and a t-interval for Ki.

    Parameters
    ----------
    x
        Normalised time, ``integral_0^t C_B / C_B(t)`` (hours).
    y
        ``C_T(t) / C_B(t)``.
    weights
        Inverse variances of ``y`` up to one common factor (``None``: equal weights). The factor is
        estimated from the residuals, ``s^2 = sum w r^2 / (n - 2)``, so the covariance is
        ``s^2 (X' W X)^-1`` and the interval uses Student's t with ``n - 2`` degrees of freedom.
    ci_level
        Confidence level of the Ki interval.

    Returns
    -------
    PatlakFit
        With ``reason`` (and NaN numbers) when there are fewer than 3 finite points or the x values
        do not spread.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    x, y, w = x[ok], y[ok], w[ok]
    n = int(x.size)
    if n < MIN_POINTS:
        return _no_fit(n, ci_level, f"{n} usable point(s): Patlak needs at least {MIN_POINTS}")
    w = w / w.mean()
    line = wls_lines(x, y, w)  # one line: the same arithmetic as the batched refits
    ki, v_t = float(line.ki), float(line.v_t)
    if not np.isfinite(ki):
        return _no_fit(n, ci_level, "the points share one normalised time: no slope can be fitted")
    df = n - 2
    ki_se, v_t_se = float(np.sqrt(line.ki_var)), float(np.sqrt(line.v_t_var))
    half = _t_quantile(float(ci_level), df) * ki_se
    return PatlakFit(ki, ki_se, ki - half, ki + half, v_t, v_t_se, n, df, ci_level)


@dataclass(frozen=True)
class Lines:
    """Weighted least-squares lines fitted along the last axis (``wls_lines``)."""

    ki: np.ndarray
    v_t: np.ndarray
    ki_var: np.ndarray
    v_t_var: np.ndarray
    df: np.ndarray


def wls_lines(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> Lines:
    """``patlak_fit``'s estimates and variances for many lines at once (points along the last axis).

    Points with a non-finite ``x``, ``y`` or weight, or a weight <= 0, are left out (padding). Lines
    with fewer than 3 points or no spread of ``x`` get NaN.
    """
    x, y, w = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, y, w)))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    w = np.where(ok, w, 0.0)
    x, y = np.where(ok, x, 0.0), np.where(ok, y, 0.0)
    n = ok.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sw = w.sum(axis=-1)
        xm, ym = (w * x).sum(axis=-1) / sw, (w * y).sum(axis=-1) / sw
        dx = np.where(ok, x - xm[..., None], 0.0)
        sxx = (w * dx**2).sum(axis=-1)
        ki = (w * dx * (y - ym[..., None])).sum(axis=-1) / sxx
        v_t = ym - ki * xm
        resid = np.where(ok, y - (ki[..., None] * x + v_t[..., None]), 0.0)
        df = n - 2
        s2 = (w * resid**2).sum(axis=-1) / df
        bad = (n < MIN_POINTS) | ~(sxx > 1e-12 * (w * x * x).sum(axis=-1))  # no spread of x, at any weight scale
        ki_var, v_t_var = s2 / sxx, s2 * (1.0 / sw + xm**2 / sxx)
    nan = np.nan
    return Lines(np.where(bad, nan, ki), np.where(bad, nan, v_t), np.where(bad, nan, ki_var),
                 np.where(bad, nan, v_t_var), df)


def count_weights(hours: np.ndarray, tissue: np.ndarray, blood: np.ndarray, *, tissue_ml: np.ndarray | float,
                  blood_ml: np.ndarray | float | None, decay_per_h: float) -> np.ndarray:
    """Inverse relative variances of ``y = C_T / C_B`` from counting statistics (up to one factor).

    A VOI of volume ``V`` with decay-corrected concentration ``C`` at ``t`` holds counts proportional
    to ``C V exp(-lambda t)``, so its relative variance is proportional to
    ``exp(lambda t) / (C V)``; the two VOIs' relative variances add for the ratio
    (``blood_ml=None``: a blood-sample input, its counting error neglected). The weight is
    ``1 / (y^2 * relative variance)``.
    """
    t = np.asarray(hours, dtype=np.float64)
    ct, cb = np.asarray(tissue, dtype=np.float64), np.asarray(blood, dtype=np.float64)
    growth = np.exp(decay_per_h * t)
    rel = growth / (np.maximum(ct, 1e-12) * np.asarray(tissue_ml, dtype=np.float64))
    if blood_ml is not None:
        rel = rel + growth / (np.maximum(cb, 1e-12) * np.asarray(blood_ml, dtype=np.float64))
    y = ct / cb
    return 1.0 / (np.maximum(y, 1e-12) ** 2 * rel)


def patlak_coordinates(hours: np.ndarray, tissue: np.ndarray, blood: np.ndarray, blood_integral: np.ndarray, *,
                       tissue_ml: np.ndarray | float, blood_ml: np.ndarray | float | None,
                       decay_per_h: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Patlak plot's ``x = integral C_B / C_B``, ``y = C_T / C_B`` and the count weights of ``y``
    (:func:`count_weights`), for one curve or many (any shapes that broadcast)."""
    x, y = blood_integral / blood, tissue / blood
    w = count_weights(hours, tissue, blood, tissue_ml=tissue_ml, blood_ml=blood_ml, decay_per_h=decay_per_h)
    return x, y, w
