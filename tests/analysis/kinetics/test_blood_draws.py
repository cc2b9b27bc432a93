"""Drawn blood curves, the Rubin combination and the interval of a sum of two t parts."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from immunopet.analysis.kinetics.blood import blood_input
from immunopet.analysis.kinetics.blood_draws import CurveDraws, point_rel_sd, refit_biexp
from immunopet.analysis.kinetics.patlak import patlak_fit, wls_lines
from immunopet.analysis.kinetics.rubin import combine
from immunopet.analysis.kinetics.t_sum import sum_t_half_width

HOURS = np.array([1.0, 48.0, 96.0, 168.0])


def _biexp(t):
    return 5.0 * np.exp(-np.log(2) * t / 10.0) + 8.0 * np.exp(-np.log(2) * t / 60.0)


def test_rubin_combination_by_hand():
    """Estimates 1, 2, 3 (m = 3): B = 1; within 0.5: T = 0.5 + (1 + 1/3) x 1 = 1.8333.

    Between part on m - 1 = 2 degrees of freedom (noise known); 1 / (1/2 + 1/6) = 1.5 with a noise
    estimate on 6.
    """
    c = combine(np.array([0.5]), np.array([[1.0], [2.0], [3.0]]), df_within=1)
    assert c.between[0] == pytest.approx(1.0)
    assert c.total[0] == pytest.approx(0.5 + 4.0 / 3.0)
    assert c.df_between[0] == pytest.approx(2.0)
    assert combine(np.array([0.5]), np.array([[1.0], [2.0], [3.0]]), df_within=1, df_noise=6).df_between[0] == \
        pytest.approx(1.5)
    # the half-width is at least each part's own t-interval
    h = c.half_width(0.95)[0]
    assert h >= stats.t.ppf(0.975, 1) * np.sqrt(0.5) and h >= stats.t.ppf(0.975, 2) * np.sqrt(4.0 / 3.0)


def test_sum_of_t_parts_limits():
    """One part zero: that part's own t; two normal parts: 1.96 sqrt(a^2 + b^2); two Cauchy: t(1) (a + b)."""
    assert sum_t_half_width(2.0, 1, 0.0, 5, 0.95) == pytest.approx(2.0 * stats.t.ppf(0.975, 1))
    assert sum_t_half_width(0.0, 1, 3.0, 5, 0.95) == pytest.approx(3.0 * stats.t.ppf(0.975, 5))
    assert sum_t_half_width(1.0, 1e9, 1.0, 1e9, 0.95) == pytest.approx(1.959964 * np.sqrt(2), rel=2e-3)
    assert sum_t_half_width(1.0, 1, 2.0, 1, 0.95) == pytest.approx(3.0 * stats.t.ppf(0.975, 1), rel=2e-3)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(1e-6, 1e3), b=st.floats(0, 1e3), nu_a=st.floats(1, 50), nu_b=st.floats(1, 500))
def test_combined_interval_never_narrower_than_either_part(a, b, nu_a, nu_b):
    h = sum_t_half_width(a, nu_a, b, nu_b, 0.95)
    assert h >= stats.t.ppf(0.975, nu_a) * a * (1 - 1e-9)
    assert h >= stats.t.ppf(0.975, nu_b) * b * (1 - 1e-9)


@settings(max_examples=40, deadline=None)
@given(bad=st.sampled_from([np.nan, np.inf]), where=st.sampled_from(["a", "b"]), others=st.integers(0, 3))
def test_a_non_finite_part_gives_no_interval_whatever_the_other_rows(bad, where, others):
    a, b = np.ones(1 + others), np.full(1 + others, 0.5)
    (a if where == "a" else b)[0] = bad
    h = sum_t_half_width(a, 3, b, 5, 0.95)
    assert np.isnan(h[0]) and np.isfinite(h[1:]).all()
    assert np.isnan(sum_t_half_width(a[:1], 3, b[:1], 5, 0.95)[0])  # alone or in a batch: the same


def test_refit_of_undisturbed_values_returns_the_fit_and_recovers_a_known_curve():
    curve = blood_input(HOURS, _biexp(HOURS))
    params, ok = refit_biexp(HOURS, np.tile(_biexp(HOURS), (3, 1)), curve.params)
    assert ok.all() and np.allclose(params, np.array(curve.params), rtol=1e-6)
    start = (4.0, 0.06, 9.0, 0.013)  # from elsewhere: converges to the curve through the four values
    params, ok = refit_biexp(HOURS, _biexp(HOURS)[None, :], start)
    assert ok.all() and np.allclose(params[0], [5.0, np.log(2) / 10, 8.0, np.log(2) / 60], rtol=1e-4)


def test_draws_spread_as_the_point_errors_and_are_reproducible():
    curve = blood_input(HOURS, _biexp(HOURS))
    rel = point_rel_sd(HOURS, _biexp(HOURS), volume_ml=3.0, noise=1e-3, decay_per_h=np.log(2) / 78.41)
    assert np.all(np.diff(rel) > 0)  # later points: fewer counts, larger relative error
    a = CurveDraws(curve, rel, 400, np.random.default_rng(3))
    b = CurveDraws(curve, rel, 400, np.random.default_rng(3))
    assert np.array_equal(a.integral(HOURS), b.integral(HOURS))
    spread = np.std(a.value(HOURS) / curve.value(HOURS), axis=0)
    assert np.allclose(spread, rel, rtol=0.15)
    loglinear = CurveDraws(blood_input(HOURS, _biexp(HOURS), method="loglinear"), rel, 50, np.random.default_rng(0))
    assert np.all(np.isfinite(loglinear.integral(HOURS)))


