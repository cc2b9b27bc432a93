"""Discovery split over processes: every series summarised from all its files, each folder re-read once."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from immunopet.dicom.discover import scan
from immunopet.intake import discovery


def _slice(path: Path, series: str, k: int) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = f"{series}.{k + 1}"
    ds.Modality, ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "CT", "MRN1", "1.2.9", series
    ds.Rows = ds.Columns = 4
    ds.PixelSpacing, ds.SliceThickness = [2.0, 2.0], 3.0
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.ImagePositionPatient = [0.0, 0.0, 3.0 * k]
    ds.InstanceNumber = k + 1
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _straddling_export(root: Path) -> None:
    """Two series of four slices, each with two slices in folder A and two in folder B (a CD's numbered folders)."""
    for series in ("1.2.9.1", "1.2.9.2"):
        for k in range(4):
            _slice(root / ("A" if k < 2 else "B") / f"{series}-{k}", series, k)


def _summary(found) -> dict:
    return {s.series_uid: (s.n_instances, s.shape, s.spacing, sorted(s.files)) for s in found.series}


def test_split_folders_cover_every_file_once(tmp_path):
    _straddling_export(tmp_path / "export")
    (tmp_path / "export" / "A" / "deeper").mkdir()
    chunks = discovery.split_folders(tmp_path / "export", 8)
    files = sorted(f for c in chunks for f in c.rglob("*") if f.is_file())
    assert chunks == [tmp_path / "export" / "A", tmp_path / "export" / "B"]
    assert files == sorted(f for f in (tmp_path / "export").rglob("*") if f.is_file())


def test_series_split_over_parts_are_whole_and_their_folder_is_read_once(tmp_path, monkeypatch):
    root = tmp_path / "export"
    _straddling_export(root)
    parts = [scan(root / "A"), scan(root / "B")]
    assert all(s.n_instances == 2 for p in parts for s in p.series)
    calls = []
    monkeypatch.setattr(discovery, "scan", lambda folder: calls.append(folder) or scan(folder))
    merged = discovery.merge(parts)
    assert calls == [root]  # two split series, one folder: one re-read
    assert _summary(merged) == _summary(scan(root))
    assert {s.shape for s in merged.series} == {(4, 4, 4)}


def test_parallel_discovery_equals_one_scan(tmp_path, monkeypatch):
    root = tmp_path / "export"
    _straddling_export(root)
    _slice(root / "C" / "one", "1.2.9.3", 0)
    monkeypatch.setattr(discovery, "PARALLEL_MIN_FILES", 1)
    assert _summary(discovery.discover_export(root, workers=2)) == _summary(scan(root))


def test_parallel_discovery_with_progress_counts_every_folder(tmp_path, monkeypatch, capsys):
    import logging

    from immunopet.logging_setup import console

    root = tmp_path / "export"
    _straddling_export(root)
    _slice(root / "C" / "one", "1.2.9.3", 0)
    monkeypatch.setattr(discovery, "PARALLEL_MIN_FILES", 1)
    logging.getLogger("immunopet").setLevel(logging.INFO)
    with console.capture() as shown:
        found = discovery.discover_export(root, workers=2, progress=True)
    assert _summary(found) == _summary(scan(root))
    files = sum(1 for f in root.rglob("*") if f.is_file())
    assert f"reading headers ({files} of {files} files)" in shown.get()
    assert "3/3" in shown.get()  # folders A, B and C
