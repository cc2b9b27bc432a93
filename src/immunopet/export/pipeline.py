"""``immunopet export``: every measured scan of a study as a DICOM SEG + TID 1500 SR pair.

Only scans whose results are current are exported: the scan's inputs and the parameters must hash
to what the store holds (the check ``immunopet run`` uses to skip a scan); a scan that changed
since, or failed, is reported and left out (exit code 1), so the objects never disagree with the
store. Scans run on a local process pool (``workers``, default ``min(2, CPUs)``; 1 = in process).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from immunopet.export.job import ExportResult, ExportTask, export_scan

log = logging.getLogger(__name__)

DEFAULT_OUT = "export"


@dataclass
class ExportSummary:
    """Exported scans (their files and UIDs) and the scans left out, each with its reason."""

    out_dir: Path
    done: list[ExportResult] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def files(self) -> list[Path]:
        """Every written object, SEG before SR for each scan (the order they are sent in)."""
        return [Path(r.files[kind]) for r in self.done for kind in ("seg", "sr")]


def _finite(value) -> float | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def plan_exports(study, results, stored: dict, *, out_dir: Path, include_identifiers: bool, version: str,
                 ) -> tuple[list[ExportTask], list[tuple[str, str]]]:
    """One :class:`ExportTask` per scan with current results; the others with the reason they are left out."""
    from immunopet.export.identity import derived_uid
    from immunopet.study.planning import plan_scans, run_parameters

    parameters = run_parameters(study, version=version)
    content = {k: str(v) for k, v in parameters.items()}
    content.update(study=study.config.name, tracer=str(study.config.tracer), peak_sphere_ml="1.0")
    plans = {p.scan_id: p for p in plan_scans(study, stored, parameters=parameters)}
    scans = results.scans.set_index("scan_id")
    measured = results.measurements
    tasks, left_out = [], []
    for scan_id, plan in plans.items():
        row = scans.loc[scan_id] if scan_id in scans.index else None
        if row is None or row["status"] != "done":
            why = "not measured yet" if row is None else f"scan failed in the last run ({row['error']})"
            left_out.append((scan_id, f"{why}: run `immunopet run` first"))
            continue
        if plan.reason is not None:
            left_out.append((scan_id, f"results out of date ({plan.reason}): run `immunopet run` first"))
            continue
        values = {r["voi_id"]: r for r in measured[measured["scan_id"] == scan_id].to_dict("records")}
        rows = [r for r in plan.task.vois if r["voi_id"] in values]
        if not rows:
            left_out.append((scan_id, "no VOI of this scan was measured"))
            continue
        patient_id = str(row["patient_id"])
        days = sorted(set(results.scans.loc[results.scans["patient_id"] == patient_id, "day"].astype(float)))
        key = (study.config.name, scan_id, stored[scan_id]["input_hash"], stored[scan_id]["params_hash"],
               include_identifiers, version)
        tasks.append(ExportTask(
            scan=plan.task, patient_id=patient_id, study=study.config.name, measured=rows, values=values,
            day=float(row["day"]), hours_pi=_finite(row["hours_pi"]), order=days.index(float(row["day"])) + 1,
            include_identifiers=include_identifiers, out_dir=str(out_dir),
            uids={kind: derived_uid(kind, *key) for kind in ("seg_series", "seg", "sr_series", "sr")},
            version=version, parameters=content,
        ))
    return tasks, left_out


def _lost(task: ExportTask, error: BaseException) -> ExportResult:
    return ExportResult(task.scan.scan_id, "failed", f"worker lost ({error.__class__.__name__}: {error})")


#: Modules the fork server of the export pool imports once.
PRELOAD = ["immunopet.export.job", "highdicom", "immunopet.study.worker", "immunopet.watchdog"]


def _execute(tasks: Sequence[ExportTask], *, workers: int) -> Iterator[ExportResult]:
    if workers <= 1 or len(tasks) <= 1:
        for task in tasks:
            yield export_scan(task)
        return
    from immunopet.study.executors import process_pool

    # the run's pool: fork-server workers that die with this process, a lost worker one failed scan
    yield from process_pool(tasks, workers=workers, work=export_scan, lost=_lost, preload=PRELOAD)


def export_study(
    study_dir: str | Path, *, out: str | Path | None = None, db_url: str | None = None,
    include_identifiers: bool = False, workers: int | None = None, progress: bool = True,
) -> ExportSummary:
    """Write a SEG and a TID 1500 SR for every scan of a study whose results are current.

    Parameters
    ----------
    study_dir
        The study folder (run with ``immunopet run``).
    out
        Output folder (default ``STUDY/export``); each scan's objects go to ``OUT/SCAN_ID/seg.dcm``
        and ``sr.dcm``.
    db_url
        SQLAlchemy URL of the results store (default: the study's SQLite file).
    include_identifiers
        Copy the source PET's patient names, birth date, UIDs and dates; otherwise the objects carry
        the pseudonymous ids only (``docs/export.md``, "Privacy").
    workers
        Local worker processes (default ``min(2, CPUs)``).
    """
    import time

    from immunopet import __version__
    from immunopet.study import load_results, load_study, store
    from immunopet.study.executors import default_workers
    from immunopet.logging_setup import progress_bar

    started = time.perf_counter()
    study = load_study(study_dir)
    results = load_results(study.root, db_url=db_url)
    engine = store.open_store(db_url or store.default_url(study.root), create=False)
    try:
        stored = store.stored_scans(engine, study.config.name)
    finally:
        engine.dispose()
    out_dir = Path(out).resolve() if out is not None else study.root / DEFAULT_OUT
    tasks, left_out = plan_exports(study, results, stored, out_dir=out_dir,
                                   include_identifiers=include_identifiers, version=__version__)
    summary = ExportSummary(out_dir, failed=list(left_out))
    for scan_id, reason in left_out:
        log.warning("scan %s not exported: %s", scan_id, reason)
    with progress_bar(len(tasks), enabled=progress, label="exporting scans") as advance:
        for result in _execute(tasks, workers=workers or default_workers()):
            if result.status == "done":
                summary.done.append(result)
            else:
                summary.failed.append((result.scan_id, result.error or "unknown error"))
                log.error("scan %s not exported: %s", result.scan_id, result.error)
            advance(f"{result.scan_id} {result.status} ({result.seconds:.1f} s)")
    summary.done.sort(key=lambda r: r.scan_id)
    summary.seconds = time.perf_counter() - started
    return summary
