"""The results store on SQLite and on a real PostgreSQL server: contents, atomic scan writes,
concurrent writers and interrupted runs."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest
import sqlalchemy as sa

from immunopet import __version__
from immunopet.study import load_results, run_study, schema, store


def _count(engine, table, **where):
    query = sa.select(sa.func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    with engine.connect() as conn:
        return conn.scalar(query)


def test_run_fills_every_table(analytic_study, store_url, analytic_values):
    summary = run_study(analytic_study, db_url=store_url, workers=1, progress=False)
    assert summary.exit_code == 0 and len(summary.done) == 6 and summary.n_vois_measured == 18
    engine = store.open_store(store_url, create=False)
    try:
        assert _count(engine, schema.patients) == 3
        assert _count(engine, schema.scans, status="done") == 6
        assert _count(engine, schema.vois, status="done") == 18
        assert _count(engine, schema.measurements) == 18
        with engine.connect() as conn:
            run = conn.execute(sa.select(schema.runs)).mappings().one()
            scan = conn.execute(sa.select(schema.scans).where(schema.scans.c.scan_id == "P02_D7")).mappings().one()
            rows = conn.execute(sa.select(schema.measurements)).mappings().all()
    finally:
        engine.dispose()
    assert run["status"] == "done" and run["software_version"] == __version__
    assert (run["n_scans"], run["n_done"], run["n_skipped"], run["n_failed"], run["n_vois_measured"]) == (6, 6, 0, 0, 18)
    assert run["parameters"] == {"suv_type": "bw", "suv_peak": "global", "nuclide": "Zr-89", "software_version": __version__}
    assert run["ended_at"] >= run["started_at"]
    assert scan["patient_id"] == "P02" and scan["day"] == 7.0 and len(scan["input_hash"]) == 64
    assert all(r["suv_type"] == "bw" and r["software_version"] == __version__ and len(r["input_hash"]) == 64 for r in rows)
    # each measurement's input hash differs by VOI definition
    assert len({(r["scan_id"], r["input_hash"]) for r in rows}) == 18
    results = load_results(analytic_study, db_url=store_url)
    p2 = results.measurements[results.measurements["scan_id"] == "P02_D7"].set_index("voi_id")
    for voi, suv in (("liver", analytic_values["liver"]), ("L1", analytic_values["L1"]), ("blood_pool", analytic_values["blood_pool"])):
        assert p2.loc[voi, "suv_mean"] == pytest.approx(2 * suv, rel=1e-6)
    assert p2.loc["L1", "tbr_max"] == pytest.approx(analytic_values["L1"] / analytic_values["blood_pool"])


def _scan_rows(scan_id: str, run_id: int, value: float):
    scan = {
        "study": "S", "scan_id": scan_id, "patient_id": "P1", "day": 7.0, "pet": "pet", "status": "done", "error": None,
        "pet_hash": "p" * 64, "input_hash": "i" * 64, "params_hash": "h" * 64, "parameters": {}, "suv_audit": {"x": 1},
        "hours_pi": 168.0, "suv_factor": 1.0, "injected_bq": 3.7e7, "run_id": run_id,
    }
    voi = {"study": "S", "scan_id": scan_id, "voi_id": "liver", "kind": "organ", "site": "liver", "source": "mask",
           "definition": {}, "definition_hash": "d" * 64, "mask_hash": None, "status": "done", "error": None, "run_id": run_id}
    measurement = {"study": "S", "scan_id": scan_id, "voi_id": "liver", "suv_type": "bw", "suv_peak_definition": "global",
                   "software_version": "t", "input_hash": "m" * 64, "params_hash": "h" * 64, "run_id": run_id,
                   "suv_mean": value}
    return scan, [voi], [measurement]


def test_a_failed_scan_write_leaves_the_previous_rows(store_url):
    engine = store.open_store(store_url)
    try:
        store.write_scan(engine, *_scan_rows("A", 1, 2.5))
        scan, vois, measurements = _scan_rows("A", 2, 9.9)
        measurements[0]["suv_type"] = None  # NOT NULL: the insert fails after the delete
        with pytest.raises(sa.exc.IntegrityError):
            store.write_scan(engine, scan, vois, measurements)
        with engine.connect() as conn:
            kept = conn.execute(sa.select(schema.measurements.c.suv_mean, schema.measurements.c.run_id)).all()
            scan_run = conn.scalar(sa.select(schema.scans.c.run_id))
        assert kept == [(2.5, 1)] and scan_run == 1
    finally:
        engine.dispose()


def test_concurrent_writers_do_not_corrupt_the_store(store_url):
    """Two writers replacing the same and different scans at once: every write lands whole."""
    errors = []

    def writer(tag: int) -> None:
        engine = store.open_store(store_url)
        try:
            for n in range(15):
                store.write_scan(engine, *_scan_rows(f"shared{n % 3}", tag, float(tag)))
                store.write_scan(engine, *_scan_rows(f"own{tag}_{n}", tag, float(tag)))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            engine.dispose()

    store.open_store(store_url).dispose()  # create the tables once
    threads = [threading.Thread(target=writer, args=(tag,)) for tag in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    engine = store.open_store(store_url, create=False)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.select(schema.measurements.c.scan_id, schema.measurements.c.run_id,
                                          schema.measurements.c.suv_mean)).all()
            scans = dict(conn.execute(sa.select(schema.scans.c.scan_id, schema.scans.c.run_id)).all())
    finally:
        engine.dispose()
    assert len(rows) == 3 + 30 and len(scans) == 33
    # each scan's measurement comes from the same write as its scan row
    assert all(scans[scan_id] == run_id and value == float(run_id) for scan_id, run_id, value in rows)


def test_a_dead_run_is_marked_interrupted(store_url):
    engine = store.open_store(store_url)
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        first = store.begin_run(engine, "S", version="t", parameters={}, n_scans=1)
        with engine.begin() as conn:
            conn.execute(schema.runs.update().values(pid=int(dead.stdout)))
        second = store.begin_run(engine, "S", version="t", parameters={}, n_scans=1)
        with engine.connect() as conn:
            status = dict(conn.execute(sa.select(schema.runs.c.run_id, schema.runs.c.status)).all())
        assert status == {first: "interrupted", second: "running"}
        assert store.other_running_runs(engine, "S", second) == []
    finally:
        engine.dispose()


def test_two_studies_share_one_database(tmp_path, store_url, analytic_study):
    other = tmp_path / "other"
    import shutil

    shutil.copytree(analytic_study, other)
    (other / "study.yaml").write_text((other / "study.yaml").read_text().replace("ANALYTIC", "SECOND"))
    run_study(analytic_study, db_url=store_url, workers=1, progress=False)
    summary = run_study(other, db_url=store_url, workers=1, progress=False)
    assert len(summary.done) == 6  # a different study: nothing is shared or skipped
    first, second = load_results(analytic_study, db_url=store_url), load_results(other, db_url=store_url)
    assert len(first.measurements) == len(second.measurements) == 18
    np.testing.assert_allclose(first.measurements["suv_mean"], second.measurements["suv_mean"])


def test_two_runs_at_once_on_one_sqlite_store(analytic_study):
    """Two `immunopet run` processes on the same study and store: both finish, nothing is lost or doubled."""
    command = [sys.executable, "-m", "immunopet.cli", "-q", "run", str(analytic_study), "--workers", "1"]
    processes = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    db = analytic_study / "results" / "immunopet.sqlite"
    engine = store.open_store(f"sqlite:///{db}", create=False)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            runs = conn.execute(sa.select(schema.runs.c.status, schema.runs.c.n_done, schema.runs.c.n_skipped)).all()
        assert _count(engine, schema.measurements) == 18 and _count(engine, schema.vois) == 18
        assert _count(engine, schema.scans, status="done") == 6
    finally:
        engine.dispose()
    assert [r.status for r in runs] == ["done", "done"]
    # every scan was measured by at least one of the runs; a run skips what the other already stored
    assert all(n_done + n_skipped == 6 for _, n_done, n_skipped in runs) and sum(r.n_done for r in runs) >= 6
    assert len(load_results(analytic_study).measurements) == 18
