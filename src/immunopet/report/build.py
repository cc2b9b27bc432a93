"""``build_report``: results + analyses -> figures (PNG, SVG) and one self-contained report.html."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from immunopet.report.figio import PNG_DPI, SavedFigure, nice_ceiling
from immunopet.report.imaging import PatientFigures, PatientJob, ScanImageJob, patient_figures
from immunopet.report.inputs import ReportInputs, dicom_identifiers, read_inputs

log = logging.getLogger(__name__)

#: ``progress(description, total)`` returns ``advance()``; the command line passes Rich bars.
Progress = Callable[[str, int], Callable[[], None]]


def no_progress(description: str, total: int) -> Callable[[], None]:
    """The silent :data:`Progress`."""
    return lambda: None


@dataclass
class ReportSummary:
    """What :func:`write_report` made and what went wrong on the way."""

    path: Path
    figures_dir: Path
    figures: list[SavedFigure] = field(default_factory=list)
    n_failed_scans: int = 0
    n_failed_vois: int = 0
    image_problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when the pipeline had failed scans or VOIs (the report was still written), else 0."""
        return 1 if (self.n_failed_scans or self.n_failed_vois) else 0


def mip_scale(measurements: pd.DataFrame) -> float:
    """The one SUV scale end of every MIP: the 75th percentile of lesion SUVmax over all scans.

    Lesions above it saturate (black); normal organs keep their grey levels. Without lesions the
    99th percentile of organ SUVmean is used.
    """
    lesions = measurements.loc[measurements["kind"] == "lesion", "suv_max"].dropna()
    if len(lesions):
        return nice_ceiling(float(np.percentile(lesions, 75)))
    organs = measurements.loc[measurements["kind"] == "organ", "suv_mean"].dropna()
    return nice_ceiling(float(np.percentile(organs, 99))) if len(organs) else 10.0


def patient_jobs(inputs: ReportInputs, figures_dir: Path, *, svg: bool) -> list[PatientJob]:
    """One image job per patient: every measured scan, fusion on the outcome day, the checkerboards
    of its registered scans."""
    from immunopet.study import load_study

    study = load_study(inputs.study_dir)
    outcome_day = float(getattr(inputs.config, "outcome_day", 7.0))
    from immunopet import __version__
    from immunopet.projection import projection_key
    from immunopet.study.kept_projections import projection_file
    from immunopet.study.registration_store import read_records

    registered = [r for r in read_records(study.root).values() if r.get("status") == "done"]
    patient_of = dict(zip(study.scans["scan_id"], study.scans["patient_id"].astype(str), strict=True))
    stored = inputs.scans.reindex(columns=["scan_id", "suv_factor", "status", "pet_hash"])
    table = study.scans.merge(stored, on="scan_id", how="left")
    m = inputs.measurements
    lesions = m[m["kind"] == "lesion"].groupby("scan_id")["voi_id"].apply(lambda s: tuple(sorted(set(s))))
    mip_vmax = mip_scale(m)
    jobs = []
    for patient_id, scans in table.groupby("patient_id", sort=True):
        items = tuple(
            ScanImageJob(
                scan_id=row.scan_id, day=float(row.day), pet=str(study.path(row.pet)),
                series_uid=_text(getattr(row, "pet_series_uid", None)), suv_factor=_number(row.suv_factor),
                ct=None if _text(getattr(row, "ct", None)) is None else str(study.path(row.ct)),
                fusion=bool(np.isclose(row.day, outcome_day)), lesions=lesions.get(row.scan_id, ()),
                kept=str(projection_file(study.root, row.scan_id)),
                kept_key=projection_key(str(row.pet_hash), _number(row.suv_factor), __version__),
            )
            for row in scans.itertuples()
            if row.status == "done"
        )
        jobs.append(PatientJob(
            study_dir=str(inputs.study_dir), patient_id=str(patient_id), scans=items, figures_dir=str(figures_dir),
            mip_vmax=mip_vmax, svg=svg, kinetics=_kinetics_of(inputs.analysis_tables, str(patient_id)),
            registrations=tuple(r for r in registered if patient_of.get(r.get("scan_id")) == str(patient_id)),
        ))
    return jobs


