"""SUV on real scanner files; expected factors computed by hand from the data README's numbers."""

from __future__ import annotations

import json
import math
from datetime import datetime

import numpy as np
import pydicom
import pytest

from immunopet.dicom import load_pet, suv
from immunopet.errors import SUVError


def test_ge_discovery_st_suv_factor(ge_pet):
    pet = load_pet(ge_pet)
    # README: 388.8 MBq at 10:35:00, series 11:20:11, 71 kg; header dose 3.88777472E8 Bq, T1/2 6588 s
    uptake_s = (11 * 3600 + 20 * 60 + 11) - (10 * 3600 + 35 * 60)
    expected = 71.0e3 / (3.88777472e8 * 2 ** (-uptake_s / 6588.0))
    assert pet.uptake_hours == pytest.approx(uptake_s / 3600)
    assert pet.suv_factor("bw") == pytest.approx(expected, rel=1e-12)
    # with the README's rounded dose and the tabulated F-18 half-life: same to 1e-4
    rounded = 71.0e3 / (388.8e6 * 2 ** (-uptake_s / 6586.2))
    assert pet.suv_factor("bw") == pytest.approx(rounded, rel=1e-4)
    assert pet.inputs.get("injection_datetime") == datetime(2000, 9, 7, 10, 35)
    assert pet.inputs.warnings == []
    bmi = 71 / 1.63**2
    lbm = 9270 * 71 / (6680 + 216 * bmi)  # male, Janmahasatian
    assert pet.suv_factor("lbm") == pytest.approx(expected * lbm / 71, rel=1e-12)
    audit = pet.audit()
    assert json.loads(json.dumps(audit))["suv_factors"]["bw"] == pytest.approx(expected, rel=1e-12)
    assert audit["inputs"]["weight_kg"]["source"] == "PatientWeight (0010,1030)"
    assert audit["uptake_hours"] == pytest.approx(uptake_s / 3600)
    suv_img = pet.suv("bw")
    assert suv_img.units == "SUVbw"
    np.testing.assert_allclose(suv_img.array, pet.image.array * np.float32(expected), rtol=1e-6)


def test_siemens_series_time_not_acquisition_time(shared_data):
    pet = load_pet(shared_data / "acrin-flt-siemens" / "2.dcm")
    # series 11:19:59.109, acquisition 11:35:59.109: the reference is the series start
    assert pet.inputs.get("scan_datetime") == datetime(1960, 1, 14, 11, 19, 59, 109000)
    assert pet.inputs.scan_datetime.source.startswith("SeriesDate")
    expected = 82.174e3 / (173529998.7793 * 2 ** (-0.109 / 6586.2))
    assert pet.suv_factor("bw") == pytest.approx(expected, rel=1e-12)
    # cross-check: back-computing from this slice's frame timing lands on the series start
    ds = pydicom.dcmread(shared_data / "acrin-flt-siemens" / "2.dcm", stop_before_pixels=True)
    offset = suv.backcomputed_reference_offset_s(
        frame_reference_s=float(ds.FrameReferenceTime) / 1000, frame_duration_s=float(ds.ActualFrameDuration) / 1000,
        half_life_s=6586.2)
    assert 16 * 60 + offset == pytest.approx(0.0, abs=2.0)
    # and the slice's DecayFactor (0054,1321) is the decay from the series start to the frame
    lam = math.log(2) / 6586.2
    assert math.exp(lam * float(ds.FrameReferenceTime) / 1000) == pytest.approx(float(ds.DecayFactor), rel=5e-4)


@pytest.mark.parametrize("patient", ["STS_002", "STS_003"])
def test_stored_suv_gml_admin(shared_data, patient):
    folder = shared_data / "tcia-sts-cropped" / patient / "pet" / "image"
    pet = load_pet(folder)
    assert pet.inputs.get("units") == "GML" and pet.inputs.get("decay_correction") == "ADMIN"
    stored = {}
    for path in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(path)
        stored[float(ds.ImagePositionPatient[2])] = ds.pixel_array.T * float(ds.RescaleSlope)
    independent = np.stack([stored[z] for z in sorted(stored)], axis=-1)
    np.testing.assert_allclose(pet.suv("bw").array, independent, rtol=1e-5, atol=1e-6)
    weight, dose = float(ds.PatientWeight), float(ds.RadiopharmaceuticalInformationSequence[0].RadionuclideTotalDose)
    assert pet.suv_factor("bw") == pytest.approx(weight * 1000 / dose, rel=1e-12)
    np.testing.assert_allclose(pet.image.array, independent * dose / (weight * 1000), rtol=1e-5, atol=1e-3)


def test_sts002_injection_after_scan_is_flagged(shared_data):
    pet = load_pet(shared_data / "tcia-sts-cropped" / "STS_002" / "pet" / "image")
    assert any("after the scan start" in w for w in pet.inputs.warnings)
    with pytest.raises(SUVError, match="after the scan start"):
        pet.uptake_hours
    assert "error" in pet.audit()["uptake_hours"]


def test_enhanced_pet_with_real_world_value_mapping(ge_pet, tmp_path, make_enhanced):
    """GE slices rebuilt as one enhanced PET file (units and slopes in Real World Value Mappings)."""
    import shutil

    classic = tmp_path / "classic"
    classic.mkdir()
    for n in range(120, 130):
        shutil.copy(ge_pet / f"1-{n:03d}.dcm", classic / f"{n}.dcm")
    folder = make_enhanced(classic, tmp_path / "enhanced", real_world=True)
    pet = load_pet(folder)
    reference = load_pet(classic)
    assert pet.inputs.get("units") == "BQML" and pet.inputs.get("decay_correction") == "START"
    assert pet.inputs.scan_datetime.source.startswith("DecayCorrectionDateTime")
    assert pet.suv_factor("bw") == pytest.approx(71.0e3 / (3.88777472e8 * 2 ** (-2711 / 6588.0)), rel=1e-12)
    assert pet.image.same_grid(reference.image)
    np.testing.assert_allclose(pet.image.array, reference.image.array, rtol=1e-6)


@pytest.mark.parametrize("kind", ["bw", "lbm", None])
def test_convert_in_place_equals_suv_of_a_copy(ge_pet, kind):
    """convert's in-place SUV: the same voxels, units, metadata and audit as PetScan.suv on a copy."""
    from immunopet.dicom.pet import convert_in_place
    from immunopet.dicom.volume import read_volume

    pet = load_pet(ge_pet)
    expected = pet.image if kind is None else pet.suv(kind)
    image, audit = convert_in_place(read_volume(ge_pet), kind)
    np.testing.assert_array_equal(image.array, expected.array)
    assert image.array.dtype == np.float32 and image.units == expected.units and dict(image.meta) == dict(expected.meta)
    extra = {} if kind is None else {"suv_kind": kind, "suv_factor_used": pet.suv_factor(kind)}
    assert audit == {**pet.audit(), **extra}
