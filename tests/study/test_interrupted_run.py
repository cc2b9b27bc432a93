"""A run killed with SIGKILL halfway loses nothing committed, leaves no half-written scan, and a
resumed run ends with exactly the rows and values of an uninterrupted run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from immunopet.study import load_results, run_study

pytestmark = pytest.mark.slow
PATIENTS = ["P01", "P02", "P03"]


def _done_scans(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM scans WHERE status = 'done'").fetchone()[0]
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_sigkill_halfway_then_resume(copy_quick_study, measured):
    study = copy_quick_study("killed", patients=PATIENTS)
    n_scans = len(pd.read_csv(study / "scans.csv"))
    db = study / "results" / "immunopet.sqlite"
    process = subprocess.Popen(
        [sys.executable, "-m", "immunopet.cli", "-q", "run", str(study), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 180
    while _done_scans(db) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        committed = conn.execute("SELECT scan_id FROM scans WHERE status = 'done'").fetchall()
        assert 2 <= len(committed) < n_scans
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
    in_subset = want.measurements["patient_id"].isin(PATIENTS)
    pd.testing.assert_frame_equal(got.measurements, want.measurements[in_subset].reset_index(drop=True))
    pd.testing.assert_frame_equal(got.patients, want.patients[want.patients["patient_id"].isin(PATIENTS)])
    assert len(got.vois) == expected.sum() and (got.vois["status"] == "done").all()
