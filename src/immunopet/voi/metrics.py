"""Uptake statistics of one VOI: pure functions of voxel values and (optional) weights.

Definitions (see docs/metrics.md; ``x_v`` = SUV of voxel v, ``w_v`` = mask weight, 1 for a binary
mask, the partial-volume fraction in (0, 1] for a fractional mask; only voxels with ``w_v > 0``
are passed in, the VOI's *support*):

- ``suv_max`` = max over the support of x_v; ``suv_min`` = min over the support (weights ignored);
- ``suv_mean`` = sum(w x) / sum(w);
- ``suv_sd`` = sqrt(sum(w (x - mean)^2) / sum(w)): the population standard deviation (ddof = 0,
  as IBSI's intensity variance), weighted for fractional masks;
- quantiles ``suv_median``, ``suv_p05``, ``suv_p25``, ``suv_p75``, ``suv_p95``: binary masks use
  linear interpolation between order statistics (Hyndman & Fan type 7, numpy's default);
  fractional masks use the weighted inverted empirical CDF (type 1, the smallest x whose
  cumulative weight reaches q);
- ``n_voxels`` = number of support voxels; ``volume_ml`` = sum(w) x voxel volume (mL);
- ``tlu`` (total lesion uptake) = suv_mean x volume_ml (SUV x mL);
- ``mean_bqml`` = sum(w a) / sum(w), a = activity concentration (Bq/mL);
- ``pct_id`` = 100 x sum(w a) x voxel volume (mL) / injected activity at the image reference time (Bq).
"""

from __future__ import annotations

import numpy as np

QUANTILES = {"suv_p05": 0.05, "suv_p25": 0.25, "suv_median": 0.5, "suv_p75": 0.75, "suv_p95": 0.95}


def weighted_quantiles(values: np.ndarray, weights: np.ndarray | None, qs: list[float]) -> np.ndarray:
    """Quantiles: type 7 (linear) without weights; weighted inverted CDF (type 1) with weights."""
    if weights is None:
        return np.quantile(values, qs)
    return np.quantile(values, qs, weights=weights, method="inverted_cdf")


def intensity_statistics(values: np.ndarray, weights: np.ndarray | None = None) -> dict[str, float]:
    """SUV statistics of one VOI's support voxels (definitions in the module docstring).

    Parameters
    ----------
    values
        SUV (or any intensity) of each support voxel, 1-D.
    weights
        Mask weights in (0, 1] of the same voxels, or None for a binary mask.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return {k: np.nan for k in ("suv_max", "suv_min", "suv_mean", "suv_sd", *QUANTILES)}
    if weights is None:
        mean = float(x.mean())
        sd = float(x.std(ddof=0))
    else:
        w = np.asarray(weights, dtype=np.float64)
        mean = float(np.sum(w * x) / np.sum(w))
        sd = float(np.sqrt(np.sum(w * (x - mean) ** 2) / np.sum(w)))
    quantiles = weighted_quantiles(x, weights, list(QUANTILES.values()))
    return {
        "suv_max": float(x.max()),
        "suv_min": float(x.min()),
        "suv_mean": mean,
        "suv_sd": sd,
        **{name: float(q) for name, q in zip(QUANTILES, quantiles)},
    }


def volume_ml(weights: np.ndarray | None, n_voxels: int, voxel_volume_ml: float) -> float:
    """sum(w) x voxel volume; n_voxels x voxel volume for binary masks."""
    total = float(n_voxels) if weights is None else float(np.sum(weights, dtype=np.float64))
    return total * voxel_volume_ml


def activity_metrics(
    activity: np.ndarray | None, weights: np.ndarray | None, voxel_volume_ml: float, injected_bq: float | None
) -> dict[str, float]:
    """``mean_bqml`` and ``pct_id`` (NaN when the activity or the injected activity is unknown)."""
    if activity is None or np.size(activity) == 0:
        return {"mean_bqml": np.nan, "pct_id": np.nan}
    a = np.asarray(activity, dtype=np.float64)
    w = np.ones_like(a) if weights is None else np.asarray(weights, dtype=np.float64)
    total_bq = float(np.sum(w * a)) * voxel_volume_ml
    mean_bqml = total_bq / (float(np.sum(w)) * voxel_volume_ml)
    pct = 100.0 * total_bq / injected_bq if injected_bq is not None and injected_bq > 0 else np.nan
    return {"mean_bqml": mean_bqml, "pct_id": pct}


def ratios_to_blood(suv_max: float, suv_peak: float, suv_mean: float, blood_mean: float | None) -> dict[str, float]:
    """Tumour-to-blood ratios: metric / blood-pool SUVmean (NaN without a usable blood pool)."""
    if blood_mean is None or not np.isfinite(blood_mean) or blood_mean <= 0:
        return {"tbr_max": np.nan, "tbr_peak": np.nan, "tbr_mean": np.nan}
    return {"tbr_max": suv_max / blood_mean, "tbr_peak": suv_peak / blood_mean, "tbr_mean": suv_mean / blood_mean}
