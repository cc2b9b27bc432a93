"""``immunopet run``: measure every scan of a study that needs it and keep the results store current.

Flow: validate the study -> hash every scan's inputs -> measure the scans that changed, in parallel
(process pool or Dask), committing each scan's rows in one transaction as soon as it arrives (this
process is the only writer) -> close the run row -> write the tidy exports and the lesions of each day
matched to the reference scan's (:mod:`immunopet.study.lesion_tracking`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import sqlalchemy as sa

from immunopet.logging_setup import progress_bar
from immunopet.safe_text import safe_markup, safe_text
from immunopet.study import store
from immunopet.study.executors import default_workers, execute
from immunopet.study.faults import plain_faults
from immunopet.study.fingerprint import canonical_json, sha256_text
from immunopet.study.manifest import Study, load_study
from immunopet.study.planning import ScanPlan, clean_records, params_hash, plan_scans, run_parameters
from immunopet.study.privacy import Redactor
from immunopet.study.schema import METRICS
from immunopet.study.summary import Outcome, RunSummary
from immunopet.study.worker import ScanResult

log = logging.getLogger(__name__)


def _rows_for(study: Study, plan: ScanPlan, result: ScanResult, *, run_id: int, parameters: dict,
              redactor: Redactor | None = None) -> tuple:
    """Store rows (scan, VOIs, measurements) of one scan's result (``redactor``: see :mod:`.privacy`)."""
    name = study.config.name
    scan = study.scan(plan.scan_id)
    p_hash = params_hash(parameters)
    keep = (lambda text: text) if redactor is None else redactor.text
    scan_row = {
        "study": name, "scan_id": plan.scan_id, "patient_id": scan["patient_id"], "day": float(scan["day"]),
        "pet": scan["pet"], "status": result.status, "error": keep(result.error), "pet_hash": plan.pet_hash,
        "input_hash": plan.input_hash, "params_hash": p_hash, "parameters": parameters,
        "suv_audit": result.audit if redactor is None else redactor.audit(result.audit),
        "hours_pi": result.hours_pi, "suv_factor": result.suv_factor,
        "injected_bq": result.injected_bq, "run_id": run_id,
    }
    if result.status != "done":
        return scan_row, [], []
    measured = {row["voi_id"]: row for row in result.measurements}
    voi_rows, measurement_rows = [], []
    for voi in plan.task.vois:
        voi_id = voi["voi_id"]
        definition_hash, mask_hash = plan.voi_hashes[voi_id]
        error = keep(result.voi_errors.get(voi_id)) or (None if voi_id in measured else "not measured")
        voi_rows.append({
            "study": name, "scan_id": plan.scan_id, "voi_id": voi_id, "kind": voi["kind"], "site": voi["site"],
            "source": voi["source"], "definition": {k: v for k, v in voi.items()}, "definition_hash": definition_hash,
            "mask_hash": mask_hash, "status": "failed" if error else "done", "error": error, "run_id": run_id,
        })
        if error:
            continue
        metrics = measured[voi_id]
        measurement_rows.append({
            "study": name, "scan_id": plan.scan_id, "voi_id": voi_id, "suv_type": parameters["suv_type"],
            "suv_peak_definition": parameters["suv_peak"], "software_version": parameters["software_version"],
            "input_hash": sha256_text(
                canonical_json({"pet": plan.pet_hash, "voi": definition_hash, "mask": mask_hash})
            ),
            "params_hash": p_hash, "run_id": run_id, **{m: metrics.get(m) for m in METRICS},
        })
    return scan_row, voi_rows, measurement_rows


def _registered(study: Study, *, db_url: str | None, workers: int) -> Study:
    """With VOIs drawn once, register the scans first (reused when unchanged; ``workers`` processes, as
    many as measure the scans) and reload the study."""
    from immunopet.study.propagation import has_drawn_once

    if not has_drawn_once(study.vois):
        return study
    from immunopet.study.registration import register_study

    summary = register_study(study.root, db_url=db_url, workers=workers)
    for scan_id in summary.failed:
        log.warning("scan %s could not be registered: its VOIs drawn on other scans fail", scan_id)
    return load_study(study.root)


