"""Fixtures of the simulator tests: a second quick study (determinism) and readers of the study."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest


@pytest.fixture(scope="session")
def quick_study_again(tmp_path_factory) -> Path:
    """The quick study of the shared ``quick_study`` fixture, simulated a second time (seed 7)."""
    from immunopet.simulate import simulate_study

    return simulate_study(tmp_path_factory.mktemp("quick-again") / "study", quick=True, seed=7)


@pytest.fixture(scope="session")
def read_pet():
    """Read a PET folder with pydicom only: (Bq/mL volume (I, J, K) sorted by z, first header)."""

    def read(folder: Path) -> tuple[np.ndarray, pydicom.Dataset]:
        slices = [pydicom.dcmread(f) for f in sorted(folder.glob("*.dcm"))]
        slices.sort(key=lambda d: float(d.ImagePositionPatient[2]))
        volume = np.stack(
            [d.pixel_array.T.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in slices],
            axis=2,
        )
        return volume, slices[0]

    return read


@pytest.fixture(scope="session")
def suv_factor_from_header():
    """Independent SUVbw factor (mL/Bq * g) from a PET header: weight / decayed dose at series start."""

    def factor(ds: pydicom.Dataset) -> float:
        drug = ds.RadiopharmaceuticalInformationSequence[0]
        injected = dt.datetime.strptime(drug.RadiopharmaceuticalStartDateTime, "%Y%m%d%H%M%S")
        start = dt.datetime.strptime(ds.SeriesDate + ds.SeriesTime, "%Y%m%d%H%M%S")
        elapsed = (start - injected).total_seconds()
        dose = float(drug.RadionuclideTotalDose) * 2.0 ** (-elapsed / float(drug.RadionuclideHalfLife))
        return float(ds.PatientWeight) * 1000.0 / dose

    return factor


@pytest.fixture(scope="session")
def tables(quick_study):
    """The quick study's tables as DataFrames."""
    names = ("patients", "scans", "vois", "lesions")
    out = {name: pd.read_csv(quick_study / f"{name}.csv") for name in names}
    out["truth"] = pd.read_csv(quick_study / "truth" / "truth.csv")
    return out
