"""`immunopet run` end to end on the simulated quick study: every VOI measured, organ SUVs against the
simulator's ground truth, incremental re-runs, a Dask cluster, failures in the middle of a study, and
a run killed with SIGKILL halfway then resumed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from immunopet.cli import main as cli_main
from immunopet.study import load_results, load_study, run_study

pytestmark = pytest.mark.slow

#: Organs measured from the simulator's label map (large enough for the <= 6 % repeatability of
#: large organs, Jauw et al. MIB 2018).
LARGE_ORGANS = ("liver", "spleen", "kidneys", "muscle", "intestine", "lungs", "brain")
#: The SD of one marrow measurement the noise is calibrated to: RC 40 % / 2.77 (Jauw et al. 2018;
#: docs/simulator-repeatability.md), the marrow's noise being correlated over the VOI.
MARROW_SD = 0.40 / 2.77


def _patients(study) -> list[str]:
    return list(pd.read_csv(study / "patients.csv", dtype=str)["patient_id"])


def expected_deviation(joined: pd.DataFrame) -> pd.Series:
    """What a correct measurement may differ from the truth by: 4 standard errors of the VOI mean
    (image noise), 5 % (partial volume at the organ's edge) and 0.01 SUV (spill-in into organs of
    very low uptake such as the brain on day 7)."""
    standard_error = joined["suv_sd"] / np.sqrt(joined["n_voxels"])
    return 4 * standard_error + 0.05 * joined["true_suv_mean"] + 0.01


def test_every_voi_is_measured_and_agrees_with_the_ground_truth(measured):
    study, summary, _ = measured
    vois = pd.read_csv(study / "vois.csv")
    assert summary.exit_code == 0 and len(summary.done) == len(pd.read_csv(study / "scans.csv"))
    results = load_results(study)
    m = results.measurements
    assert len(m) == len(vois) == summary.n_vois_measured
    assert set(zip(m.scan_id, m.voi_id)) == set(zip(vois.scan_id, vois.voi_id))
    assert m[["suv_max", "suv_mean", "suv_peak", "volume_ml", "pct_id"]].notna().all().all()
    truth = pd.read_csv(study / "truth" / "truth.csv")
    joined = m.merge(truth, on=["scan_id", "voi_id"], suffixes=("", "_true"), validate="one_to_one")
    assert len(joined) == len(m)
    ratio = joined["suv_mean"] / joined["true_suv_mean"]
    large = joined["voi_id"].isin(LARGE_ORGANS)
    assert large.sum() == len(results.scans) * len(LARGE_ORGANS)
    deviation = (joined["suv_mean"] - joined["true_suv_mean"]).abs()
    assert (deviation[large] <= expected_deviation(joined)[large]).all()
    assert abs(ratio[large].mean() - 1) < 0.02  # no overall bias (decay, dose or weight errors show here)
    marrow = joined["voi_id"] == "bone_marrow"  # deep in the abdomen: noisy (attenuation), correlated
    assert marrow.sum() == len(results.scans)
    assert (ratio[marrow] - 1).abs().max() < 3 * MARROW_SD
    assert abs(ratio[marrow].mean() - 1) < 3 * MARROW_SD / np.sqrt(marrow.sum())  # no bias
    blood = joined["voi_id"] == "blood_pool"  # a 2.9 mL sphere: a few noisy voxels
    assert blood.sum() == len(results.scans) and (deviation[blood] <= expected_deviation(joined)[blood]).all()
    # hours after injection from the DICOM times equal the simulator's
    np.testing.assert_allclose(joined["hours_pi"], joined["hours_pi_true"], atol=1e-6)
    # %ID re-computed independently: mean Bq/mL x volume / injected activity at the reference time
    scans = results.scans.set_index("scan_id")
    pct = 100 * m["mean_bqml"] * m["volume_ml"] / m["scan_id"].map(scans["injected_bq"])
    np.testing.assert_allclose(m["pct_id"], pct, rtol=1e-5)
    assert scans["suv_audit"].str.contains("injection_datetime").all()


def test_patient_uptake_is_recomputed_from_the_lesion_rows(measured):
    study, _, _ = measured
    results = load_results(study)
    config = load_study(study).config
    lesions = results.measurements.query("kind == 'lesion' and day == @config.outcome_day")
    expected = lesions.groupby("patient_id")[config.lesion_metric].apply(lambda v: float(np.exp(np.log(v).mean())))
    got = results.patients.set_index("patient_id")
    np.testing.assert_allclose(got.loc[expected.index, "pet_uptake"], expected.values, rtol=1e-12)
    assert (got.loc[expected.index, "n_lesions"] == lesions.groupby("patient_id").size()).all()
    exported = pd.read_csv(study / "results" / "patients.csv").set_index("patient_id")
    np.testing.assert_allclose(exported.loc[expected.index, "pet_uptake"], expected.values, rtol=1e-9)


def test_rerun_measures_nothing_then_only_the_edited_scan(measured):
    study, first, _ = measured
    second = run_study(study, workers=2, progress=False)
    assert second.done == [] and second.n_vois_measured == 0 and len(second.skipped) == len(first.done)
    before = load_results(study).measurements
    vois = pd.read_csv(study / "vois.csv", dtype=str, keep_default_na=False)
    target = vois.index[(vois["voi_id"] == "blood_pool")][5]
    edited_scan = vois.loc[target, "scan_id"]
    vois.loc[target, "volume_ml"] = "1.5"
    vois.to_csv(study / "vois.csv", index=False)
    third = run_study(study, workers=2, progress=False)
    assert [o.scan_id for o in third.done] == [edited_scan] and len(third.skipped) == len(first.done) - 1
    after = load_results(study).measurements
    untouched = before["scan_id"] != edited_scan
    pd.testing.assert_frame_equal(before[untouched].reset_index(drop=True), after[after["scan_id"] != edited_scan].reset_index(drop=True))
    changed = after.query("scan_id == @edited_scan and voi_id == 'blood_pool'")["volume_ml"].iloc[0]
    assert changed < before.query("scan_id == @edited_scan and voi_id == 'blood_pool'")["volume_ml"].iloc[0]


def test_dask_cluster_gives_the_same_table_as_the_process_pool(measured, copy_quick_study):
    from distributed import LocalCluster

    study = copy_quick_study("dask", patients=[0])
    patient = _patients(study)[0]  # noqa: F841 - read by DataFrame.query as @patient
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        summary = run_study(study, scheduler=cluster.scheduler_address, progress=False)
    assert summary.exit_code == 0 and len(summary.done) == 4
    reference = measured[2].measurements.query("patient_id == @patient").reset_index(drop=True)
    pd.testing.assert_frame_equal(load_results(study).measurements, reference)


def test_corrupt_dicom_and_voi_outside_the_field_of_view(copy_quick_study, capsys):
    study = copy_quick_study("faults", patients=[1])
    scans = pd.read_csv(study / "scans.csv")
    broken_scan = scans["scan_id"].iloc[1]
    slices = sorted((study / scans["pet"].iloc[1]).glob("*.dcm"))
    slices[len(slices) // 2].write_bytes(b"DICM" + bytes(300))  # a truncated, corrupt slice
    vois = pd.read_csv(study / "vois.csv", dtype=str, keep_default_na=False)
    outside_scan = scans["scan_id"].iloc[2]
    row = vois.index[(vois["scan_id"] == outside_scan) & (vois["voi_id"] == "blood_pool")][0]
    vois.loc[row, "z_mm"] = "5000"
    vois.to_csv(study / "vois.csv", index=False)
    assert cli_main(["run", str(study), "--workers", "1", "--json"]) == 1
    results = load_results(study)
    status = results.scans.set_index("scan_id")
    assert status.loc[broken_scan, "status"] == "failed" and status.loc[broken_scan, "error"]
    assert (status.drop(index=broken_scan)["status"] == "done").all()
    failed_vois = results.vois.query("status == 'failed'")
    assert list(zip(failed_vois.scan_id, failed_vois.voi_id)) == [(outside_scan, "blood_pool")]
    n_vois = len(vois[vois["scan_id"] != broken_scan])
    assert len(results.measurements) == n_vois - 1
    out = capsys.readouterr()
    assert '"exit_code": 1' in out.out and broken_scan in out.err




#: Runs ``immunopet run`` and kills it with SIGKILL inside the transaction of the third scan it writes,
#: after that scan's row is written and before its VOIs and the commit: the worst moment, every time
#: (polling the store from outside raced with fast machines, which finished the study first).
KILL_IN_THIRD_WRITE = """
import os, signal, sys
from immunopet.study import store
from immunopet.cli import main
original, calls = store.write_scan, []
def write_scan(engine, scan_row, voi_rows, measurement_rows):
    calls.append(scan_row["scan_id"])
    if len(calls) < 3:
        return original(engine, scan_row, voi_rows, measurement_rows)
    with engine.begin() as conn:
        store._upsert_scan(conn, {**scan_row, "computed_at": store._now(), "status": "done"})
        os.kill(os.getpid(), signal.SIGKILL)