#: The analysis tables the kinetics figures of a patient are drawn from (report/fig_kinetics.py).
KINETICS_TABLES = ("time_activity", "blood_input", "patlak")


def _kinetics_of(tables: dict[str, pd.DataFrame], patient_id: str) -> dict[str, pd.DataFrame] | None:
    """The patient's rows of the kinetics tables, or ``None`` when the analyses have no kinetics."""
    activity = tables.get("time_activity")
    if activity is None or activity.empty or "patient_id" not in activity.columns:
        return None
    out = {}
    for name in KINETICS_TABLES:
        table = tables.get(name)
        if table is not None and "patient_id" in table.columns:
            out[name] = table[table["patient_id"].astype(str) == patient_id]
        elif table is not None:
            out[name] = table
    return out if not out["time_activity"].empty else None


def _text(value: object) -> str | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or value == "" else str(value)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


#: Modules the worker processes import once, in the fork server, before forking.
PRELOAD = ["immunopet.report.imaging", "immunopet.report.fig_images", "immunopet.dicom", "immunopet.study",
           "immunopet.voi", "SimpleITK"]


@contextmanager
def _executor(workers: int) -> Iterator[Callable]:
    """A runner yielding ``(item, result, error)`` as items finish: in this process for one worker,
    else in a process pool whose workers fork from a server that has imported :data:`PRELOAD`."""
    if workers <= 1:
        def run_here(fn, items):
            for item in items:
                try:
                    yield item, fn(item), None
                except Exception as error:  # a bug on one patient must not cost the whole report
                    log.debug("%s failed", item, exc_info=True)
                    yield item, None, error

        yield run_here
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("forkserver")  # a clean server process: fork-safe, imports once
    context.set_forkserver_preload(PRELOAD)
    from immunopet.watchdog import watch_parent

    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=watch_parent,
                             initargs=(os.getpid(),)) as pool:
        def run(fn, items):
            futures = {pool.submit(fn, item): item for item in items}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result(), None
                except Exception as error:  # includes a crashed worker (BrokenProcessPool)
                    yield futures[future], None, error

        yield run


def image_figures(jobs: list[PatientJob], *, workers: int, progress: Progress) -> dict[str, PatientFigures]:
    """Run the per-patient image jobs (process pool when ``workers > 1``), advancing ``progress``.

    A patient whose job fails gets no image figures and the error as its problem; the others go on.
    """
    from concurrent.futures.process import BrokenProcessPool

    advance = progress("patient image figures", len(jobs))
    done: dict[str, PatientFigures] = {}
    lost: list[PatientJob] = []
    with _executor(min(workers, len(jobs))) as run:
        for job, result, error in run(patient_figures, jobs):
            if isinstance(error, BrokenProcessPool):  # e.g. a script without `if __name__ == "__main__":`
                lost.append(job)
                continue
            done[job.patient_id] = _recorded(job, result, error)
            advance()
    if lost:
        log.warning("the process pool broke; making the figures of %d patient(s) in this process", len(lost))
        with _executor(1) as run:
            for job, result, error in run(patient_figures, lost):
                done[job.patient_id] = _recorded(job, result, error)
                advance()
    return done


def _recorded(job: PatientJob, result: PatientFigures | None, error: BaseException | None) -> PatientFigures:
    from immunopet.study.faults import is_disk_full

    if error is None and result is not None:
        return result
    if error is not None and is_disk_full(error):
        raise error  # the whole report stops with "disk full" (write_report)
    log.warning("%s: image figures failed: %s: %s", job.patient_id, error.__class__.__name__, error)
    return PatientFigures(job.patient_id, problems=[(job.patient_id, f"{error.__class__.__name__}: {error}")])