def run_study(
    study_dir: str | Path,
    *,
    db_url: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: bool = True,
    include_identifiers: bool = False,
) -> RunSummary:
    """Measure every scan and VOI of a study that is new or changed, into the results store.

    Parameters
    ----------
    study_dir
        The study folder (``docs/study-format.md``).
    db_url
        SQLAlchemy URL of the store; default ``sqlite:///STUDY/results/immunopet.sqlite``.
    workers
        Local worker processes (default ``min(2, CPUs)``; 1 = in this process).
    scheduler
        Address of a Dask distributed scheduler; when given, scans run on that cluster.
    force
        Measure every scan again, changed or not.
    progress
        Draw a progress bar (unless logging is quiet).
    include_identifiers
        Store the SUV audit as read (DICOM UIDs, calendar date-times, absolute paths). By default
        they are removed first (:mod:`immunopet.study.privacy`).

    Returns
    -------
    RunSummary
        Done, skipped and failed scans with reasons; ``exit_code`` 1 when something failed.

    Raises
    ------
    StudyValidationError
        When the study folder has problems (all listed); nothing is measured then.
    """
    from immunopet import __version__
    from immunopet.study import kept_projections
    from immunopet.study.exports import RESULTS_DIR, write_exports
    from immunopet.study.lesion_tracking import write_lesion_tracking

    started = time.perf_counter()
    study = load_study(study_dir)
    study = _registered(study, db_url=db_url, workers=workers or default_workers())
    url = db_url or store.default_url(study.root)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    kept = "every scan committed before it is kept in the store; run again to go on"
    redactor = None if include_identifiers else Redactor(study.policy)
    engine = store.open_store(url)
    try:
        name = study.config.name
        parameters = run_parameters(study, version=__version__)
        with plain_faults(shown, kept=kept):
            stored = store.stored_scans(engine, name)
            plans = plan_scans(study, stored, parameters=parameters, force=force)
            run_id = store.begin_run(engine, name, version=__version__, parameters=parameters, n_scans=len(plans))
            others = store.other_running_runs(engine, name, run_id)
        if others:
            log.warning("run(s) %s of this study are still marked running: both write whole scans, last wins",
                        ", ".join(map(str, others)))
        summary = RunSummary(run_id, db_url=shown)
        summary.skipped = [Outcome(p.scan_id, p.skip_reason or "") for p in plans if p.reason is None]
        todo = {p.scan_id: p for p in plans if p.reason is not None}
        unreadable = [ScanResult(p.scan_id, "failed", p.failure) for p in plans if p.failure is not None]
        status = "interrupted"
        try:
            n_workers = workers or default_workers()
            with plain_faults(shown, kept=kept), progress_bar(len(todo), enabled=progress, label="measuring scans") as advance:
                store.sync_patients(engine, name, clean_records(study.patients.drop(columns="_row")))
                dropped = sorted(set(stored) - set(study.scans["scan_id"]))
                store.drop_scans(engine, name, dropped)
                kept_projections.forget(study.root, dropped)
                results = execute([p.task for p in todo.values() if p.failure is None], workers=n_workers,
                                  scheduler=scheduler)
                for result in [*unreadable, *results]:
                    plan = todo[result.scan_id]
                    store.write_scan(engine, *_rows_for(study, plan, result, run_id=run_id, parameters=parameters,
                                                        redactor=redactor))
                    kept_projections.keep(study.root, plan.scan_id, result.projections if result.status == "done" else None,
                                          pet_hash=plan.pet_hash, suv_factor=result.suv_factor, version=__version__)
                    if result.status == "done":
                        summary.done.append(Outcome(plan.scan_id, plan.reason or ""))
                        summary.n_vois_measured += len(result.measurements)
                        summary.failed_vois += [Outcome(f"{plan.scan_id}/{v}", r) for v, r in result.voi_errors.items()]
                    else:
                        summary.failed.append(Outcome(plan.scan_id, result.error or "unknown error"))
                        log.error("scan %s failed: %s", plan.scan_id, safe_text(result.error or ""))
                    advance(f"{safe_markup(plan.scan_id)} {result.status} ({result.seconds:.1f} s)")
            status = "partial" if summary.exit_code else "done"
        except Exception:
            status = "failed"  # an error of the run itself (store unreachable ...); Ctrl-C stays "interrupted"
            raise
        finally:
            summary.status = status
            summary.seconds = time.perf_counter() - started
            _close_run(engine, run_id, status=status, counts=summary.counts())
        with plain_faults(str(study.root / "results"), kept=f"the store is complete; {kept}"):
            results = write_exports(study, engine)
            summary.lesions = write_lesion_tracking(study, results, study.root / RESULTS_DIR)
    finally:
        engine.dispose()
    return summary


def _close_run(engine: sa.engine.Engine, run_id: int, *, status: str, counts: dict[str, int]) -> None:
    """Close the run's row; if the store cannot take even that (disk full), say so and go on: the
    next run marks this one ``interrupted``."""
    try:
        store.finish_run(engine, run_id, status=status, counts=counts)
    except sa.exc.SQLAlchemyError as error:
        log.error("could not close run %s in the store (%s); the next run marks it interrupted",
                  run_id, getattr(error, "orig", None) or error)