store.write_scan = write_scan
sys.exit(main(sys.argv[1:]))
"""


def test_sigkill_halfway_then_resume(copy_quick_study, measured):
    study = copy_quick_study("killed", patients=[0, 1, 2])
    chosen = _patients(study)
    n_scans = len(pd.read_csv(study / "scans.csv"))
    db = study / "results" / "immunopet.sqlite"
    process = subprocess.run(
        [sys.executable, "-c", KILL_IN_THIRD_WRITE, "-q", "run", str(study), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300, check=False,
    )
    assert process.returncode == -signal.SIGKILL, process.stderr.decode(errors="replace")[-2000:]

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        committed = conn.execute("SELECT scan_id FROM scans WHERE status = 'done'").fetchall()
        assert len(committed) == 2 < n_scans  # the third scan's transaction was rolled back
        assert conn.execute("SELECT status FROM runs").fetchall() == [("running",)]
        # every committed scan has all its VOIs and measurements: nothing half written
        per_scan = dict(conn.execute("SELECT scan_id, count(*) FROM measurements GROUP BY scan_id").fetchall())
    expected = pd.read_csv(study / "vois.csv").groupby("scan_id").size()
    assert per_scan == {scan_id: expected[scan_id] for (scan_id,) in committed}

    resumed = run_study(study, workers=1, progress=False)
    assert len(resumed.skipped) == len(committed) and len(resumed.done) == n_scans - len(committed)
    with sqlite3.connect(db) as conn:
        assert [s for (s,) in conn.execute("SELECT status FROM runs ORDER BY run_id")] == ["interrupted", "done"]

    # the same rows and values as the uninterrupted run of the whole study (process pool)
    got, want = load_results(study), measured[2]
    in_subset = want.measurements["patient_id"].isin(chosen)
    pd.testing.assert_frame_equal(got.measurements, want.measurements[in_subset].reset_index(drop=True))
    pd.testing.assert_frame_equal(got.patients, want.patients[want.patients["patient_id"].isin(chosen)])
    assert len(got.vois) == expected.sum() and (got.vois["status"] == "done").all()


def test_overrides_and_the_nuclide_check(copy_quick_study, measured):
    """scans.csv overrides reach the SUV (weight x 1.5 -> SUVbw x 1.5); a wrong nuclide fails the scans."""
    study = copy_quick_study("overrides", patients=[3])
    patient = _patients(study)[0]  # noqa: F841 - read by DataFrame.query as @patient
    scans = pd.read_csv(study / "scans.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(study / "truth" / "truth.csv").drop_duplicates("scan_id").set_index("scan_id")
    scans["weight_kg"] = [f"{1.5 * truth.loc[s, 'weight_kg']:.6f}" for s in scans["scan_id"]]
    scans.to_csv(study / "scans.csv", index=False)
    summary = run_study(study, workers=1, progress=False)
    assert summary.exit_code == 0
    got = load_results(study)
    want = measured[2].measurements.query("patient_id == @patient").reset_index(drop=True)
    np.testing.assert_allclose(got.measurements["suv_mean"], 1.5 * want["suv_mean"], rtol=1e-5)
    np.testing.assert_allclose(got.measurements["pct_id"], want["pct_id"], rtol=1e-6)  # %ID needs no weight
    audit = got.scans["suv_audit"].iloc[0]
    assert "weight_kg" in audit and "override" in audit.lower()
    text = (study / "study.yaml").read_text()
    (study / "study.yaml").write_text(text.replace("nuclide: Zr-89", "nuclide: F-18"))
    wrong = run_study(study, workers=1, progress=False)
    assert len(wrong.failed) == 4 and all("half-life is 78.41 h" in o.reason for o in wrong.failed)
