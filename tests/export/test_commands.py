"""`immunopet export` on the command line, the freshness check, and reading the SEG back (round trip)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pandas as pd

from immunopet.cli import main


def _plan(study_dir: Path, **options):
    from immunopet import __version__
    from immunopet.export.pipeline import plan_exports
    from immunopet.study import load_results, load_study, store

    study = load_study(study_dir)
    engine = store.open_store(store.default_url(study.root), create=False)
    try:
        stored = store.stored_scans(engine, study.config.name)
    finally:
        engine.dispose()
    defaults = {"out_dir": study_dir / "export", "include_identifiers": False, "version": __version__}
    return plan_exports(study, load_results(study_dir), stored, **{**defaults, **options})


def test_uids_are_derived_from_the_results_and_privacy_mode(exported):
    first, left_out = _plan(exported.study)
    again, _ = _plan(exported.study)
    identified, _ = _plan(exported.study, include_identifiers=True)
    assert left_out == [] and len(first) == 2
    assert [t.uids for t in first] == [t.uids for t in again]
    assert all(a.uids["seg"] != b.uids["seg"] for a, b in zip(first, identified))
    written = {r.scan_id: r for r in exported.pseudonymous.done}
    import pydicom

    for task in first:
        ds = pydicom.dcmread(written[task.scan.scan_id].files["sr"], stop_before_pixels=True)
        assert ds.SOPInstanceUID == task.uids["sr"]
    assert [t.order for t in first] == [1, 2]


def test_a_scan_changed_since_the_run_is_left_out(exported, tmp_path):
    study = Path(shutil.copytree(exported.study, tmp_path / "study", ignore=shutil.ignore_patterns("export*")))
    vois = pd.read_csv(study / "vois.csv", dtype=str, keep_default_na=False)
    changed = vois.loc[vois["voi_id"] == "blood_pool", "scan_id"].iloc[0]
    vois.loc[(vois["voi_id"] == "blood_pool") & (vois["scan_id"] == changed), "volume_ml"] = "3.5"
    vois.to_csv(study / "vois.csv", index=False)
    tasks, left_out = _plan(study)
    assert [scan for scan, _ in left_out] == [changed]
    assert "out of date" in left_out[0][1] and "immunopet run" in left_out[0][1]
    assert changed not in {t.scan.scan_id for t in tasks}


def test_export_without_results_is_unusable_input(tmp_path, capsys, quick_study):
    study = Path(shutil.copytree(quick_study, tmp_path / "study"))
    assert main(["export", str(study)]) == 3
    assert "no results yet" in capsys.readouterr().err
    assert not (study / "export").exists()


def test_host_without_port_is_a_usage_error(exported):
    assert main(["export", str(exported.study), "--host", "127.0.0.1"]) == 2


def test_measure_reads_the_exported_seg_back(exported, capsys):
    from immunopet.study import load_study

    study = load_study(exported.study)
    result = exported.identified.done[0]
    pet = study.path(study.scan(result.scan_id)["pet"])
    assert main(["measure", str(pet), "--seg", result.files["seg"], "--json"]) == 0
    rows = {r["voi_id"]: r for r in json.loads(capsys.readouterr().out)}
    m = exported.results.measurements
    stored = m[m["scan_id"] == result.scan_id].set_index("voi_id")
    assert set(rows) == set(stored.index)
    for voi_id, row in rows.items():
        for column in ("suv_max", "suv_peak", "suv_mean", "volume_ml", "pct_id", "n_voxels"):
            assert math.isclose(row[column], stored.loc[voi_id, column], rel_tol=1e-9), (voi_id, column)


def test_run_accepts_the_exported_seg_as_voi_source(exported, tmp_path):
    from immunopet.study import load_results, run_study

    study = Path(shutil.copytree(exported.study, tmp_path / "study", ignore=shutil.ignore_patterns("results", "export")))
    result = exported.identified.done[-1]
    scans = pd.read_csv(study / "scans.csv", dtype=str, keep_default_na=False)
    scans[scans["scan_id"] == result.scan_id].to_csv(study / "scans.csv", index=False)
    vois = pd.read_csv(study / "vois.csv", dtype=str, keep_default_na=False)
    vois = vois[vois["scan_id"] == result.scan_id].copy()
    seg = Path(result.files["seg"]).relative_to(exported.study)
    for column, value in (("source", "seg"), ("path", str(seg)), ("x_mm", ""), ("y_mm", ""), ("z_mm", ""),
                          ("diameter_mm", ""), ("volume_ml", "")):
        vois[column] = value
    vois["label"] = vois["voi_id"]
    vois.to_csv(study / "vois.csv", index=False)
    summary = run_study(study, workers=1, progress=False)
    assert summary.exit_code == 0, summary.failed_vois
    again = load_results(study).measurements.set_index("voi_id")
    m = exported.results.measurements
    before = m[m["scan_id"] == result.scan_id].set_index("voi_id")
    for column in ("suv_max", "suv_peak", "suv_mean", "volume_ml", "tbr_max"):
        pd.testing.assert_series_equal(again.loc[before.index, column], before[column], check_names=False)


def test_a_pseudonymous_seg_on_the_original_pet_says_how_to_get_one_that_fits(exported, capsys):
    from immunopet.export.identity import DEIDENTIFICATION_METHOD
    from immunopet.study import load_study
    from immunopet.voi.seg import PSEUDONYMOUS_EXPORT

    assert DEIDENTIFICATION_METHOD.startswith(PSEUDONYMOUS_EXPORT)
    study = load_study(exported.study)
    result = exported.pseudonymous.done[0]
    pet = study.path(study.scan(result.scan_id)["pet"])
    assert main(["measure", str(pet), "--seg", result.files["seg"], "--json"]) == 3
    printed = capsys.readouterr()
    assert "--include-identifiers" in printed.out + printed.err


def test_a_nifti_pet_is_left_out_with_its_reason(exported, tmp_path):
    from dataclasses import replace

    from immunopet.export.job import export_scan

    task = _plan(exported.study, out_dir=tmp_path)[0][0]
    nifti = replace(task, scan=replace(task.scan, pet=str(tmp_path / "pet.nii.gz"), pet_units="SUVbw"))
    result = export_scan(nifti)
    assert result.status == "failed" and "NIfTI" in result.error and "DICOM series" in result.error
    assert not any(tmp_path.rglob("*.dcm"))


def test_reading_the_pet_pixels_gives_the_same_seg_as_the_grid_alone(exported, tmp_path, monkeypatch):
    """VOIs needing SUV values (seed, delineation) make the export read the whole PET: same objects."""
    import pydicom

    from immunopet.export import job

    task = _plan(exported.study, out_dir=tmp_path)[0][0]
    monkeypatch.setattr(job, "_needs_suv", lambda rows: True)
    result = job.export_scan(task)
    assert result.status == "done", result.error
    before = {r.scan_id: r for r in exported.pseudonymous.done}[task.scan.scan_id]
    for kind in ("seg", "sr"):
        new, old = (pydicom.dcmread(p) for p in (result.files[kind], before.files[kind]))
        assert new.SOPInstanceUID == old.SOPInstanceUID
    assert pydicom.dcmread(result.files["seg"]).PixelData == pydicom.dcmread(before.files["seg"]).PixelData
