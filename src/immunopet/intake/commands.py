"""``immunopet init``: a study folder from a raw DICOM export (folder or DICOMweb server)."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Make a study folder from a raw multi-day DICOM export: scans.csv, patients.csv, vois.csv,
study.yaml, identifiers.csv (PHI) and init/series.csv (what was left out and why).

Re-running on a grown export adds the new scans and patients and never changes a cell already in
the tables (it lists what it would change; --force rewrites them).

Examples: immunopet init my-study --dicom /media/export --days 0.04,2,4,7
          immunopet init my-study --pacs http://pacs:8042/dicom-web --patient 123456
"""


def print_summary(summary) -> None:  # noqa: ANN001 - InitSummary, imported lazily
    """Patients x days, what was left out (counted by reason), warnings and would-be changes."""
    from collections import Counter

    from rich.table import Table

    from immunopet.logging_setup import console
    from immunopet.safe_text import safe_markup, safe_text

    plan = summary.plan
    grid = Table(title=f"{len(plan.entries)} patients, {len(plan.scans)} scans", title_justify="left")
    grid.add_column("patient")
    for day in summary.days:
        grid.add_column(f"day {day:g}", justify="center")
    have = {(s.patient_id, s.day): s for s in plan.scans}
    for entry in plan.entries:
        grid.add_row(safe_text(entry.patient_id),
                     *["x" + ("" if have[(entry.patient_id, d)].ct else " (no CT)") if (entry.patient_id, d) in have
                       else "-" for d in summary.days])
    console.print(grid)
    left = Counter(d.reason.split(":")[0] for d in plan.decisions if d.role == "left out")
    if left:
        table = Table(title="left out (details in init/series.csv)", title_justify="left")
        table.add_column("series", justify="right")
        table.add_column("reason")
        for reason, count in left.most_common():
            table.add_row(str(count), safe_text(reason))
        console.print(table)
    if summary.unreadable:
        console.print(f"[yellow]{len(summary.unreadable)} file(s) are not readable DICOM[/], e.g. "
                      f"{safe_markup(summary.unreadable[0][0])}: {safe_markup(summary.unreadable[0][1])}")
    for warning in plan.warnings:
        console.print(f"[yellow]check:[/] {safe_markup(warning)}")
    written = summary.written
    for change in written.changes[:20]:
        console.print(f"would change {safe_markup(change.file)} {safe_markup(change.key)} {safe_markup(change.column)}: "
                      f"{safe_markup(change.old)!r} -> {safe_markup(change.new)!r} (kept; --force rewrites)")
    if len(written.changes) > 20:
        console.print(f"... and {len(written.changes) - 20} more changes (kept; --force rewrites)")
    for line in written.kept_out:
        console.print(safe_markup(line))
    added = ", ".join(f"{n} new row(s) in {name}" for name, n in written.added.items())
    console.print(f"{safe_markup(summary.study_dir)}: {added}. identifiers.csv holds patient identifiers (PHI).")


def register(app: typer.Typer) -> None:
    """Add ``init`` to the ``immunopet`` command line."""

    @app.command("init", help=HELP)
    def init(
        study_dir: Path = typer.Argument(..., help="Study folder to create or update."),
        dicom: Path | None = typer.Option(None, "--dicom", help="Folder of the DICOM export (any layout)."),
        pacs: str | None = typer.Option(None, "--pacs", help="DICOMweb URL (e.g. http://host:8042/dicom-web)."),
        patient: list[str] = typer.Option([], "--patient", help="With --pacs: PatientID to retrieve (repeatable)."),
        days: str = typer.Option("0.04,2,4,7", "--days", help="Scan schedule, days after injection."),
        tolerance: float = typer.Option(0.5, "--tolerance", help="Half-width (days) of each scheduled day."),
        nuclide: str = typer.Option("Zr-89", "--nuclide", help="The study's radionuclide."),
        name: str | None = typer.Option(None, "--name", help="Study name (default: the folder's name)."),
        recon: str | None = typer.Option(None, "--recon", help="Preferred reconstruction: text in its description."),
        force: bool = typer.Option(False, "--force", help="Rewrite the tables (cells edited by hand are lost)."),
        workers: int | None = typer.Option(None, "--workers", min=1, help="Processes for the header scan."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
    ) -> None:
        import json

        from immunopet.errors import ImmunoPETError
        from immunopet.intake.init import init_study
        from immunopet.intake.schedule import parse_days
        from immunopet.nuclides import get_nuclide

        if (dicom is None) == (pacs is None):
            raise ImmunoPETError("give exactly one of --dicom FOLDER and --pacs URL", attribute="--dicom/--pacs",
                                 fix="e.g. immunopet init my-study --dicom /media/export")
        if patient and pacs is None:
            raise ImmunoPETError("--patient works with --pacs only", attribute="--patient",
                                 fix="drop --patient, or give --pacs URL")
        schedule = parse_days(days)
        get_nuclide(nuclide)  # an unknown nuclide is an error before anything is read
        if pacs is not None:
            from immunopet.intake.dicomweb import retrieve_from_dicomweb

            dicom = retrieve_from_dicomweb(pacs, study_dir / "dicom", patients=patient or None)
        summary = init_study(study_dir, dicom, days=schedule, nuclide=nuclide, name=name, recon=recon,
                             tolerance=tolerance, force=force, workers=workers, progress=True)
        print_summary(summary)
        if as_json:
            typer.echo(json.dumps({"patients": len(summary.plan.entries), "scans": len(summary.plan.scans),
                                   "left_out": sum(d.role == "left out" for d in summary.plan.decisions),
                                   "warnings": summary.plan.warnings, "unreadable": len(summary.unreadable),
                                   "changes": len(summary.written.changes)}))
        if summary.exit_code:
            raise typer.Exit(summary.exit_code)
