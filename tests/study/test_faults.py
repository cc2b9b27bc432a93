"""Faults of the machine during ``run``: a full disk, a kill -9. The store stays consistent, no
partial file is left, no worker outlives the run, and the next run carries on to a clean result."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pandas as pd
import sqlalchemy as sa
from support.disks import fill_disk, small_disk
from support.tables import copy_patients

from immunopet.study import load_results

METRICS = ["suv_max", "suv_mean", "suv_peak", "volume_ml", "n_voxels"]


def _cli(*args: str, timeout: float = 180, **popen) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "immunopet.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, **popen)


def _partials(folder):
    return sorted(p.name for p in folder.rglob("*.partial"))


def _same_numbers(study, measured) -> None:
    """The study's measurements equal those of the clean run of the whole quick study."""
    mine = load_results(study).measurements.set_index(["scan_id", "voi_id"])[METRICS]
    clean = measured[2].measurements.set_index(["scan_id", "voi_id"])[METRICS]
    pd.testing.assert_frame_equal(mine.sort_index(), clean.loc[mine.index].sort_index())


def test_disk_full_during_run_says_so_and_the_next_run_completes(quick_study, measured, tmp_path):
    with small_disk(tmp_path / "disk", size_kb=12 * 1024) as disk:
        study = copy_patients(quick_study, disk / "study", [0])
        filler = fill_disk(disk, leave_kb=150)
        full = _cli("run", str(study), "--workers", "1")
        assert full.returncode == 3, full.stderr
        said = " ".join(full.stderr.split())  # the console wraps long lines
        assert "disk full while writing" in said and "Traceback" not in said
        assert "every scan committed before it is kept" in said
        engine = sa.create_engine(f"sqlite:///{study / 'results' / 'immunopet.sqlite'}")
        with engine.connect() as conn:  # consistent: every stored scan has all its VOIs
            per_scan = conn.exec_driver_sql("SELECT s.scan_id, count(v.voi_id) FROM scans s LEFT JOIN vois v "
                                            "ON v.scan_id = s.scan_id GROUP BY s.scan_id").all()
        engine.dispose()
        expected = pd.read_csv(study / "vois.csv")["scan_id"].value_counts()
        assert all(n == expected[scan] for scan, n in per_scan)
        assert _partials(study) == []
        filler.unlink()
        again = _cli("run", str(study), "--workers", "1")
        assert again.returncode == 0, again.stderr
        _same_numbers(study, measured)


def _session_processes(session: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == session:
                    found.append(int(entry))
            except (ProcessLookupError, PermissionError):
                continue
    return found


def test_kill_9_leaves_no_process_and_no_partial_file(quick_study, measured, tmp_path):
    study = copy_patients(quick_study, tmp_path / "study", [0])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.Popen([sys.executable, "-m", "immunopet.cli", "--quiet", "run", str(study), "--workers", "2"],
                           env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(_session_processes(run.pid)) < 4 and time.monotonic() < deadline:  # run, fork server, workers
            time.sleep(0.2)
        assert len(_session_processes(run.pid)) >= 4, "the worker pool never started"
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        killed_at = time.monotonic()
        while _session_processes(run.pid) and time.monotonic() - killed_at < 10:
            time.sleep(0.2)
        assert _session_processes(run.pid) == [], "processes of the killed run still alive after 10 s"
    finally:
        for pid in _session_processes(run.pid):
            os.kill(pid, signal.SIGKILL)
    # what a kill during the export leaves behind, named by the dead process
    (study / "results").mkdir(exist_ok=True)
    (study / "results" / f".measurements.csv.{run.pid}.partial").write_text("patient_id,scan_id\nP01,")
    again = _cli("run", str(study), "--workers", "1")
    assert again.returncode == 0, again.stderr
    assert _partials(study) == []
    engine = sa.create_engine(f"sqlite:///{study / 'results' / 'immunopet.sqlite'}")
    with engine.connect() as conn:
        statuses = [s for (s,) in conn.exec_driver_sql("SELECT status FROM runs ORDER BY run_id")]
    engine.dispose()
    assert statuses == ["interrupted", "done"]
    _same_numbers(study, measured)
