"""Pure SUV arithmetic against hand values and algebraic properties (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immunopet.dicom import suv
from immunopet.nuclides import NUCLIDES

half_lives = st.sampled_from([n.half_life_s for n in NUCLIDES.values()])
seconds = st.floats(min_value=0, max_value=30 * 86400, allow_nan=False)


@given(t1=seconds, t2=seconds, half=half_lives)
def test_decay_over_t1_then_t2_is_decay_over_sum(t1, t2, half):
    assert suv.decay_factor(t1, half) * suv.decay_factor(t2, half) == pytest.approx(
        suv.decay_factor(t1 + t2, half), rel=1e-9, abs=1e-300)


@given(n_half=st.floats(min_value=0, max_value=40), half=half_lives, dose=st.floats(min_value=1e5, max_value=1e10))
def test_decay_there_and_back(n_half, half, dose):
    t = n_half * half
    assert suv.decayed_activity(suv.decayed_activity(dose, t, half), -t, half) == pytest.approx(dose, rel=1e-9)


def test_one_half_life_halves():
    for nuclide in NUCLIDES.values():
        assert suv.decay_factor(nuclide.half_life_s, nuclide.half_life_s) == pytest.approx(0.5)


@given(frame=st.floats(min_value=1, max_value=3600), half=half_lives)
def test_average_count_time_between_zero_and_frame(frame, half):
    t_ave = suv.average_count_time_s(frame, half)
    assert 0 < t_ave < frame
    # activity at T_ave equals the frame average of the decaying activity
    lam = math.log(2) / half
    average = (1 - math.exp(-lam * frame)) / (lam * frame)
    assert math.exp(-lam * t_ave) == pytest.approx(average, rel=1e-9)


def test_average_count_time_short_frame_is_half():
    assert suv.average_count_time_s(1.0, 282276.0) == pytest.approx(0.5, rel=1e-5)


@given(offset=st.floats(min_value=-3600, max_value=3600), frame=st.floats(min_value=1, max_value=1800))
def test_uncorrected_frame_factor_undoes_decay(offset, frame):
    half = 6586.2
    lam = math.log(2) / half
    # a constant true concentration 1 at the reference time, measured without decay correction
    measured = math.exp(-lam * offset) * (1 - math.exp(-lam * frame)) / (lam * frame)
    factor = suv.uncorrected_frame_factor(acquisition_offset_s=offset, frame_duration_s=frame, half_life_s=half)
    assert measured * factor == pytest.approx(1.0, rel=1e-9)


def test_body_size_formulas_by_hand():
    # 80 kg, 180 cm: BMI 24.691
    bmi = 80 / 1.8**2
    assert suv.lbm_janmahasatian(80, 180, "M") == pytest.approx(9270 * 80 / (6680 + 216 * bmi))
    assert suv.lbm_janmahasatian(80, 180, "F") == pytest.approx(9270 * 80 / (8780 + 244 * bmi))
    assert suv.lbm_janmahasatian(80, 180, "M") == pytest.approx(61.73, abs=0.01)
    assert suv.lbm_james(80, 180, "M") == pytest.approx(1.10 * 80 - 128 * (80 / 180) ** 2)
    assert suv.lbm_james(80, 180, "F") == pytest.approx(1.07 * 80 - 148 * (80 / 180) ** 2)
    assert suv.bsa_dubois_m2(80, 180) == pytest.approx(1.9964, abs=1e-3)
    # IBSI SUV manual: 48.0 + 1.06 (H - 152) male, 45.5 + 0.91 (H - 152) female; 180 cm: 77.68 / 70.98 kg
    assert suv.ibw_ibsi(180, "M") == pytest.approx(77.68)
    assert suv.ibw_ibsi(180, "F") == pytest.approx(70.98)
    assert suv.ibw_ibsi(180, "O") == pytest.approx(0.5 * (77.68 + 70.98))


def test_suv_factor_units():
    d_ref = 2.0e8
    assert suv.suv_factor("bw", injected_bq_at_reference=d_ref, weight_kg=70) == pytest.approx(70e3 / d_ref)
    assert suv.suv_factor("bsa", injected_bq_at_reference=d_ref, weight_kg=70, height_cm=170) == pytest.approx(
        suv.bsa_dubois_m2(70, 170) * 1e4 / d_ref)
    with pytest.raises(ValueError, match="height"):
        suv.suv_factor("lbm", injected_bq_at_reference=d_ref, weight_kg=70)
    with pytest.raises(ValueError, match="sex"):
        suv.normaliser("ibw", weight_kg=70, height_cm=170, sex="X")
