"""Pure metric functions: hand-derived values for uniform, two-level and weighted voxel sets."""

from __future__ import annotations

import numpy as np
import pytest

from immunopet.voi.metrics import activity_metrics, intensity_statistics, ratios_to_blood, volume_ml


def test_uniform_values():
    s = intensity_statistics(np.full(60, 4.0))
    for key in ("suv_max", "suv_min", "suv_mean", "suv_median", "suv_p05", "suv_p95"):
        assert s[key] == 4.0
    assert s["suv_sd"] == 0.0


def test_two_level_values_population_sd_and_type7_quantiles():
    values = np.r_[np.full(30, 2.0), np.full(30, 6.0)]
    s = intensity_statistics(values)
    assert s["suv_mean"] == 4.0
    assert s["suv_sd"] == pytest.approx(2.0)  # ddof = 0; the sample SD would be 2.0169
    assert s["suv_median"] == 4.0  # halfway between the 30th and 31st order statistics
    assert (s["suv_p05"], s["suv_p25"], s["suv_p75"], s["suv_p95"]) == (2.0, 2.0, 6.0, 6.0)
    assert (s["suv_min"], s["suv_max"]) == (2.0, 6.0)


def test_type7_interpolation_on_a_ramp():
    s = intensity_statistics(np.arange(11.0))  # 0..10: quantile q is at position 10 q
    assert (s["suv_p05"], s["suv_p25"], s["suv_median"], s["suv_p95"]) == pytest.approx((0.5, 2.5, 5.0, 9.5))


def test_weighted_statistics():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    weights = np.array([1.0, 0.5, 0.5, 1.0])
    s = intensity_statistics(values, weights)
    assert s["suv_mean"] == pytest.approx(7.5 / 3)
    assert s["suv_sd"] == pytest.approx(np.sqrt(4.75 / 3))
    # cumulative weight shares 1/3, 1/2, 2/3, 1: inverted CDF
    assert (s["suv_p25"], s["suv_median"], s["suv_p75"]) == (1.0, 2.0, 4.0)
    assert (s["suv_min"], s["suv_max"]) == (1.0, 4.0)
    assert volume_ml(weights, 4, 0.5) == pytest.approx(1.5)


def test_activity_metrics_and_ratios():
    a = activity_metrics(np.full(10, 5000.0), None, 0.2, 1e6)
    assert a["mean_bqml"] == pytest.approx(5000.0)
    assert a["pct_id"] == pytest.approx(100 * 5000 * 10 * 0.2 / 1e6)
    assert np.isnan(activity_metrics(np.full(10, 5000.0), None, 0.2, None)["pct_id"])
    assert np.isnan(activity_metrics(None, None, 0.2, 1e6)["mean_bqml"])
    r = ratios_to_blood(8.0, 6.0, 4.0, 2.0)
    assert (r["tbr_max"], r["tbr_peak"], r["tbr_mean"]) == (4.0, 3.0, 2.0)
    assert np.isnan(ratios_to_blood(8.0, 6.0, 4.0, None)["tbr_max"])