def test_vectorised_lines_equal_patlak_fit():
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(5, 60, (6, 4)), axis=1)
    y = 0.01 * x + 0.2 + rng.normal(0, 0.01, x.shape)
    w = rng.uniform(0.5, 2.0, x.shape)
    x[0, 3] = np.nan  # padding: a VOI with three points
    lines = wls_lines(x, y, w)
    for k in range(6):
        fit = patlak_fit(x[k], y[k], weights=w[k])
        assert lines.ki[k] == pytest.approx(fit.ki, rel=1e-10)
        assert lines.v_t[k] == pytest.approx(fit.v_t, rel=1e-10)
        assert np.sqrt(lines.ki_var[k]) == pytest.approx(fit.ki_se, rel=1e-8)
        assert np.sqrt(lines.v_t_var[k]) == pytest.approx(fit.v_t_se, rel=1e-8)
    assert np.isnan(wls_lines(x[:1, :2], y[:1, :2], w[:1, :2]).ki[0])


@settings(max_examples=30, deadline=None)
@given(scale=st.floats(1e-15, 1e12))
def test_a_line_does_not_depend_on_the_scale_of_its_weights(scale):
    """Count weights are known up to one factor: any factor gives the same line (batched and single)."""
    x = np.array([6.0, 20.0, 41.0, 60.0])
    y = 0.01 * x + 0.2 + np.array([0.003, -0.004, 0.002, -0.001])
    w = np.array([1.0, 0.7, 0.4, 0.2])
    reference = patlak_fit(x, y, weights=w)
    scaled = wls_lines(x, y, w * scale)
    assert float(scaled.ki) == pytest.approx(reference.ki, rel=1e-9)
    assert float(np.sqrt(scaled.v_t_var)) == pytest.approx(reference.v_t_se, rel=1e-9)
    assert patlak_fit(x, y, weights=w * scale).ki == pytest.approx(reference.ki, rel=1e-9)


def test_v_t_standard_error_with_drawn_blood_curves_recomputed_draw_by_draw():
    """``v_t_se`` (and ``ki_se``) of a blood-draw interval = Rubin's total from single refits, one per draw.

    The intervals' batched refits are recomputed here VOI by VOI and draw by draw with ``patlak_fit``
    on the same drawn curves (same patient seed), and combined by hand: ``T = U + (1 + 1/m) B``.
    """
    from immunopet.analysis.kinetics.patlak import patlak_coordinates
    from immunopet.analysis.kinetics.patlak_blood import VoiPoints, blood_intervals, noise_factor, patient_seed

    decay, blood_ml, m = np.log(2) / 78.41, 2.9, 60
    curve = blood_input(HOURS, _biexp(HOURS))
    rng = np.random.default_rng(7)
    vois = []
    for ki, v_t, ml in ((0.004, 0.3, 12.0), (0.001, 0.6, 300.0)):
        tissue = ki * curve.integral(HOURS) + v_t * curve.value(HOURS)
        tissue = tissue * (1 + rng.normal(0, 0.03, HOURS.size))
        x, y, counts = patlak_coordinates(HOURS, tissue, curve.value(HOURS), curve.integral(HOURS), tissue_ml=ml,
                                          blood_ml=blood_ml, decay_per_h=decay)
        vois.append(VoiPoints(HOURS, tissue, np.full(HOURS.size, ml), x, y, counts,
                              patlak_fit(x, y, weights=counts)))
    out = blood_intervals(curve, vois, blood_ml=blood_ml, draws=m, seed=5, patient_id="P07", decay_per_h=decay,
                          weights="counts", ci_level=0.95)
    kappa, _ = noise_factor(vois)
    rel = point_rel_sd(curve.hours, curve.value(curve.hours), volume_ml=blood_ml, noise=kappa, decay_per_h=decay)
    draws = CurveDraws(curve, rel, m, patient_seed(5, "P07"))
    value, integral = draws.value(HOURS), draws.integral(HOURS)
    for voi, result in zip(vois, out):
        refits = []
        for i in range(m):
            x, y, counts = patlak_coordinates(HOURS, voi.tissue, value[i], integral[i], tissue_ml=voi.tissue_ml,
                                              blood_ml=blood_ml, decay_per_h=decay)
            refits.append(patlak_fit(x, y, weights=counts))
        v_t_total = voi.fit.v_t_se**2 + (1 + 1 / m) * np.var([f.v_t for f in refits], ddof=1)
        ki_total = voi.fit.ki_se**2 + (1 + 1 / m) * np.var([f.ki for f in refits], ddof=1)
        assert result["ci_kind"] == "blood_draws"
        assert result["v_t_se"] == pytest.approx(np.sqrt(v_t_total), rel=1e-8)
        assert result["ki_se"] == pytest.approx(np.sqrt(ki_total), rel=1e-8)
        assert result["v_t_se"] > voi.fit.v_t_se  # the blood curve's error widens V_T too
