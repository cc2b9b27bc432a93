"""The 17 IBSI SUV digital reference objects: SUVbw inside each DRO's mask, by `convert` and `inspect`.

Expected values from ``DRO_list.csv`` (0.20 / 1.00 / 4.00 for every DRO; DRO_2_3 stores SUVbsa
rounded to 0.01, so its exact values are 0.189 / 0.985 / 3.977, README of the DRO folder).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from immunopet.cli import main

DRO_ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "ibsi-suv-dro"
EXACT_DRO_2_3 = (0.189, 0.985, 3.977)


def _expected() -> dict[str, tuple[float, float, float]]:
    table = DRO_ROOT / "DRO_list.csv"
    if not table.is_file():
        return {}
    with table.open(newline="", encoding="utf-8") as handle:
        rows = {r["ID"]: tuple(float(r[k]) for k in ("SUVmin_expected", "SUVmed_expected", "SUVmax_expected"))
                for r in csv.DictReader(handle)}
    rows["DRO_2_3"] = EXACT_DRO_2_3
    return rows


EXPECTED = _expected()
DRO_IDS = sorted(EXPECTED) or ["DRO folder missing"]


@pytest.fixture(scope="module")
def dro_root() -> Path:
    if not (DRO_ROOT / "DRO_list.csv").is_file():
        pytest.fail(f"IBSI SUV reference objects not found at {DRO_ROOT}: the tests need the workplace's "
                    "shared/ibsi-suv-dro folder beside the repository (../shared/ibsi-suv-dro)")
    return DRO_ROOT


def test_all_seventeen_dros_are_present(dro_root):
    assert len(EXPECTED) == 17
    assert all((dro_root / dro / "PT").is_dir() for dro in EXPECTED)


@pytest.mark.parametrize("dro", DRO_IDS)
def test_convert_gives_the_reference_suvbw(dro, dro_root, tmp_path, capsys):
    from immunopet.image import Image
    from immunopet.voi import masks_from_nifti

    out = tmp_path / f"{dro}.nii.gz"
    assert main(["convert", str(dro_root / dro / "PT"), str(out), "--suv", "bw"]) == 0
    image = Image.from_nifti(str(out), units="SUVbw")
    mask = next(iter(masks_from_nifti(dro_root / dro / "mask" / "DRO_mask.nii.gz", image).values()))
    inside = image.array[mask]
    low, median, high = EXPECTED[dro]
    assert inside.min() == pytest.approx(low, abs=2e-3)
    assert np.median(inside) == pytest.approx(median, abs=2e-3)
    assert inside.max() == pytest.approx(high, abs=2e-3)
    # inspect reads the same SUV inputs by the same code: its factor is the one convert used
    factor = json.loads((tmp_path / f"{dro}.json").read_text())["suv"]["suv_factors"]["bw"]
    capsys.readouterr()
    assert main(["inspect", str(dro_root / dro / "PT"), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["series"][0]["suv"]
    assert listed["suv_bw_factor"] == pytest.approx(factor, rel=1e-12)


def test_philips_factors_without_creator_are_read_with_a_warning(dro_root, caplog):
    from immunopet.dicom import load_pet

    for dro, tag in (("DRO_2_4", "(7053,1000)"), ("DRO_2_5", "(7053,1009)")):
        pet = load_pet(dro_root / dro / "PT")
        assert any(tag in w and "private creator" in w for w in pet.inputs.warnings), dro
        assert any(tag in r.getMessage() for r in caplog.records), dro


def test_dro_2_2_uses_the_ibsi_ideal_body_weight(dro_root):
    from immunopet.dicom import load_pet

    pet = load_pet(dro_root / "DRO_2_2" / "PT")
    # stored SUVibw of sex O, 175 cm: IBW = mean(48 + 1.06 x 23, 45.5 + 0.91 x 23) kg
    ibw_g = 1000 * 0.5 * ((48.0 + 1.06 * 23) + (45.5 + 0.91 * 23))
    assert pet.suv_factor("ibw") / pet.suv_factor("bw") == pytest.approx(ibw_g / 70.0e3, rel=1e-12)
