"""Kinetics: the closed-form blood integral, the Patlak tissue curve and activity from SUV."""

from __future__ import annotations

import numpy as np
from scipy import integrate

from immunopet.nuclides import get_nuclide
from immunopet.simulate.kinetics import BloodCurve, activity_bqml, tissue_suv

BLOOD = BloodCurve(a_fast=5.0, t_fast_h=10.0, a_slow=8.0, t_slow_h=60.0)


def test_blood_halves_at_its_half_lives():
    only_slow = BloodCurve(0.0, 10.0, 8.0, 60.0)
    assert np.isclose(only_slow.suv(60.0), 4.0)
    assert np.isclose(BLOOD.suv(0.0), 13.0)


def test_blood_integral_matches_numerical_quadrature():
    for hours in (1.0, 48.0, 168.0):
        numeric, _ = integrate.quad(lambda t: float(BLOOD.suv(t)), 0.0, hours)
        assert np.isclose(BLOOD.integral(hours), numeric, rtol=1e-9)


def test_tissue_curve_is_the_patlak_form():
    hours = np.array([1.0, 48.0, 168.0])
    got = tissue_suv(BLOOD, 0.3, 0.006, hours)
    expected = 0.3 * BLOOD.suv(hours) + 0.006 * BLOOD.integral(hours)
    assert np.allclose(got, expected)
    # Patlak plot: C_T / C_p against integral / C_p is a line of slope ki and intercept v_t
    x, y = BLOOD.integral(hours) / BLOOD.suv(hours), got / BLOOD.suv(hours)
    slope, intercept = np.polyfit(x, y, 1)
    assert np.isclose(slope, 0.006) and np.isclose(intercept, 0.3)


def test_tissue_curve_broadcasts_over_tissues_and_times():
    assert tissue_suv(BLOOD, np.array([[0.1], [0.2]]), np.array([[0.01], [0.02]]), np.array([1.0, 2.0, 3.0])).shape == (2, 3)


def test_activity_is_suv_times_decayed_dose_per_gram():
    zr = get_nuclide("Zr-89")
    half_life_h = zr.half_life_s / 3600.0
    # SUV 2 in a 50 kg patient injected with 40 MBq, scanned one half-life later: 2 * 20e6 / 50e3 Bq/mL
    got = activity_bqml(2.0, injected_bq=40e6, weight_kg=50.0, hours=half_life_h, half_life_s=zr.half_life_s)
    assert np.isclose(got, 800.0)
    # day 7: 2**(168 / 78.41) = 4.42 times less than at injection
    day7 = activity_bqml(1.0, injected_bq=1.0, weight_kg=1e-3, hours=168.0, half_life_s=zr.half_life_s)
    assert np.isclose(1.0 / day7, 4.42, atol=0.01)

