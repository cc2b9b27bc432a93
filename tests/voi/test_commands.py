"""``immunopet measure`` on NIfTI input: JSON/CSV output equals measure_masks on the same VOIs."""

from __future__ import annotations

import io
import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from immunopet.cli import main
from immunopet.voi import masks_from_nifti, masks_from_rtstruct, measure_masks, measure_scan, sphere_mask


@pytest.fixture()
def nifti_case(tmp_path, aniso_grid):
    rng = np.random.default_rng(3)
    grid = aniso_grid(shape=(40, 36, 30), spacing=(2.0, 3.0, 4.0), origin=(-40.0, -54.0, -60.0))
    suv = grid.with_array(rng.gamma(4.0, 0.5, grid.shape).astype(np.float32), units="SUVbw")
    labels = np.zeros(grid.shape, np.uint8)
    labels[5:12, 5:12, 5:10] = 1
    labels[20:30, 10:20, 12:20] = 2
    nib.save(suv.to_nifti(), tmp_path / "suv.nii.gz")
    nib.save(suv.with_array(suv.array * 2500.0).to_nifti(), tmp_path / "bqml.nii.gz")
    nib.save(grid.with_array(labels).to_nifti(), tmp_path / "lesions.nii.gz")
    (tmp_path / "lesions.csv").write_text("label,name\n1,L1\n2,liver\n")
    return tmp_path, suv


def expected(suv, folder, **kwargs):
    masks = masks_from_nifti(folder / "lesions.nii.gz", suv, labels={1: "L1", 2: "liver"})
    masks["blood_pool"] = sphere_mask(suv, [0.0, 0.0, 0.0], diameter_mm=17.7)
    return measure_masks(suv, masks, **kwargs)


def test_json_equals_measure_masks(nifti_case, capsys):
    folder, suv = nifti_case
    code = main(["measure", str(folder / "suv.nii.gz"), "--units", "SUVbw", "--mask", str(folder / "lesions.nii.gz"),
                 "--labels", str(folder / "lesions.csv"), "--sphere", "0,0,0,17.7,blood_pool", "--json"])
    out = capsys.readouterr()
    assert code == 0
    got = pd.DataFrame(json.loads(out.out))
    want = expected(suv, folder)
    assert list(got.voi_id) == ["L1", "liver", "blood_pool"]
    numeric = want.columns[1:]
    assert np.allclose(got[numeric].to_numpy(float), want[numeric].to_numpy(float), equal_nan=True, rtol=1e-12)
    assert got.pct_id.isna().all() and "pct_id and mean_bqml need Bq/mL" in out.err


def test_csv_from_bqml_with_injected_activity(nifti_case, capsys):
    folder, suv = nifti_case
    code = main(["measure", str(folder / "bqml.nii.gz"), "--units", "BQML", "--injected-mbq", "175",
                 "--weight-kg", "70", "--mask", str(folder / "lesions.nii.gz"), "--labels", str(folder / "lesions.csv"),
                 "--sphere", "0,0,0,17.7,blood_pool", "--csv"])
    assert code == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))
    # SUV = C * W / D = 2500 s * 70000 / 175e6 = s: the same SUVs; activity known, so %ID is set
    bq = suv.with_array(suv.array * np.float32(2500.0), units="BQML")
    want = expected(suv.with_array(bq.array * np.float32(70000 / 175e6)), folder, activity=bq, injected_bq=175e6)
    numeric = want.columns[1:]
    assert np.allclose(got[numeric].to_numpy(float), want[numeric].to_numpy(float), rtol=1e-6)
    liver = got.set_index("voi_id").loc["liver"]
    assert liver.pct_id == pytest.approx(100 * liver.mean_bqml * liver.volume_ml / 175e6)


def test_python_api_and_partial_failure(nifti_case, capsys):
    folder, suv = nifti_case
    table = measure_scan(folder / "suv.nii.gz", units="SUVbw", spheres=["0,0,0,17.7,blood_pool", "900,0,0,10,far"])
    assert list(table.voi_id) == ["blood_pool"] and len(table.attrs["errors"]) == 1
    # exit code 1 (partial failure) checked through the Typer app itself: cli.main does not yet pass
    # a command's own exit code on (it returns 0 whenever no exception escapes)
    from typer.testing import CliRunner

    from immunopet.cli import app

    result = CliRunner().invoke(app, ["measure", str(folder / "suv.nii.gz"), "--units", "SUVbw",
                                      "--sphere", "0,0,0,17.7", "--sphere", "900,0,0,10,far", "--csv"])
    assert result.exit_code == 1
    assert "sphere_1" in result.stdout and "outside the image field of view" in result.stderr


def test_input_errors_exit_3(nifti_case, capsys):
    folder, _ = nifti_case
    assert main(["measure", str(folder / "suv.nii.gz"), "--sphere", "0,0,0,17.7"]) == 3
    assert "--units" in capsys.readouterr().err
    assert main(["measure", str(folder / "bqml.nii.gz"), "--units", "BQML", "--sphere", "0,0,0,17.7"]) == 3
    assert main(["measure", str(folder / "suv.nii.gz"), "--units", "SUVbw", "--sphere", "0,0,17.7"]) == 3
    assert "X,Y,Z,DIAM_MM" in capsys.readouterr().err


