"""Reference time checked against DecayFactor (0054,1321): the GE convention for FrameReferenceTime.

A GE multi-bed series writes AcquisitionTime = the scan start on every slice, FrameReferenceTime =
the bed's start offset and DecayFactor = exp(lambda FrameReferenceTime) x lambda T / (1 - exp(-lambda T)).
Built here from the real Siemens slice (acrin-flt-siemens/1.dcm) as three beds.
"""

from __future__ import annotations

import math
from pathlib import Path

import pydicom
import pydicom.uid
import pytest

from immunopet.dicom import load_pet

W_KG, DOSE_BQ, T_HALF = 69.7344, 178340011.59668, 6586.2
UPTAKE_S = (15 * 3600 + 23 * 60 + 16.921) - (14 * 3600 + 17 * 60)  # injection 14:17:00, scan 15:23:16.921
LAM = math.log(2) / T_HALF
BED_S = 300.0


def _decay_factor(start_offset_s: float) -> float:
    x = LAM * BED_S
    return math.exp(LAM * start_offset_s) * x / -math.expm1(-x)


def _ge_beds(folder: Path, source: Path, *, series_time: str | None, factors=None) -> Path:
    folder.mkdir()
    for bed in range(3):
        ds = pydicom.dcmread(source)
        ds.SOPInstanceUID = pydicom.uid.generate_uid()
        position = [float(v) for v in ds.ImagePositionPatient]
        ds.ImagePositionPatient = [position[0], position[1], position[2] + 100.0 * bed]
        ds.SliceThickness = 100.0
        ds.AcquisitionTime = "152316.921"
        ds.ActualFrameDuration = int(BED_S * 1000)
        ds.FrameReferenceTime = BED_S * 1000 * bed
        ds.DecayFactor = f"{(factors or _decay_factor)(BED_S * bed):.6f}"
        if series_time is None:
            del ds.SeriesTime
        else:
            ds.SeriesTime = series_time
        ds.save_as(folder / f"bed{bed}.dcm")
    return folder


def bw_factor(uptake_s: float) -> float:
    return W_KG * 1000 / (DOSE_BQ * math.exp(-LAM * uptake_s))


@pytest.mark.parametrize("series_time", ["160000", None])  # moved by re-processing / missing
def test_ge_beds_use_the_start_that_reproduces_decay_factor(tmp_path, siemens_wb, series_time):
    pet = load_pet(_ge_beds(tmp_path / "ge", siemens_wb, series_time=series_time))
    assert pet.inputs.scan_datetime.source.startswith("earliest AcquisitionDate")
    assert "reproduces DecayFactor" in pet.inputs.scan_datetime.note
    assert pet.suv_factor("bw") == pytest.approx(bw_factor(UPTAKE_S), rel=1e-6)
    # the IBSI back-computation (mid-frame convention) would be wrong here, and is named as such
    assert any("back-computed" in w and "does not reproduce DecayFactor" in w for w in pet.inputs.warnings)


def test_no_candidate_reproducing_decay_factor_is_warned(tmp_path, siemens_wb):
    pet = load_pet(_ge_beds(tmp_path / "ge", siemens_wb, series_time="152316.921", factors=lambda _: 1.3))
    assert pet.inputs.scan_datetime.source.startswith("SeriesDate")  # slices disagree: DecayFactor unusable
    folder = _ge_beds(tmp_path / "ge2", siemens_wb, series_time="152316.921",
                      factors=lambda offset: _decay_factor(offset + 600.0))  # consistent, but 600 s earlier
    pet = load_pet(folder)
    assert pet.inputs.scan_datetime.source.startswith("SeriesDate")
    warning = next(w for w in pet.inputs.warnings if "no reference-time candidate" in w)
    assert "SeriesDate (0008,0021) + SeriesTime (0008,0031) gives" in warning and "DecayFactor implies" in warning
