"""``simulate --layout pacs``: a raw export (DICOM only, opaque names, decoys) and its truth."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from immunopet.errors import ImmunoPETError


@pytest.fixture(scope="module")
def one_patient(tmp_path_factory) -> Path:
    from immunopet.simulate.pacs_export import simulate_pacs_export

    return simulate_pacs_export(tmp_path_factory.mktemp("pacs1") / "sim", patients=1, quick=True, seed=5)


def test_export_is_dicom_only_with_opaque_names_and_truth(one_patient):
    assert sorted(p.name for p in one_patient.iterdir()) == ["dicom-export", "truth"]
    files = [Path(d) / n for d, _, names in os.walk(one_patient / "dicom-export") for n in names]
    assert all(not f.suffix and len(f.stem) == 16 for f in files)  # opaque names, no .dcm
    series: dict[str, list[pydicom.Dataset]] = {}
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)  # every file is DICOM
        series.setdefault(str(ds.SeriesInstanceUID), []).append(ds)
        assert f.parent.name == ds.SeriesInstanceUID and f.parent.parent.name == ds.StudyInstanceUID
    truth = pd.read_csv(one_patient / "truth" / "scans.csv")
    decoys = pd.read_csv(one_patient / "truth" / "decoys.csv")
    assert list(truth.columns) == ["scan_id", "patient_id", "day", "hours_pi", "pet_series_uid", "ct_series_uid"]
    assert len(truth) == 4 and set(truth["pet_series_uid"]) | set(truth["ct_series_uid"]) <= set(series)
    assert set(decoys["kind"]) >= {"second_recon", "nac", "mip", "scout", "dose_report", "rdsr"}
    seg = [s for s in series.values() if s[0].Modality == "SEG"]
    listed = set(truth["pet_series_uid"]) | set(truth["ct_series_uid"]) | set(decoys["series_uid"])
    assert set(series) == listed | {s[0].SeriesInstanceUID for s in seg}
    for row in decoys.itertuples():
        first = series[row.series_uid][0]
        if row.kind == "nac":
            assert "ATTN" not in first.CorrectedImage and "AttenuationCorrectionMethod" not in first
        if row.kind == "scout":
            assert "LOCALIZER" in first.ImageType and len(series[row.series_uid]) == 1
        if row.kind == "second_recon":
            assert first.SeriesNumber == 4 and len(series[row.series_uid]) == len(series[truth.pet_series_uid[0]])
    assert (one_patient / "truth" / "study" / "vois.csv").is_file()


def test_second_reconstruction_keeps_the_activity(one_patient):
    """The post-filtered copy keeps the total activity of its source (a Gaussian filter conserves sums)."""
    decoys = pd.read_csv(one_patient / "truth" / "decoys.csv")
    truth = pd.read_csv(one_patient / "truth" / "scans.csv")
    recon = decoys[decoys["kind"] == "second_recon"].iloc[0]
    source = truth[truth["scan_id"] == recon["scan_id"]].iloc[0]

    def total(uid: str) -> float:
        files = [Path(d) / n for d, _, names in os.walk(one_patient / "dicom-export") for n in names
                 if Path(d).name == uid]
        return sum(float(np.sum(ds.pixel_array * float(ds.RescaleSlope))) for ds in map(pydicom.dcmread, files))

    assert total(recon["series_uid"]) == pytest.approx(total(source["pet_series_uid"]), rel=0.01)


def test_output_folder_must_be_new(tmp_path):
    from immunopet.simulate.pacs_export import simulate_pacs_export

    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(ImmunoPETError, match="not empty"):
        simulate_pacs_export(tmp_path / "x", patients=1, quick=True)


def test_patients_written_side_by_side_give_the_same_files(tmp_path):
    """The export written by two worker processes (one patient each) is the serial one, byte for byte;
    three patients, so that one is written flat (CD layout) and one is the returning patient."""
    from immunopet.simulate.pacs_export import simulate_pacs_export

    def tree(root: Path) -> dict[str, bytes]:
        return {str((Path(d) / n).relative_to(root)): (Path(d) / n).read_bytes()
                for d, _, names in os.walk(root) for n in names}

    serial = simulate_pacs_export(tmp_path / "serial", patients=3, quick=True, seed=3, workers=1)
    pooled = simulate_pacs_export(tmp_path / "pooled", patients=3, quick=True, seed=3, workers=2)
    assert any(p.name.startswith("CD") for p in (serial / "dicom-export").iterdir())
    assert tree(serial) == tree(pooled)
