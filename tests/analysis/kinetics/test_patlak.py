"""Patlak weighted least squares: a hand-computed 3-point example, refusals, weights."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.analysis.kinetics.patlak import count_weights, patlak_fit


def test_three_points_by_hand():
    """x = 10, 20, 40 h; y = 0.30, 0.52, 0.86.

    Means: x 70/3, y 1.68/3 = 0.56. Sxx = (-13.33)^2 + (-3.33)^2 + 16.67^2 = 466.67;
    Sxy = (-13.33)(-0.26) + (-3.33)(-0.04) + 16.67(0.30) = 8.6; Ki = 8.6 / 466.67 = 0.018429;
    V_T = 0.56 - 0.018429 x 23.33 = 0.13; residuals 0.30 - 0.31429 = -0.014286, 0.52 - 0.49857 =
    0.021429, 0.86 - 0.86714 = -0.007143; RSS = 0.00071429, s^2 = RSS / 1; SE(Ki) = sqrt(s^2 / Sxx)
    = 0.0012372; t(0.975, 1) = 12.706; CI 0.018429 -+ 0.015720.
    """
    fit = patlak_fit(np.array([10.0, 20.0, 40.0]), np.array([0.30, 0.52, 0.86]))
    assert fit.ki == pytest.approx(0.0184286, rel=1e-5)
    assert fit.v_t == pytest.approx(0.13, rel=1e-5)
    assert fit.ki_se == pytest.approx(0.00123718, rel=1e-4)
    assert fit.v_t_se == pytest.approx(np.sqrt(0.00071429 * (1 / 3 + (70 / 3) ** 2 / 466.667)), rel=1e-4)
    assert (fit.ki_ci_low, fit.ki_ci_high) == pytest.approx((0.0184286 - 0.0157197, 0.0184286 + 0.0157197), rel=1e-4)
    assert fit.n_points == 3 and fit.df == 1 and not fit.reason


def test_weights_change_the_fit_as_weighted_least_squares_does():
    x, y, w = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.1, 1.9, 3.2, 3.9]), np.array([1.0, 4.0, 1.0, 2.0])
    fit = patlak_fit(x, y, weights=w)
    slope, intercept = np.polyfit(x, y, 1, w=np.sqrt(w))  # numpy weights multiply the residuals
    assert fit.ki == pytest.approx(slope, rel=1e-10) and fit.v_t == pytest.approx(intercept, rel=1e-10)
    again = patlak_fit(x, y, weights=1000.0 * w)  # only relative weights matter
    assert again.ki_se == pytest.approx(fit.ki_se, rel=1e-10)


@pytest.mark.parametrize("x, y, reason", [([1.0, 2.0], [1.0, 2.0], "at least 3"),
                                          ([1.0, 2.0, np.nan], [1.0, 2.0, 3.0], "at least 3"),
                                          ([5.0, 5.0, 5.0], [1.0, 2.0, 3.0], "one normalised time")])
def test_no_fit_is_stated(x, y, reason):
    fit = patlak_fit(np.array(x), np.array(y))
    assert reason in fit.reason and np.isnan(fit.ki) and np.isnan(fit.ki_ci_low)


def test_count_weights_follow_counting_statistics():
    # relative variance exp(lambda t) / (C V): a VOI twice as large or twice as hot halves it
    w = count_weights(np.array([0.0, 0.0]), np.array([1.0, 2.0]), np.array([1.0, 1.0]), tissue_ml=np.array([2.0, 1.0]),
                      blood_ml=None, decay_per_h=0.01)
    assert w[0] == pytest.approx(2.0) and w[1] == pytest.approx(2.0 / 4.0)
    late = count_weights(np.array([100.0]), np.array([1.0]), np.array([1.0]), tissue_ml=1.0, blood_ml=1.0,
                         decay_per_h=0.01)
    assert late[0] == pytest.approx(1.0 / (2.0 * np.exp(1.0)))


@settings(max_examples=80, deadline=None)
@given(st.floats(-0.05, 0.2), st.floats(-1.0, 5.0),
       st.lists(st.floats(0.5, 500.0), min_size=3, max_size=7, unique=True))
def test_exact_lines_are_recovered(ki, v_t, xs):
    x = np.array(xs)
    if np.ptp(x) < 1e-3 * x.max():
        return
    fit = patlak_fit(x, ki * x + v_t)
    assert fit.ki == pytest.approx(ki, abs=1e-9) and fit.v_t == pytest.approx(v_t, abs=1e-7)
    assert fit.ki_ci_low <= fit.ki + 1e-12 <= fit.ki_ci_high + 2e-12
