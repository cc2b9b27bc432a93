"""Multi-day 89Zr: one injection on day 0, scans on days 2, 4 and 7 (never assume same-day)."""

from __future__ import annotations

from datetime import datetime

import pytest

from immunopet.dicom import SuvOverrides, load_pet
from immunopet.errors import SUVError

T_HALF_H = 78.41
D0 = 37.0e6
INJECTION = datetime(2024, 3, 4, 9, 15, 0)
ZR = {
    "rp.RadionuclideHalfLife": "282276",
    "rp.RadionuclideTotalDose": "37",  # MBq, as many sites record it
    "rp.RadiopharmaceuticalStartDateTime": "20240304091500",
    "rp.RadiopharmaceuticalStartTime": "091500",
    "PatientWeight": "72.5",
    "DecayFactor": None,  # the source slice's value is that of its F-18 frame
}


def _zr_scan(craft, day: int, hhmmss: str):
    scan_date = f"202403{4 + day:02d}"
    folder = craft(f"day{day}", SeriesDate=scan_date, AcquisitionDate=scan_date, SeriesTime=hhmmss,
                   AcquisitionTime=hhmmss, edits=ZR)
    import pydicom

    ds = pydicom.dcmread(folder / "slice.dcm")
    item = ds.RadiopharmaceuticalInformationSequence[0].RadionuclideCodeSequence[0]
    item.CodeValue, item.CodeMeaning = "C-1018C", "^89^Zirconium"
    ds.save_as(folder / "slice.dcm")
    return folder


@pytest.mark.parametrize(("day", "hhmmss"), [(2, "101500"), (4, "093000"), (7, "141000")])
def test_zr89_days_after_injection(craft, day, hhmmss):
    pet = load_pet(_zr_scan(craft, day, hhmmss))
    scan = datetime.strptime(f"202403{4 + day:02d}{hhmmss}", "%Y%m%d%H%M%S")
    t_hours = (scan - INJECTION).total_seconds() / 3600.0
    d_ref = D0 * 2.0 ** (-t_hours / T_HALF_H)
    assert pet.uptake_hours == pytest.approx(t_hours)
    assert pet.injected_bq_at_reference == pytest.approx(d_ref, rel=1e-12)
    assert pet.suv_factor("bw") == pytest.approx(72.5e3 / d_ref, rel=1e-12)
    assert pet.inputs.get("nuclide") == "Zr-89"
    assert pet.inputs.warnings == []  # header half-life agrees with the 78.41 h table value


def test_day7_sees_4_42_times_less_activity(craft):
    pet = load_pet(_zr_scan(craft, 7, "091500"))
    assert D0 / pet.injected_bq_at_reference == pytest.approx(2 ** (168 / 78.41), rel=1e-12)
    assert 2 ** (168 / 78.41) == pytest.approx(4.42, abs=0.005)


def test_zr89_time_only_injection_is_refused(craft):
    folder = _zr_scan(craft, 4, "093000")
    import pydicom

    ds = pydicom.dcmread(folder / "slice.dcm")
    del ds.RadiopharmaceuticalInformationSequence[0].RadiopharmaceuticalStartDateTime
    ds.save_as(folder / "slice.dcm")
    with pytest.raises(SUVError, match="long-lived") as caught:
        load_pet(folder)
    assert "RadiopharmaceuticalStartTime (0018,1072)" in str(caught.value)
    assert "--injection-datetime" in str(caught.value)
    fixed = load_pet(folder, overrides=SuvOverrides(injection_datetime=INJECTION))
    assert fixed.uptake_hours == pytest.approx(4 * 24 + 0.25)