def write_report(study_dir: str | Path, *, out: str | Path | None = None, include_identifiers: bool = False,
                 workers: int | None = None, db_url: str | None = None, svg: bool = True,
                 progress: Progress = no_progress) -> ReportSummary:
    """Make every figure and write the report; see :func:`build_report`.

    Returns
    -------
    ReportSummary
        Paths, figures and the failure counts that set the command's exit code.
    """
    from immunopet.study.faults import plain_faults

    inputs = read_inputs(study_dir, db_url=db_url)
    if not include_identifiers:
        inputs = without_identifiers(inputs)
    path = Path(out) if out is not None else inputs.study_dir / "report" / "report.html"
    with plain_faults(str(path.parent), kept="files already there are whole (each is written, then renamed)"):
        return _write_report(inputs, path, include_identifiers=include_identifiers, workers=workers, svg=svg,
                             progress=progress)


def without_identifiers(inputs: ReportInputs) -> ReportInputs:
    """``inputs`` with the failure reasons' paths made relative to the study folder and dates and
    UIDs masked (stores written with ``run --include-identifiers``, or by older versions)."""
    import dataclasses

    from immunopet.study.paths import PathPolicy
    from immunopet.study.privacy import Redactor

    redactor = Redactor(PathPolicy.for_study(inputs.study_dir, getattr(inputs.config, "allow_outside_paths", False)))

    def clean(frame: pd.DataFrame) -> pd.DataFrame:
        if "error" not in frame.columns:
            return frame
        return frame.assign(error=[e if not isinstance(e, str) else redactor.text(e) for e in frame["error"]])

    return dataclasses.replace(inputs, scans=clean(inputs.scans), failed_vois=clean(inputs.failed_vois))


def _write_report(inputs: ReportInputs, path: Path, *, include_identifiers: bool, workers: int | None, svg: bool,
                  progress: Progress) -> ReportSummary:
    from immunopet.report.assemble import assemble_report
    from immunopet.atomic import atomic_text, remove_stale_partials

    figures_dir = path.parent / "figures"
    for folder in (path.parent, figures_dir):
        remove_stale_partials(folder)
    workers = workers or min(2, max(1, os.cpu_count() or 1))
    per_patient = image_figures(patient_jobs(inputs, figures_dir, svg=svg), workers=workers, progress=progress)
    identifiers = None
    if include_identifiers:
        from immunopet.study import load_study

        study = load_study(inputs.study_dir)
        firsts = study.scans.sort_values("day").drop_duplicates("patient_id")
        identifiers = dicom_identifiers({r.patient_id: study.path(r.pet) for r in firsts.itertuples()})
    html, figures = assemble_report(inputs, per_patient, figures_dir=figures_dir, identifiers=identifiers,
                                    svg=svg, progress=progress, dpi=PNG_DPI,
                                    generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_text(path, html)
    problems = [p for r in per_patient.values() for p in r.problems]
    return ReportSummary(
        path=path, figures_dir=figures_dir, figures=figures,
        n_failed_scans=int((inputs.scans["status"].astype(str) != "done").sum()),
        n_failed_vois=len(inputs.failed_vois), image_problems=problems,
    )


def build_report(study_dir: str | Path, *, out: str | Path | None = None, include_identifiers: bool = False,
                 workers: int | None = None, db_url: str | None = None) -> Path:
    """Write ``report/report.html`` (and ``report/figures/*.png|svg``) for a study that has been run.

    Parameters
    ----------
    study_dir
        The study folder (``immunopet run`` done; the analyses are run first if missing).
    out
        The HTML file to write; figures go to ``figures/`` beside it.
    include_identifiers
        Show patient names, birth dates and DICOM patient IDs (read from the PET headers).
    workers
        Processes for the per-patient image figures (default: up to 2). Scripts calling this with
        more than one worker need the ``if __name__ == "__main__":`` guard (``multiprocessing``).
    db_url
        Results store (default: the study's SQLite file).

    Returns
    -------
    Path
        The report file.
    """
    return write_report(study_dir, out=out, include_identifiers=include_identifiers, workers=workers,
                        db_url=db_url).path
