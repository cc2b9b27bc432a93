"""`run_study` on the analytic study: incremental re-runs, failures recorded, exports."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from immunopet.study import MEASUREMENT_COLUMNS, load_results, run_study, schema, store


def _edit(path, change):
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(table)
    table.to_csv(path, index=False)


def _runs(study):
    engine = store.open_store(store.default_url(study.resolve()), create=False)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(schema.runs).order_by(schema.runs.c.run_id)).mappings().all()
    finally:
        engine.dispose()


def test_second_run_without_changes_measures_nothing(analytic_study):
    first = run_study(analytic_study, workers=1, progress=False)
    before = pd.read_csv(analytic_study / "results" / "measurements.csv")
    second = run_study(analytic_study, workers=1, progress=False)
    assert len(first.done) == 6
    assert second.done == [] and second.n_vois_measured == 0 and len(second.skipped) == 6
    assert all(o.reason == f"unchanged since run {first.run_id}" for o in second.skipped)
    runs = _runs(analytic_study)
    assert [(r["n_done"], r["n_skipped"], r["status"]) for r in runs] == [(6, 0, "done"), (0, 6, "done")]
    pd.testing.assert_frame_equal(before, pd.read_csv(analytic_study / "results" / "measurements.csv"))


def test_editing_one_voi_row_recomputes_only_that_scan(analytic_study):
    run_study(analytic_study, workers=1, progress=False)

    def shrink(t):
        row = t.index[(t["scan_id"] == "P02_D7") & (t["voi_id"] == "L1")][0]
        t.loc[row, "diameter_mm"] = "10"
    _edit(analytic_study / "vois.csv", shrink)
    summary = run_study(analytic_study, workers=1, progress=False)
    assert [(o.scan_id, o.reason) for o in summary.done] == [("P02_D7", "scan row, patient size or VOIs changed")]
    assert len(summary.skipped) == 5
    lesion = load_results(analytic_study).measurements.query("scan_id == 'P02_D7' and voi_id == 'L1'").iloc[0]
    assert lesion["n_voxels"] == 8  # 10 mm sphere on 4 mm voxels: the 2x2x2 voxels around the centre


def test_changed_parameters_or_patient_size_recompute(analytic_study):
    run_study(analytic_study, workers=1, progress=False)
    text = (analytic_study / "study.yaml").read_text()
    (analytic_study / "study.yaml").write_text(text.replace("suv_peak: global", "suv_peak: local"))
    assert len(run_study(analytic_study, workers=1, progress=False).done) == 6
    _edit(analytic_study / "patients.csv", lambda t: t.__setitem__("height_cm", ["175", "180", ""]))
    summary = run_study(analytic_study, workers=1, progress=False)
    assert sorted(o.scan_id for o in summary.done) == ["P02_D2", "P02_D7"]
    forced = run_study(analytic_study, workers=1, force=True, progress=False)
    assert len(forced.done) == 6 and {o.reason for o in forced.done} == {"forced (--force)"}


def test_failures_are_recorded_and_the_rest_goes_on(analytic_study):
    # a corrupt PET in the middle of the study
    pet = analytic_study / "pet" / "P02_D2.nii.gz"
    pet.write_bytes(gzip.compress(b"not a NIfTI image at all"))

    def outside(t):  # a lesion sphere far outside the field of view
        row = t.index[(t["scan_id"] == "P03_D2") & (t["voi_id"] == "L1")][0]
        t.loc[row, "x_mm"] = "900"
    _edit(analytic_study / "vois.csv", outside)
    summary = run_study(analytic_study, workers=2, progress=False)
    assert summary.exit_code == 1 and summary.status == "partial"
    assert [o.scan_id for o in summary.failed] == ["P02_D2"]
    assert [o.scan_id for o in summary.failed_vois] == ["P03_D2/L1"]
    assert "field of view" in summary.failed_vois[0].reason or "no voxel" in summary.failed_vois[0].reason
    assert len(summary.done) == 5 and summary.n_vois_measured == 5 * 3 - 1
    results = load_results(analytic_study)
    scans = results.scans.set_index("scan_id")
    assert scans.loc["P02_D2", "status"] == "failed" and "P02_D2.nii.gz" in scans.loc["P02_D2", "error"]
    vois = results.vois.set_index(["scan_id", "voi_id"])
    assert vois.loc[("P03_D2", "L1"), "status"] == "failed"
    assert vois.loc[("P03_D2", "liver"), "status"] == "done"
    assert len(results.measurements) == 14
    # a failed scan is tried again by the next run; the rest is unchanged
    again = run_study(analytic_study, workers=1, progress=False)
    assert [o.scan_id for o in again.failed] == ["P02_D2"] and again.done == [] and len(again.skipped) == 5


def test_scans_removed_from_the_table_leave_the_store(analytic_study):
    run_study(analytic_study, workers=1, progress=False)
    _edit(analytic_study / "scans.csv", lambda t: t.drop(index=t.index[t["scan_id"] == "P03_D7"], inplace=True))
    _edit(analytic_study / "vois.csv", lambda t: t.drop(index=t.index[t["scan_id"] == "P03_D7"], inplace=True))
    summary = run_study(analytic_study, workers=1, progress=False)
    assert summary.done == [] and len(summary.skipped) == 5
    assert "P03_D7" not in set(load_results(analytic_study).measurements["scan_id"])


def test_exports_are_tidy_and_patient_uptake_is_the_geometric_mean(analytic_study):
    # give patient 1 a second lesion (the liver block, SUV 3) so the geometric mean is not trivial
    def add_lesion(t):
        extra = t[(t["scan_id"] == "P01_D7") & (t["voi_id"] == "liver")].copy()
        extra[["voi_id", "kind", "site"]] = ["L2", "lesion", "liver"]
        t.loc[len(t)] = extra.iloc[0]
    _edit(analytic_study / "vois.csv", add_lesion)
    run_study(analytic_study, workers=1, progress=False)
    folder = analytic_study / "results"
    csv = pd.read_csv(folder / "measurements.csv")
    parquet = pd.read_parquet(folder / "measurements.parquet")
    assert list(csv.columns) == MEASUREMENT_COLUMNS == list(parquet.columns)
    assert len(csv) == 19 and not csv.duplicated(["scan_id", "voi_id"]).any()
    np.testing.assert_allclose(csv["suv_max"], parquet["suv_max"])
    row = csv.query("scan_id == 'P03_D2' and voi_id == 'L1'").iloc[0]
    assert (row["patient_id"], row["tumour_type"], row["dose_cohort"], row["day"], row["kind"], row["site"], row["suv_type"]) == (
        "P03", "bladder", "10mg", 2.0, "lesion", "lung", "bw")
    assert np.isnan(row["hours_pi"])  # a NIfTI PET carries no injection time
    patients = pd.read_csv(folder / "patients.csv").set_index("patient_id")
    # day 7: P01 lesions SUVmax 8 and 3 -> sqrt(24); P02 16; P03 24
    assert patients.loc["P01", "pet_uptake"] == pytest.approx(np.sqrt(8 * 3))
    assert patients.loc["P02", "pet_uptake"] == pytest.approx(16.0)
    assert list(patients["n_lesions"]) == [2, 1, 1]
    assert patients.loc["P01", "best_response"] == "PR"


def test_changed_image_or_mask_files_recompute_their_scan(analytic_study):
    import nibabel

    run_study(analytic_study, workers=1, progress=False)
    pet = analytic_study / "pet" / "P01_D2.nii.gz"
    image = nibabel.load(pet)
    nibabel.save(nibabel.Nifti1Image(np.asarray(image.dataobj) * 2, image.affine, image.header), pet)
    mask = analytic_study / "masks" / "P03_D7_liver.nii.gz"
    labels = nibabel.load(mask)
    smaller = np.asarray(labels.dataobj).copy()
    smaller[2:4] = 0  # a third of the liver block removed
    nibabel.save(nibabel.Nifti1Image(smaller, labels.affine, labels.header), mask)
    summary = run_study(analytic_study, workers=1, progress=False)
    assert sorted((o.scan_id, o.reason) for o in summary.done) == [
        ("P01_D2", "PET files changed"), ("P03_D7", "scan row, patient size or VOIs changed")]
    m = load_results(analytic_study).measurements.set_index(["scan_id", "voi_id"])
    assert m.loc[("P01_D2", "L1"), "suv_max"] == pytest.approx(16.0)
    assert m.loc[("P03_D7", "liver"), "n_voxels"] == 4 * 6 * 6


def test_ctrl_c_keeps_committed_scans_and_marks_the_run_interrupted(analytic_study, monkeypatch):
    from immunopet.study import store as store_module

    real_write = store_module.write_scan
    written = []

    def write_then_interrupt(*args, **kwargs):
        if len(written) == 2:
            raise KeyboardInterrupt
        real_write(*args, **kwargs)
        written.append(args[1]["scan_id"])  # (engine, scan row, VOI rows, measurement rows)

    monkeypatch.setattr(store_module, "write_scan", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_study(analytic_study, workers=1, progress=False)
    monkeypatch.setattr(store_module, "write_scan", real_write)
    runs = _runs(analytic_study)
    assert [(r["status"], r["n_done"]) for r in runs] == [("interrupted", 2)]
    resumed = run_study(analytic_study, workers=1, progress=False)
    assert sorted(o.scan_id for o in resumed.skipped) == sorted(written) and len(resumed.done) == 4
