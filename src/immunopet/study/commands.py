"""``immunopet run`` (and ``immunopet validate``): the study commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from immunopet.exit_codes import EXIT_INPUT


def _leave(code: int) -> None:
    if code:
        raise typer.Exit(code)


RUN_HELP = """Measure every scan and VOI of a study into its results store; only what changed since the
last run is measured again.

Writes STUDY_DIR/results/immunopet.sqlite (or the --db store), measurements.csv/.parquet,
patients.csv and lesion_tracking.csv (the lesions of each day matched to the reference scan's, for
registered patients). Exit code 1 when a scan or VOI failed (they are listed and recorded).

Example: immunopet run my-study --workers 2
"""


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``validate`` to the ``immunopet`` command line."""

    @app.command("run", help=RUN_HELP)
    def run(
        study_dir: Path = typer.Argument(..., help="Study folder holding study.yaml and the tables."),
        db: str | None = typer.Option(
            None, "--db", help="SQLAlchemy URL of the results store, e.g. postgresql+psycopg://user@host/immunopet."
        ),
        workers: int | None = typer.Option(
            None, "--workers", min=1, help="Local worker processes (default min(2, CPUs))."
        ),
        scheduler: str | None = typer.Option(
            None, "--scheduler", help="Dask scheduler address (tcp://HOST:8786): run scans on that cluster."
        ),
        force: bool = typer.Option(False, "--force", help="Measure every scan again, changed or not."),
        as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON on stdout."),
        include_identifiers: bool = typer.Option(
            False, "--include-identifiers",
            help="Keep DICOM UIDs, calendar date-times and absolute paths in the store's SUV audit "
                 "(default: removed; hours after injection and paths relative to the study folder instead).",
        ),
    ) -> None:
        from immunopet.study import run_study
        from immunopet.study.problems import StudyValidationError, render_problems
        from immunopet.study.summary import print_summary

        try:
            summary = run_study(study_dir, db_url=db, workers=workers, scheduler=scheduler, force=force,
                                include_identifiers=include_identifiers)
        except StudyValidationError as invalid:
            render_problems(invalid)
            raise typer.Exit(EXIT_INPUT) from invalid
        print_summary(summary)
        if as_json:
            typer.echo(json.dumps(summary.as_dict(), indent=2))
        _leave(summary.exit_code)

    @app.command(
        "validate",
        help="Check a study folder (study.yaml and tables) and list every problem with file, row and column.\n\n"
        "Example: immunopet validate my-study",
    )
    def validate(study_dir: Path = typer.Argument(..., help="Study folder holding study.yaml and the tables.")) -> None:
        from immunopet.logging_setup import console
        from immunopet.study import load_study
        from immunopet.study.problems import StudyValidationError, render_problems

        try:
            study = load_study(study_dir)
        except StudyValidationError as invalid:
            render_problems(invalid)
            raise typer.Exit(EXIT_INPUT) from invalid
        from immunopet.safe_text import safe_markup

        console.print(
            f"{safe_markup(study.config.name)}: {len(study.patients)} patients, {len(study.scans)} scans, "
            f"{len(study.vois)} VOIs, {len(study.lesions)} lesions: no problems found"
        )
