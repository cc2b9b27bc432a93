"""Every case of the IBSI SUV manual on headers crafted from a real Siemens slice.

Baseline (acrin-flt-siemens/1.dcm): BQML, START, 69.7344 kg, 178 340 011.59668 Bq injected at
14:17:00, series and acquisition 15:23:16.921 on 1960-06-14, half-life 6586.2 s.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pydicom
import pytest

from immunopet.dicom import SuvOverrides, load_pet
from immunopet.errors import ImmunoPETError, SUVError

W_KG, DOSE_BQ, T_HALF = 69.7344, 178340011.59668, 6586.2
UPTAKE_S = (15 * 3600 + 23 * 60 + 16.921) - (14 * 3600 + 17 * 60)
LAM = math.log(2) / T_HALF


def bw_factor(uptake_s: float = UPTAKE_S, *, weight_kg: float = W_KG, dose: float = DOSE_BQ) -> float:
    return weight_kg * 1000.0 / (dose * 2.0 ** (-uptake_s / T_HALF))


def stored_times_slope(folder) -> np.ndarray:
    ds = pydicom.dcmread(folder / "slice.dcm")
    return ds.pixel_array.astype(np.float64).T * float(ds.RescaleSlope)


def test_baseline_bqml_start(craft):
    pet = load_pet(craft())
    assert pet.suv_factor("bw") == pytest.approx(bw_factor(), rel=1e-9)
    assert pet.uptake_hours == pytest.approx(UPTAKE_S / 3600)
    assert pet.image.units == "BQML"
    np.testing.assert_allclose(pet.image.array[..., 0], stored_times_slope(craft("again")), rtol=1e-6)


def test_dose_in_mbq_is_recognised(craft):
    pet = load_pet(craft(**{"rp.RadionuclideTotalDose": "178.34001159668"}))
    assert pet.suv_factor() == pytest.approx(bw_factor(), rel=1e-9)
    assert "MBq" in pet.inputs.injected_bq.note


def test_ambiguous_dose_is_an_error(craft):
    with pytest.raises(SUVError, match="neither plausible") as caught:
        load_pet(craft(**{"rp.RadionuclideTotalDose": "50000"}))
    assert "RadionuclideTotalDose (0018,1074)" in str(caught.value) and "--injected-mbq" in str(caught.value)


def test_weight_in_grams_is_recognised(craft):
    pet = load_pet(craft(PatientWeight="69734.4"))
    assert pet.inputs.get("weight_kg") == pytest.approx(W_KG)
    assert pet.suv_factor() == pytest.approx(bw_factor(), rel=1e-9)


def test_admin_uses_the_dose_undecayed(craft):
    pet = load_pet(craft(DecayCorrection="ADMIN"))
    assert pet.suv_factor() == pytest.approx(W_KG * 1000 / DOSE_BQ, rel=1e-12)
    assert pet.inputs.reference_datetime.isoformat() == "1960-06-14T14:17:00"


def test_none_corrects_each_frame_to_the_scan_start(craft):
    folder = craft(DecayCorrection="NONE", AcquisitionTime="152816.921")  # 300 s after series start
    pet = load_pet(folder)
    duration = 300.0
    expected = LAM * duration / (1 - math.exp(-LAM * duration)) * math.exp(LAM * 300.0)
    np.testing.assert_allclose(pet.image.array[..., 0], stored_times_slope(folder) * expected, rtol=1e-5)
    assert pet.suv_factor() == pytest.approx(bw_factor(), rel=1e-9)
    assert "corrected to the scan start" in pet.inputs.decay_correction.note


def test_injection_datetime_beats_time(craft):
    pet = load_pet(craft(**{"rp.RadiopharmaceuticalStartDateTime": "19600613141700", "rp.RadiopharmaceuticalStartTime": None}))
    assert pet.uptake_hours == pytest.approx((UPTAKE_S + 86400) / 3600)
    assert pet.suv_factor() == pytest.approx(bw_factor(UPTAKE_S + 86400), rel=1e-9)
    assert pet.inputs.injection_datetime.source.startswith("RadiopharmaceuticalStartDateTime")


def test_activity_decayed_to_nothing_is_an_error(craft):
    """Decades between injection and scan (a mistyped year) decay the dose to 0.0: refused, not divided by."""
    with pytest.raises(SUVError, match="decays to 0 Bq") as error:
        load_pet(craft(**{"rp.RadiopharmaceuticalStartDateTime": "19000613141700", "rp.RadiopharmaceuticalStartTime": None}))
    assert error.value.attribute and error.value.fix


def test_an_injection_more_than_20_half_lives_before_the_scan_is_refused_with_its_hours(craft):
    """Two days of F-18 (26 half-lives; a mistyped day) would give SUVs about 1e8 times too high."""
    with pytest.raises(SUVError, match="half-lives") as error:
        load_pet(craft(**{"rp.RadiopharmaceuticalStartDateTime": "19600612141700", "rp.RadiopharmaceuticalStartTime": None}))
    assert f"over the {(UPTAKE_S + 2 * 86400) / 3600:.4g} h" in str(error.value)
    assert error.value.attribute and error.value.fix


def test_time_only_injection_across_midnight(craft):
    pet = load_pet(craft(SeriesDate="19600615", SeriesTime="003000", AcquisitionDate="19600615",
                         AcquisitionTime="003000", **{"rp.RadiopharmaceuticalStartTime": "234000"}))
    assert pet.uptake_hours == pytest.approx(50 / 60)
    assert pet.inputs.get("injection_datetime").isoformat() == "1960-06-14T23:40:00"
    assert any("midnight" in w for w in pet.inputs.warnings)


def test_ge_private_scan_datetime_when_series_time_was_modified(craft):
    folder = craft(SeriesTime="160000", DecayFactor=None)  # no DecayFactor to check the candidates against
    ds = pydicom.dcmread(folder / "slice.dcm")
    ds.private_block(0x0009, "GEMS_PETD_01", create=True).add_new(0x0D, "DT", "19600614152000")
    ds.save_as(folder / "slice.dcm")
    pet = load_pet(folder)
    assert pet.inputs.scan_datetime.source.startswith("GE private")
    assert pet.suv_factor() == pytest.approx(bw_factor(63 * 60), rel=1e-9)


def test_reference_back_computed_from_frame_reference_time(craft):
    pet = load_pet(craft(SeriesTime="160000"))  # series after acquisition, no GE tag
    duration, frame_ref = 300.0, 149.60534445734
    t_ave = math.log(LAM * duration / (1 - math.exp(-LAM * duration))) / LAM
    uptake = UPTAKE_S + t_ave - frame_ref
    assert pet.inputs.scan_datetime.source.startswith("back-computed")
    assert pet.suv_factor() == pytest.approx(bw_factor(uptake), rel=1e-9)


def test_earliest_acquisition_when_nothing_else(craft):
    pet = load_pet(craft(SeriesTime="160000", FrameReferenceTime=None))
    assert pet.inputs.scan_datetime.source.startswith("earliest AcquisitionDate")
    assert pet.suv_factor() == pytest.approx(bw_factor(), rel=1e-9)


def _philips(craft, name, element, value):
    folder = craft(name, Units="CNTS")
    ds = pydicom.dcmread(folder / "slice.dcm")
    ds.private_block(0x7053, "Philips PET Private Group", create=True).add_new(element, "DS", value)
    ds.save_as(folder / "slice.dcm")
    return folder


def test_philips_activity_concentration_scale_factor(craft):
    folder = _philips(craft, "acsf", 0x09, "2.5")
    pet = load_pet(folder)
    np.testing.assert_allclose(pet.image.array[..., 0], stored_times_slope(folder) * 2.5, rtol=1e-6)
    assert "(7053,1009)" in pet.inputs.units.note


def test_philips_suv_scale_factor(craft):
    folder = _philips(craft, "suvsf", 0x00, "0.0004")
    pet = load_pet(folder)
    np.testing.assert_allclose(pet.suv("bw").array[..., 0], stored_times_slope(folder) * 0.0004, rtol=1e-5, atol=1e-7)
    assert "(7053,1000)" in pet.inputs.units.note


def test_cnts_without_factors_fails(craft):
    with pytest.raises(SUVError, match="CNTS") as caught:
        load_pet(craft(Units="CNTS"))
    assert "7053" in str(caught.value)


def test_gml_bw_is_the_stored_value(craft):
    folder = craft(Units="GML", DecayCorrection="ADMIN")
    pet = load_pet(folder)
    np.testing.assert_allclose(pet.suv("bw").array[..., 0], stored_times_slope(folder), rtol=1e-5)
    np.testing.assert_allclose(pet.image.array[..., 0], stored_times_slope(folder) * DOSE_BQ / (W_KG * 1000), rtol=1e-5)


def test_gml_lbm_james128_converted_to_bw(craft):
    folder = craft(Units="GML", SUVType="LBMJAMES128", PatientSize="1.60")
    pet = load_pet(folder)
    lbm = 1.07 * W_KG - 148 * (W_KG / 160.0) ** 2  # female, James 1976
    np.testing.assert_allclose(pet.suv("lbm").array[..., 0], stored_times_slope(folder), rtol=1e-5)
    np.testing.assert_allclose(pet.suv("bw").array[..., 0], stored_times_slope(folder) * W_KG / lbm, rtol=1e-5)
    assert pet.inputs.lbm_formula.value == "james128"


def test_cm2ml_is_suv_bsa(craft):
    folder = craft(Units="CM2ML", PatientSize="1.60")
    pet = load_pet(folder)
    bsa_cm2 = 0.007184 * 160**0.725 * W_KG**0.425 * 1e4
    np.testing.assert_allclose(pet.suv("bsa").array[..., 0], stored_times_slope(folder), rtol=1e-5)
    np.testing.assert_allclose(pet.suv("bw").array[..., 0], stored_times_slope(folder) * W_KG * 1000 / bsa_cm2, rtol=1e-5)


def test_sex_other_takes_mean_of_ibw(craft):
    pet = load_pet(craft(PatientSex="O", PatientSize="1.75"))
    ibw_kg = 0.5 * ((48.0 + 1.06 * 23) + (45.5 + 0.91 * 23))  # IBSI manual, H = 175 cm
    assert pet.suv_factor("ibw") == pytest.approx(bw_factor() * ibw_kg / W_KG, rel=1e-9)


@pytest.mark.parametrize(
    ("edits", "attribute", "option"),
    [
        ({"PatientWeight": None}, "PatientWeight (0010,1030)", "--weight-kg"),
        ({"rp.RadionuclideTotalDose": None}, "RadionuclideTotalDose (0018,1074)", "--injected-mbq"),
        ({"rp.RadiopharmaceuticalStartTime": None}, "RadiopharmaceuticalStartDateTime (0018,1078)", "--injection-datetime"),
        ({"Units": "PROPCPS"}, "Units (0054,1001)", "BQML"),
        ({"rp.RadionuclideHalfLife": "282276"}, "RadionuclideHalfLife (0018,1075)", "--nuclide"),
    ],
)
def test_missing_or_wrong_inputs_name_attribute_and_fix(craft, edits, attribute, option):
    with pytest.raises(SUVError) as caught:
        load_pet(craft(edits=edits))
    message = str(caught.value)
    assert isinstance(caught.value, ImmunoPETError)
    assert "slice.dcm" in message and attribute in message and option in message


def test_missing_height_fails_only_for_kinds_needing_it(craft):
    pet = load_pet(craft())  # this file has no PatientSize
    assert pet.suv_factor("bw") == pytest.approx(bw_factor(), rel=1e-9)
    with pytest.raises(SUVError, match="PatientSize") as caught:
        pet.suv("lbm")
    assert "--height-cm" in str(caught.value)


def test_small_half_life_disagreement_warns(craft):
    pet = load_pet(craft(**{"rp.RadionuclideHalfLife": "6700"}))
    assert any("disagrees" in w for w in pet.inputs.warnings)
    assert pet.inputs.get("half_life_s") == 6700.0


def test_overrides_replace_log_and_audit(craft, caplog):
    overrides = SuvOverrides(weight_kg=80.0, injected_bq=2.0e8, injection_datetime="1960-06-14T14:00:00",
                             height_cm=170, sex="F")
    with caplog.at_level(logging.INFO, logger="immunopet"):
        pet = load_pet(craft(), overrides=overrides)
    uptake = UPTAKE_S + 17 * 60
    assert pet.suv_factor() == pytest.approx(bw_factor(uptake, weight_kg=80.0, dose=2.0e8), rel=1e-9)
    audit = pet.audit()
    assert audit["inputs"]["weight_kg"]["source"] == "override: weight_kg"
    assert audit["overrides"]["weight_kg"]["value"] == pytest.approx(W_KG)
    assert audit["overrides"]["height_cm"] is None  # the header had no height
    bmi = 80 / 1.7**2
    assert audit["suv_factors"]["lbm"] == pytest.approx(
        9270 * 80 / (8780 + 244 * bmi) * 1000 / (2.0e8 * 2 ** (-uptake / T_HALF)), rel=1e-9)
    assert "override weight_kg = 80.0" in caplog.text


def test_bad_override_is_rejected():
    with pytest.raises(SUVError, match="plausible"):
        SuvOverrides(weight_kg=71000)
    with pytest.raises(SUVError, match="ISO 8601"):
        SuvOverrides(injection_datetime="yesterday")


def test_non_numeric_weight_names_attribute(craft):
    folder = craft()
    data = (folder / "slice.dcm").read_bytes()
    assert data.count(b"69.7344 ") == 1
    (folder / "slice.dcm").write_bytes(data.replace(b"69.7344 ", b"seventy "))
    with pytest.raises(SUVError, match="not a finite number") as caught:
        load_pet(folder)
    assert "slice.dcm" in str(caught.value) and "PatientWeight (0010,1030)" in str(caught.value)


def test_admin_without_injection_time_still_gives_suv(craft):
    pet = load_pet(craft(DecayCorrection="ADMIN", **{"rp.RadiopharmaceuticalStartTime": None}))
    assert pet.suv_factor() == pytest.approx(W_KG * 1000 / DOSE_BQ, rel=1e-12)
    audit = pet.audit()
    assert "RadiopharmaceuticalStartDateTime" in audit["uptake_hours"]["error"]
    assert "--injection-datetime" in audit["reference_datetime"]["error"]
