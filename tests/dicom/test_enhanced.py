"""Legacy-converted enhanced PET (as highdicom writes it from a classic series): same SUV as the classic."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from immunopet.cli import main
from immunopet.dicom import load_pet

DRO = Path(__file__).resolve().parents[2].parent / "shared" / "ibsi-suv-dro" / "DRO_0_0" / "PT"


@pytest.fixture(scope="module")
def legacy(tmp_path_factory) -> Path:
    import highdicom as hd

    if not DRO.is_dir():
        pytest.fail(f"IBSI DRO_0_0 not found at {DRO} (../shared/ibsi-suv-dro)")
    folder = tmp_path_factory.mktemp("legacy")
    classic = [pydicom.dcmread(f) for f in sorted(DRO.iterdir())]
    image = hd.legacy.LegacyConvertedEnhancedPETImage(
        classic, series_instance_uid=generate_uid(), series_number=9, sop_instance_uid=generate_uid(), instance_number=1)
    image.save_as(folder / "enhanced.dcm")
    ds = pydicom.dcmread(folder / "enhanced.dcm", stop_before_pixels=True)
    assert "Units" not in ds and "RadiopharmaceuticalInformationSequence" not in ds  # as the issue found it
    return folder


def test_legacy_converted_pet_gives_the_classic_suv(legacy, tmp_path, capsys):
    converted, classic = load_pet(legacy), load_pet(DRO)
    assert converted.suv_factor("bw") == pytest.approx(classic.suv_factor("bw"), rel=1e-12)
    np.testing.assert_allclose(converted.suv("bw").array, classic.suv("bw").array, rtol=1e-6)
    # the audit names where the attributes were actually found
    assert converted.inputs.units.source == (
        "Units (0054,1001) in SharedFunctionalGroupsSequence > UnassignedSharedConvertedAttributesSequence")
    assert "UnassignedSharedConvertedAttributesSequence" in converted.inputs.injected_bq.source
    assert main(["convert", str(legacy), str(tmp_path / "e.nii.gz")]) == 0
    assert main(["inspect", str(legacy), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["series"][0]["suv"]
    assert listed["suv_bw_factor"] == pytest.approx(classic.suv_factor("bw"), rel=1e-12)
