"""TIAC: trapezoid + decay tail by hand, AICc, and the analytic integral of the true curve."""

from __future__ import annotations

import numpy as np
import pytest

from immunopet.analysis.kinetics.blood import blood_input
from immunopet.analysis.kinetics.tiac import aicc, tiac, trapezoid_tail
from immunopet.simulate.kinetics import BloodCurve, tissue_suv

LAM = np.log(2) / 78.41
BLOOD = BloodCurve(5.0, 10.0, 8.0, 60.0)
HOURS = np.array([1.0, 48.0, 96.0, 168.0])


def analytic_tiac(v_t: float, ki: float, scale: float = 1.0) -> float:
    """integral_0^inf (v_t b + ki B) exp(-lambda t) dt for the bi-exponential b (closed form)."""
    total = 0.0
    for a, half in ((BLOOD.a_fast, BLOOD.t_fast_h), (BLOOD.a_slow, BLOOD.t_slow_h)):
        k = np.log(2) / half
        total += v_t * a / (k + LAM) + ki * a / (LAM * (k + LAM))
    return scale * total


def test_trapezoid_and_tail_by_hand():
    # (0,0) -> (2, 0.4) -> (6, 0.2): area 0.4 + 1.2 = 1.6; tail 0.2 / 0.1 = 2
    total, tail = trapezoid_tail(np.array([2.0, 6.0]), np.array([0.4, 0.2]), decay_per_h=0.1)
    assert total == pytest.approx(3.6) and tail == pytest.approx(2.0 / 3.6)
    assert tiac(np.array([2.0, 6.0]), np.array([0.4, 0.2]), decay_per_h=0.1).method == "trapezoid"


def test_aicc_formula_and_where_it_is_undefined():
    assert aicc(0.5, 10, 2) == pytest.approx(10 * np.log(0.05) + 4 + 12 / 7)
    assert np.isnan(aicc(0.5, 4, 3))


def test_mono_exponential_is_exact_for_one_exponential():
    t = np.array([1.0, 24.0, 72.0, 120.0, 168.0])
    result = tiac(t, 0.2 * np.exp(-0.02 * t), decay_per_h=LAM)
    assert result.method == "mono-exponential"
    assert result.tiac_h == pytest.approx(0.2 / 0.02, rel=1e-6)


@pytest.mark.parametrize("v_t, ki", [(1.0, 0.0), (0.3, 0.006), (0.5, 0.03), (0.12, 0.0006), (0.03, 0.0001),
                                     (0.15, 0.012), (0.08, 0.0008)])
def test_selected_tiac_within_3_percent_of_the_analytic_integral(v_t, ki):
    """Blood, liver, spleen, lungs, brain, a lesion, soft tissue on the scan days 1 h, 2, 4, 7 d."""
    scale = 250.0 / 70000.0  # a 250 mL region in a 70 kg patient: fraction = SUV x V / W
    fraction = scale * tissue_suv(BLOOD, v_t, ki, HOURS) * np.exp(-LAM * HOURS)
    curve = blood_input(HOURS, BLOOD.suv(HOURS))
    result = tiac(HOURS, fraction, decay_per_h=LAM, blood=curve)
    truth = analytic_tiac(v_t, ki, scale)
    assert result.tiac_h == pytest.approx(truth, rel=0.03)
    # the model-free trapezoid is reported beside it; it misses the fast blood phase by up to ~20 %
    assert result.trapezoid_h > 0 and result.as_dict()["tiac_trapezoid_h"] == result.trapezoid_h


def test_bad_samples():
    with pytest.raises(ValueError):
        tiac(np.array([np.nan]), np.array([1.0]), decay_per_h=LAM)
    with pytest.raises(ValueError):
        tiac(np.array([0.0, 1.0]), np.array([1.0, 1.0]), decay_per_h=LAM)
