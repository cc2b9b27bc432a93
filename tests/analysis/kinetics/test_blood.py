"""The blood input: bi-exponential fit and exponential interpolation from injection on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.analysis.kinetics.blood import blood_input
from immunopet.analysis.kinetics.patlak import patlak_fit
from immunopet.simulate.kinetics import BloodCurve, tissue_suv

TRUE = BloodCurve(5.0, 10.0, 8.0, 60.0)
HOURS = np.array([1.0, 48.0, 96.0, 168.0])


def test_biexp_recovers_the_curve_and_its_integral_from_injection():
    curve = blood_input(HOURS, TRUE.suv(HOURS))
    assert curve.method == "biexp"
    grid = np.array([0.0, 0.5, 1.0, 20.0, 48.0, 100.0, 168.0, 300.0])
    np.testing.assert_allclose(curve.value(grid), TRUE.suv(grid), rtol=1e-6)
    np.testing.assert_allclose(curve.integral(grid), TRUE.integral(grid), rtol=1e-6, atol=1e-9)
    assert curve.as_dict()["half_life1_h"] == pytest.approx(10.0, rel=1e-5)
    # the Laplace transform at the 89Zr decay constant: sum a / (k + lambda)
    lam = np.log(2) / 78.41
    expected = sum(a / (np.log(2) / th + lam) for a, th in ((5.0, 10.0), (8.0, 60.0)))
    assert curve.laplace(lam) == pytest.approx(expected, rel=1e-6)


def test_loglinear_is_exact_for_one_exponential_and_extrapolates_back_to_injection():
    hours = np.array([2.0, 10.0, 30.0])
    values = 4.0 * np.exp(-0.05 * hours)
    curve = blood_input(hours, values, method="loglinear")
    assert curve.value(0.0) == pytest.approx(4.0)
    # integral_0^t 4 exp(-0.05 s) ds = 80 (1 - exp(-0.05 t)), also beyond the last sample
    for t in (1.0, 2.0, 17.0, 30.0, 50.0):
        assert curve.integral(t) == pytest.approx(80.0 * (1 - np.exp(-0.05 * t)), rel=1e-9)
    assert curve.laplace(0.01) == pytest.approx(4.0 / 0.06, rel=1e-9)


def test_loglinear_with_a_stated_start_value_and_a_flat_segment():
    curve = blood_input(np.array([1.0, 3.0]), np.array([2.0, 2.0]), method="loglinear", start_value=2.0)
    assert curve.integral(3.0) == pytest.approx(6.0)  # flat at 2 from injection on
    assert curve.early_fraction(3.0) == pytest.approx(1.0 / 3.0)


def test_biexp_falls_back_to_interpolation_with_few_samples_and_says_so():
    curve = blood_input(np.array([1.0, 48.0, 168.0]), TRUE.suv(np.array([1.0, 48.0, 168.0])))
    assert curve.method == "loglinear" and "fewer than 4" in curve.note


@pytest.mark.parametrize("hours, values", [([1.0], [2.0]), ([0.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, -1.0]),
                                           ([1.0, np.nan], [1.0, 2.0]), ([1.0, 2.0], [1.0])])
def test_bad_samples_are_refused(hours, values):
    with pytest.raises(ValueError):
        blood_input(np.array(hours), np.array(values))


def test_leaving_out_the_early_blood_part_biases_ki():
    """An integral that starts at the first scan (STIR issue 703) instead of at injection.

    Exact data on days 2, 4, 7 with a 1 h scan before them. From injection Ki is exact. Starting the
    integral at the 1 h scan misses 1.9 % of the area and Ki comes out 1.7 % high; starting it at the
    day-2 scan misses 55 % and Ki is 92 % high. The missing term is ``Ki x area / C_B(t)``, which
    grows as the blood clears, so the relative Ki error does not depend on Ki or V_T.
    """
    t = np.array([48.0, 96.0, 168.0])
    blood = TRUE.suv(t)
    for v_t, ki in ((0.5, 0.03), (0.15, 0.005)):
        y = tissue_suv(TRUE, v_t, ki, t) / blood
        right = patlak_fit(TRUE.integral(t) / blood, y)
        assert right.ki == pytest.approx(ki, rel=1e-9) and right.v_t == pytest.approx(v_t, rel=1e-9)
        for first, share, ki_error in ((1.0, 0.0192, 0.0171), (48.0, 0.5477, 0.9174)):
            x = (TRUE.integral(t) - TRUE.integral(first)) / blood
            wrong = patlak_fit(x, y)
            assert wrong.ki == pytest.approx(np.polyfit(x, y, 1)[0], rel=1e-9)  # independent OLS
            assert wrong.ki / ki - 1 == pytest.approx(ki_error, abs=5e-4)
            assert TRUE.integral(first) / TRUE.integral(168.0) == pytest.approx(share, abs=5e-4)
    curve = blood_input(np.r_[1.0, t], TRUE.suv(np.r_[1.0, t]))
    assert curve.early_fraction(168.0) == pytest.approx(TRUE.integral(1.0) / TRUE.integral(168.0), rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.1, 500.0), st.floats(1e-3, 1e3)), min_size=1, max_size=8),
       st.sampled_from(["biexp", "loglinear"]))
def test_any_positive_samples_give_a_finite_curve_or_a_clear_error(samples, method):
    hours, values = np.array([s[0] for s in samples]), np.array([s[1] for s in samples])
    try:
        curve = blood_input(hours, values, method=method)
    except ValueError as error:
        assert "blood" in str(error)
        return
    grid = np.linspace(0.0, hours.max(), 7)
    assert np.all(np.isfinite(curve.value(grid)))
    integral = curve.integral(grid)
    assert np.all(np.isfinite(integral)) and np.all(np.diff(integral) >= -1e-9 * max(1.0, integral.max()))
