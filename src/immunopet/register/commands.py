"""``immunopet register``: register every scan of a study to its patient's reference scan."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from immunopet.exit_codes import EXIT_INPUT

HELP = """Register each scan's CT to the reference scan's CT of its patient (PET to PET when a scan has
no CT); transforms go to STUDY_DIR/registration/ and the results store, with their quality.

Only scans whose images or settings changed are registered again. Exit code 1 when a registration
failed or was judged poor (listed).

Example: immunopet register my-study --workers 2
"""


def register(app: typer.Typer) -> None:
    """Add ``register`` to the ``immunopet`` command line."""

    @app.command("register", help=HELP)
    def register_command(
        study_dir: Path = typer.Argument(..., help="Study folder holding study.yaml and the tables."),
        db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the results store."),
        workers: int = typer.Option(1, "--workers", min=1, help="Scans registered at once (processes)."),
        force: bool = typer.Option(False, "--force", help="Register every scan again."),
        deformable: bool | None = typer.Option(
            None, "--deformable/--rigid", help="Add the B-spline step (default: study.yaml registration.deformable)."),
        as_json: bool = typer.Option(False, "--json", help="Print the records as JSON on stdout."),
    ) -> None:
        from rich.table import Table

        from immunopet.logging_setup import console
        from immunopet.safe_text import safe_text
        from immunopet.study.problems import StudyValidationError, render_problems
        from immunopet.study.registration import register_study

        try:
            summary = register_study(study_dir, workers=workers, force=force, db_url=db, deformable=deformable)
        except StudyValidationError as invalid:
            render_problems(invalid)
            raise typer.Exit(EXIT_INPUT) from invalid
        table = Table(title="registration to the reference scan")
        for column in ("scan", "reference", "modality", "status", "NMI before/after", "body Dice after",
                       "landmark mm", "verdict"):
            table.add_column(column)
        for r in summary.records:
            if r["status"] == "reference":
                continue
            nmi = f"{r['nmi_before']:.3f} / {r['nmi_after']:.3f}" if r.get("nmi_after") is not None else ""
            dice = f"{r['body_dice_after']:.3f}" if r.get("body_dice_after") is not None else ""
            landmark = f"{r['landmark_mean_mm']:.2f}" if r.get("landmark_mean_mm") is not None else ""
            verdict = r.get("verdict") or ""
            if r.get("reasons"):
                verdict += f" ({r['reasons']})"
            if r.get("error"):
                verdict = r["error"]
            table.add_row(*(safe_text(str(v)) for v in (r["scan_id"], r["reference_scan_id"], r["modality"],
                                                        r["status"], nmi, dice, landmark, verdict)))
        console.print(table)
        console.print(f"{len(summary.computed)} registered, {len(summary.reused)} unchanged (reused), "
                      f"{len(summary.failed)} failed, {len(summary.poor)} poor")
        if as_json:
            typer.echo(json.dumps(summary.records, indent=1, default=str))
        if summary.exit_code:
            raise typer.Exit(summary.exit_code)
