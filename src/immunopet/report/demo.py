"""The demo job: simulate the default 89Zr-atezolizumab trial as a raw DICOM export, make a study of it
with ``init``, then run, analyse and report it (the path a real trial takes)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from immunopet.report.build import Progress, ReportSummary, no_progress, write_report

log = logging.getLogger(__name__)

DEFAULT_DAYS = (0.04, 2.0, 4.0, 7.0)


@dataclass
class DemoSummary:
    """What the demo made and how long each step took (seconds)."""

    study_dir: Path
    report: ReportSummary
    run_exit_code: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """1 when the pipeline had failed scans or VOIs (the report was still written), else 0."""
        return max(self.run_exit_code, self.report.exit_code)


def is_simulated_study(folder: Path) -> bool:
    """Whether ``folder`` holds a study written by the simulator (``study.yaml`` and ``truth/``)."""
    return (folder / "study.yaml").is_file() and (folder / "truth").is_dir()


def run_demo(out_dir: str | Path, *, quick: bool = False, patients: int = 22, seed: int = 0,
             workers: int | None = None, days: tuple[float, ...] = DEFAULT_DAYS, vois: str = "per-day",
             progress: Progress = no_progress, announce: Any = None) -> DemoSummary:
    """Simulate a raw export -> ``init`` -> ``run`` -> ``analyze`` -> ``report`` in ``out_dir``.

    The simulator writes ``out_dir/export/`` (DICOM only, with decoy series) and ``out_dir/truth/``;
    ``init`` makes ``out_dir`` the study folder; the reader's VOIs and the clinical table, which a site
    adds by hand, are taken from the truth (:func:`immunopet.simulate.pacs_truth.annotate_from_truth`).

    Parameters
    ----------
    out_dir
        Study folder to create (see :func:`immunopet.simulate.simulate_study`). A folder that already
        holds a simulated study is reused: ``run`` then only measures what changed.
    quick
        Small images and few patients (for tests and a first look).
    patients, seed, days
        Passed to the simulator.
    workers
        Processes for the measurement and the image figures.
    vois
        ``per-day``: the reader's VOIs on every scan (the truth's label maps); ``drawn-once``: per
        patient the segmenter-rule organs of one CT and the lesions as seeds on that scan, registered
        to the other days by ``run`` (:func:`immunopet.simulate.pacs_truth.annotate_from_truth`).
    progress
        Progress-bar factory for the report's long steps.
    announce
        ``announce(message)`` called before each step (the command line prints it).
    """
    from immunopet.analysis import analyze_study
    from immunopet.intake import init_study
    from immunopet.simulate.drawn_once import check_voi_layout
    from immunopet.simulate.pacs_export import EXPORT_FOLDER, simulate_pacs_export
    from immunopet.simulate.pacs_truth import annotate_from_truth
    from immunopet.study import run_study

    say = announce or log.info
    check_voi_layout(vois)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    study_dir = Path(out_dir)
    if is_simulated_study(study_dir):
        say(f"{study_dir} already holds a simulated study: reusing it (delete the folder to simulate again)")
    else:
        say(f"simulating {'a quick trial' if quick else f'{patients} patients'} as a raw DICOM export, scan days "
            f"{', '.join(f'{d:g}' for d in days)} (immunopet simulate --layout pacs)")
        study_dir = Path(simulate_pacs_export(out_dir, patients=patients, seed=seed, days=days, quick=quick,
                                              workers=workers))
        seconds["simulate"] = time.perf_counter() - start
        start = time.perf_counter()
        say("making the study folder from the export (immunopet init)")
        made = init_study(study_dir, study_dir / EXPORT_FOLDER, days=days, workers=workers)
        for warning in made.plan.warnings:
            say(f"init: {warning}")
        annotate_from_truth(study_dir, study_dir, vois_layout=vois)
        seconds["init"] = time.perf_counter() - start
    start = time.perf_counter()
    say("registering the scans and measuring every scan (immunopet run)" if vois == "drawn-once"
        else "measuring every scan (immunopet run)")
    summary = run_study(study_dir, workers=workers)
    seconds["run"] = time.perf_counter() - start
    start = time.perf_counter()
    say("running the analyses (immunopet analyze)")
    analyze_study(study_dir)
    seconds["analyze"] = time.perf_counter() - start
    start = time.perf_counter()
    say("writing the report (immunopet report)")
    report = write_report(study_dir, workers=workers, progress=progress)
    seconds["report"] = time.perf_counter() - start
    return DemoSummary(study_dir=study_dir, report=report, run_exit_code=int(summary.exit_code), seconds=seconds)
