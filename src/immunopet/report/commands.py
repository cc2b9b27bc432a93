"""``immunopet report`` and ``immunopet demo``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from immunopet.logging_setup import console, progress_enabled

REPORT_HELP = """Write the study report: report/report.html (one self-contained file) and figures/*.png|svg.

Reads the results of `immunopet run` and the analyses (runs `immunopet analyze` first if they are missing). Patient names and birth dates are left out unless --include-identifiers is given. Exit code 1 when the pipeline had failed scans or VOIs (the report is still written and lists them).

\b
Examples:
  immunopet report demo-study
  immunopet report /data/ZR-ATEZO --out /tmp/zr-atezo.html
  immunopet report /data/ZR-ATEZO --include-identifiers --out internal/report.html
"""

DEMO_HELP = """Simulate the default 89Zr-atezolizumab trial and run the whole pipeline on it.

Simulates 22 patients (scan days 0.04, 2, 4 and 7), measures every scan (`immunopet run`), runs the analyses (`immunopet analyze`) and writes the report (`immunopet report`), printing its path. Exit code 1 when scans or VOIs failed (the report is still written).

\b
Examples:
  immunopet demo demo-study
  immunopet demo /tmp/quick-look --quick
  immunopet demo /tmp/trial --patients 40 --seed 3 --workers 4
  immunopet demo /tmp/drawn-once --vois drawn-once
"""


@contextmanager
def rich_progress() -> Iterator[Callable[[str, int], Callable[[], None]]]:
    """A progress-bar factory on the message console (silent with --quiet)."""
    if not progress_enabled():
        yield lambda description, total: (lambda: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console) as bar:
        def factory(description: str, total: int) -> Callable[[], None]:
            task = bar.add_task(description, total=total)
            return lambda: bar.update(task, advance=1)

        yield factory


def _announce(message: str) -> None:
    if progress_enabled():  # step messages are progress: not with --quiet
        console.print(f"[bold cyan]demo[/] {message}", highlight=False)


def _print_report(summary) -> None:  # noqa: ANN001 - ReportSummary, imported lazily
    for scan_id, reason in summary.image_problems:
        console.print(f"[yellow]image figures[/] {scan_id}: {reason}", highlight=False)
    if summary.n_failed_scans or summary.n_failed_vois:
        console.print(f"[yellow]{summary.n_failed_scans} failed scan(s) and {summary.n_failed_vois} failed VOI(s)"
                      " are listed in the report's QA section[/]")
    console.print(f"report written: [bold]{summary.path}[/] (figures in {summary.figures_dir})", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``demo`` to the command line."""

    @app.command("report", help=REPORT_HELP)
    def report(
        study_dir: Path = typer.Argument(..., exists=True, file_okay=False, help="The study folder."),
        out: Path | None = typer.Option(None, "--out", "-o", help="HTML file to write [default: STUDY_DIR/report/report.html]."),
        include_identifiers: bool = typer.Option(False, "--include-identifiers",
                                                 help="Show patient names, birth dates and DICOM IDs (from the PET headers)."),
        workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes for the per-patient figures."),
        db_url: str | None = typer.Option(None, "--db-url", help="Results store URL [default: the study's SQLite file]."),
    ) -> None:
        from immunopet.report.build import write_report

        with rich_progress() as progress:
            summary = write_report(study_dir, out=out, include_identifiers=include_identifiers, workers=workers,
                                   db_url=db_url, progress=progress)
        _print_report(summary)
        raise typer.Exit(summary.exit_code)

    @app.command("demo", help=DEMO_HELP)
    def demo(
        out_dir: Path = typer.Argument(..., help="Folder for the simulated study (created)."),
        quick: bool = typer.Option(False, "--quick", help="Few patients, small images: a fast first look."),
        patients: int = typer.Option(22, "--patients", "-n", min=2, help="Number of simulated patients."),
        seed: int = typer.Option(0, "--seed", help="Random seed of the simulation."),
        workers: int | None = typer.Option(None, "--workers", "-w", min=1, help="Processes for measuring and figures."),
        view: bool = typer.Option(False, "--view", help="Then open the study in the browser viewer (`immunopet view`)."),
        vois: str = typer.Option("per-day", "--vois", help="per-day: the reader's VOIs on every scan; drawn-once: "
                                 "segmenter-rule organs of one CT and lesion seeds, registered to the other days."),
    ) -> None:
        from immunopet.report.demo import run_demo

        with rich_progress() as progress:
            summary = run_demo(out_dir, quick=quick, patients=patients, seed=seed, workers=workers, vois=vois,
                               progress=progress, announce=_announce)
        _print_report(summary.report)
        timing = ", ".join(f"{k} {v:.0f} s" for k, v in summary.seconds.items())
        console.print(f"demo done in {sum(summary.seconds.values()):.0f} s ({timing}); open "
                      f"file://{summary.report.path.resolve()}", highlight=False)
        if view:
            from immunopet.view.server import serve  # the viewer sits on top of the report; the command joins them

            serve(out_dir)
        raise typer.Exit(summary.exit_code)