def test_dicom_pet_with_rtstruct_and_blood_pool(shared_data, ge_pet, capsys):
    """GE FDG PET from DICOM: SUVbw, %ID and ratios against a hand computation on the pydicom read."""
    pet_dir = shared_data / "tcia-sts-001-ge-fdg" / "pet"
    rs = shared_data / "tcia-sts-001-ge-fdg" / "rtstruct" / "1-1.dcm"
    code = main(["measure", str(pet_dir), "--rtstruct", str(rs), "--roi", "GTV_Mass",
                 "--sphere", "-20,10,-700,17.7,blood_pool", "--json"])
    assert code == 0
    got = pd.DataFrame(json.loads(capsys.readouterr().out)).set_index("voi_id")
    # README: 388.8 MBq at 10:35:00, series start 11:20:11 (DecayCorrection START), 71 kg, 18F 6586.2 s
    injected_ref = 388.8e6 * 2 ** (-(45 * 60 + 11) / 6586.2)
    suv = ge_pet.array * (71000.0 / injected_ref)
    gtv = masks_from_rtstruct(rs, ge_pet, roi_names=["GTV_Mass"])["GTV_Mass"]
    blood = sphere_mask(ge_pet, [-20.0, 10.0, -700.0], diameter_mm=17.7)
    row = got.loc["GTV_Mass"]
    assert row.suv_max == pytest.approx(suv[gtv].max(), rel=1e-4)
    assert row.suv_mean == pytest.approx(suv[gtv].mean(), rel=1e-4)
    assert row.mean_bqml == pytest.approx(ge_pet.array[gtv].mean(), rel=1e-5)
    assert row.pct_id == pytest.approx(100 * ge_pet.array[gtv].sum() * ge_pet.voxel_volume_ml / injected_ref, rel=1e-4)
    assert row.tbr_mean == pytest.approx(suv[gtv].mean() / suv[blood].mean(), rel=1e-4)



def test_suvbw_nifti_with_dose_and_weight_recovers_bqml(nifti_case):
    folder, suv = nifti_case
    from_suv = measure_scan(folder / "suv.nii.gz", units="SUVbw", injected_mbq=175, weight_kg=70,
                            masks=[str(folder / "lesions.nii.gz")], labels=str(folder / "lesions.csv"))
    from_bq = measure_scan(folder / "bqml.nii.gz", units="BQML", injected_mbq=175, weight_kg=70,
                           masks=[str(folder / "lesions.nii.gz")], labels=str(folder / "lesions.csv"))
    # bqml.nii.gz holds 2500 x SUV and 175 MBq / 70 kg = 2500 Bq/g: both routes give the same numbers
    for column in ("suv_mean", "mean_bqml", "pct_id"):
        assert from_suv[column].to_numpy() == pytest.approx(from_bq[column].to_numpy(), rel=1e-6)
    assert from_suv.loc[0, "mean_bqml"] == pytest.approx(2500 * from_suv.loc[0, "suv_mean"], rel=1e-6)


def test_default_table_shows_the_same_numbers(nifti_case, capsys):
    folder, suv = nifti_case
    code = main(["measure", str(folder / "suv.nii.gz"), "--units", "SUVbw", "--mask", str(folder / "lesions.nii.gz"),
                 "--labels", str(folder / "lesions.csv")])
    out = capsys.readouterr().out
    want = expected(suv, folder).set_index("voi_id")
    assert code == 0 and "L1" in out and "liver" in out
    for metric in ("suv_max", "suv_peak", "suv_mean", "volume_ml"):
        line = next(row for row in out.splitlines() if f" {metric} " in row)
        assert f"{want.loc['L1', metric]:.4g}" in line and f"{want.loc['liver', metric]:.4g}" in line


def test_nan_pet_is_refused_with_exit_3(nifti_case, capsys):
    folder, suv = nifti_case
    array = suv.array.copy()
    array[3, 4, 5] = np.nan
    nib.save(suv.with_array(array).to_nifti(), folder / "nan.nii.gz")
    code = main(["measure", str(folder / "nan.nii.gz"), "--units", "SUVbw", "--mask", str(folder / "lesions.nii.gz")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 3 and "1 voxel value(s) of the PET are NaN or infinite" in err and "Traceback" not in err


def test_json_is_strict_when_a_ratio_is_infinite(nifti_case, capsys):
    """A blood pool of SUV 0 makes tumour-to-blood ratios infinite: JSON must say null, not Infinity."""
    folder, suv = nifti_case
    array = suv.array.copy()
    blood = sphere_mask(suv, [0.0, 0.0, 0.0], diameter_mm=17.7)
    array[blood] = 0.0
    nib.save(suv.with_array(array).to_nifti(), folder / "cold.nii.gz")
    code = main(["measure", str(folder / "cold.nii.gz"), "--units", "SUVbw", "--mask", str(folder / "lesions.nii.gz"),
                 "--labels", str(folder / "lesions.csv"), "--sphere", "0,0,0,17.7,blood_pool", "--json"])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, captured.err

    def refuse(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    records = {r["voi_id"]: r for r in json.loads(out, parse_constant=refuse)}
    expected_table = measure_masks(suv.with_array(array), {**masks_from_nifti(
        folder / "lesions.nii.gz", suv, labels={1: "L1", 2: "liver"}), "blood_pool": blood})
    liver = expected_table.set_index("voi_id").loc["liver"]
    assert not np.isfinite(liver["tbr_max"]) and records["liver"]["tbr_max"] is None
    assert records["liver"]["suv_max"] == pytest.approx(float(liver["suv_max"]))
