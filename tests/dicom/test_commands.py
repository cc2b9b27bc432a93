"""`immunopet inspect` and `immunopet convert` through immunopet.cli.main."""

from __future__ import annotations

import json
import os

import nibabel
import numpy as np
import pydicom
import pytest

from immunopet.cli import main
from immunopet.dicom import load_image_series, load_pet

GE_FACTOR = 71.0e3 / (3.88777472e8 * 2 ** (-2711 / 6588.0))


def test_inspect_json(shared_data, capsys):
    assert main(["inspect", str(shared_data), "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert len(payload["series"]) == 12
    assert payload["unreadable"] == [{"file": "<input>/README.md", "reason": "not a DICOM file"}]
    ge = next(s for s in payload["series"] if s["patient_id"] == "STS_001" and s["modality"] == "PT")
    assert ge["suv"]["suv_bw_factor"] == pytest.approx(GE_FACTOR, rel=1e-12)
    assert ge["suv"]["inputs"]["weight_kg"] == {"value": 71.0, "source": "PatientWeight (0010,1030)", "note": "kg"}
    assert ge["shape"] == [128, 128, 267]
    siemens = [s for s in payload["series"] if s["patient_id"].startswith("ACRIN")]
    assert all("suv_bw_factor" in s["suv"] for s in siemens)


def test_inspect_text_shows_override(ge_pet, capsys):
    assert main(["inspect", str(ge_pet), "--weight-kg", "75"]) == 0
    captured = capsys.readouterr()
    assert "override in use: weight_kg" in captured.out
    assert "override: weight_kg" in captured.out
    assert f"{75.0e3 / 71.0e3 * GE_FACTOR:.6g}" in captured.out
    # the injected activity decayed from 10:35:00 to the series start 11:20:11 (2711 s), printed in MBq
    assert f"D_ref = {3.88777472e8 * 2 ** (-2711 / 6588.0) / 1e6:.4g} MBq" in captured.out
    assert "override weight_kg = 75.0 (header PatientWeight (0010,1030): 71.0)" in " ".join(captured.err.split())


def test_convert_pet_to_suv_nifti(ge_pet, ge_image, tmp_path, capsys):
    out = tmp_path / "ge_suv.nii.gz"
    assert main(["convert", str(ge_pet), str(out), "--suv", "bw"]) == 0
    nii = nibabel.load(out)
    assert nii.get_data_dtype() == np.float32
    expected = ge_image.array * np.float32(GE_FACTOR)  # BQML series: Bq/mL = stored x slope
    np.testing.assert_allclose(np.asanyarray(nii.dataobj), expected, rtol=1e-6)
    sidecar = json.loads((tmp_path / "ge_suv.json").read_text())
    assert sidecar["units"] == "SUVbw"
    assert sidecar["suv"]["suv_factor_used"] == pytest.approx(GE_FACTOR, rel=1e-12)
    assert sidecar["suv"]["inputs"]["injection_datetime"]["source"].startswith("RadiopharmaceuticalStartTime")
    printed = " ".join(capsys.readouterr().err.split())
    assert f"(SUVbw, {'x'.join(map(str, nii.shape))}) and ge_suv.json" in printed  # the written file's shape


def test_convert_bqml_with_overrides_and_series_uid(shared_data, tmp_path):
    folder = shared_data / "tcia-sts-cropped" / "STS_003"
    pet_uid = pydicom.dcmread(folder / "pet" / "image" / "000000.dcm", stop_before_pixels=True).SeriesInstanceUID
    out = tmp_path / "bq.nii.gz"
    assert main(["convert", str(folder), str(out), "--suv", "none", "--series", pet_uid, "--weight-kg", "81"]) == 0
    sidecar = json.loads((tmp_path / "bq.json").read_text())
    assert sidecar["units"] == "BQML"
    assert sidecar["suv"]["inputs"]["weight_kg"]["source"] == "override: weight_kg"
    assert sidecar["suv"]["overrides"]["weight_kg"]["value"] == 80.0
    # stored SUVbw -> Bq/mL uses the header weight the scanner used (80 kg), not the override
    header = load_pet(folder / "pet" / "image")
    np.testing.assert_allclose(np.asanyarray(nibabel.load(out).dataobj), header.image.array, rtol=1e-6)


def test_convert_ct_in_hu(shared_data, tmp_path):
    folder = shared_data / "tcia-sts-cropped" / "STS_002" / "ct" / "image"
    out = tmp_path / "ct.nii.gz"
    assert main(["convert", str(folder), str(out)]) == 0
    np.testing.assert_array_equal(np.asanyarray(nibabel.load(out).dataobj), load_image_series(folder).array)
    assert json.loads((tmp_path / "ct.json").read_text())["units"] == "HU"


def test_convert_error_exit_code_3(shared_data, tmp_path, capsys):
    out = tmp_path / "x.nii.gz"
    code = main(["convert", str(shared_data / "acrin-flt-siemens" / "2.dcm"), str(out), "--suv", "lbm"])
    assert code == 3
    err = " ".join(capsys.readouterr().err.split())
    assert "error:" in err and "patient height missing" in err and "--height-cm" in err
    assert "[attribute: PatientSize (0010,1020)]" in err
    assert "Traceback" not in err and not out.exists()


def test_convert_several_series_without_uid_exit_code_3(shared_data, tmp_path, capsys):
    code = main(["convert", str(shared_data / "tcia-sts-cropped" / "STS_002"), str(tmp_path / "x.nii.gz")])
    assert code == 3
    assert "--series" in capsys.readouterr().err


def test_convert_rejects_non_nifti_output_before_loading(tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nothing-here"), str(tmp_path / "out.png")]) == 3
    assert ".nii.gz" in capsys.readouterr().err


def test_inspect_missing_path_exit_code_3(tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "absent")]) == 3
    assert "does not exist" in capsys.readouterr().err


def test_inspect_json_holds_no_identifiers_unless_asked(ge_pet, capsys):
    uid = pydicom.dcmread(next(ge_pet.iterdir()), stop_before_pixels=True).SeriesInstanceUID
    assert main(["inspect", str(ge_pet), "--json"]) == 0
    text = capsys.readouterr().out
    assert uid not in text and "2000-09-07" not in text and "20000907" not in text and str(ge_pet) not in text
    suv = json.loads(text)["series"][0]["suv"]
    # times as hours after the injection (10:35:00): the series start 11:20:11 is 2711 s later
    assert suv["inputs"]["scan_datetime"]["value"] == pytest.approx(2711 / 3600, abs=1e-6)
    assert suv["inputs"]["injection_datetime"]["value"] == 0.0
    assert main(["inspect", str(ge_pet), "--json", "--include-identifiers"]) == 0
    full = json.loads(capsys.readouterr().out)["series"][0]
    assert full["series_uid"] == uid and full["suv"]["inputs"]["scan_datetime"]["value"] == "2000-09-07T11:20:11"


def test_convert_sidecar_holds_no_identifiers_unless_asked(ge_pet, tmp_path):
    uid = pydicom.dcmread(next(ge_pet.iterdir()), stop_before_pixels=True).SeriesInstanceUID
    assert main(["convert", str(ge_pet), str(tmp_path / "a.nii.gz")]) == 0
    text = (tmp_path / "a.json").read_text()
    assert uid not in text and "2000-09-07" not in text and str(ge_pet) not in text
    audit = json.loads(text)["suv"]
    assert audit["reference_hours_after_injection"] == pytest.approx(2711 / 3600, abs=1e-6)
    assert audit["uptake_hours"] == pytest.approx(2711 / 3600, abs=1e-9)
    assert main(["convert", str(ge_pet), str(tmp_path / "b.nii.gz"), "--include-identifiers"]) == 0
    full = json.loads((tmp_path / "b.json").read_text())
    assert full["series_uid"] == uid and full["source"] == str(ge_pet)
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]  # temporary files renamed


@pytest.mark.parametrize("command", ["inspect", "convert"])
def test_each_file_is_parsed_once(command, ge_pet, tmp_path, monkeypatch, capsys):
    """inspect lists and reads the SUV inputs, convert assembles and converts, from one parse per file."""
    from collections import Counter

    parsed: Counter[str] = Counter()
    dcmread = pydicom.dcmread

    def counting(fp, *args, **kwargs):
        parsed[str(fp) if isinstance(fp, (str, os.PathLike)) else fp.name] += 1  # a path, or a copy named after it
        return dcmread(fp, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
    args = [str(ge_pet)] + ([str(tmp_path / "suv.nii.gz")] if command == "convert" else [])
    assert main([command, *args]) == 0
    files = {str(p) for p in ge_pet.iterdir()}
    assert set(parsed) == files
    assert set(parsed.values()) == {1}
