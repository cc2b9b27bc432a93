"""``immunopet export``: SEG + TID 1500 SR per scan, optionally sent to a PACS."""

from __future__ import annotations

from pathlib import Path

import typer

EXPORT_HELP = """Write a DICOM SEG (the scan's VOIs) and a DICOM SR (TID 1500 measurement report) for every measured scan.

Files go to STUDY/export/SCAN_ID/seg.dcm and sr.dcm (or --out). Only scans whose results are current are exported (run `immunopet run` first). The objects carry the pseudonymous patient id only, with UIDs and dates replaced, unless --include-identifiers is given: then they copy the PET's patient and study attributes and join its study in a PACS. --push sends them by DICOMweb STOW-RS, --host/--port by DIMSE C-STORE; every object's outcome is printed. Exit code 1 when a scan could not be exported or an object was not accepted.

\b
Examples:
  immunopet export demo-study
  immunopet export /data/ZR-ATEZO --include-identifiers --push http://pacs:8042/dicom-web
  immunopet export /data/ZR-ATEZO --include-identifiers --host pacs --port 104 --aet PACS
"""


def _check_destinations(push: str | None, host: str | None, titles: dict[str, str]) -> None:
    """Refuse a --push URL or an AE title the senders cannot use before anything is exported."""
    from immunopet.export.push import check_ae_title, check_dicomweb_url

    checks = [("--push", check_dicomweb_url, push)] if push else []  # an empty --push sends nothing, as before
    if host is not None:
        checks += [(option, check_ae_title, title) for option, title in titles.items()]
    for option, check, value in checks:
        try:
            check(value)
        except ValueError as bad:
            raise typer.BadParameter(str(bad), param_hint=option) from bad


def register(app: typer.Typer) -> None:
    """Add ``export`` to the ``immunopet`` command line."""

    @app.command("export", help=EXPORT_HELP)
    def export(
        study_dir: Path = typer.Argument(..., help="Study folder (measured with `immunopet run`)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default STUDY/export)."),
        push: str | None = typer.Option(None, "--push", help="DICOMweb base URL to STOW-RS the objects to."),
        aet: str = typer.Option("ANY-SCP", "--aet", help="Called AE title of the DIMSE store SCP."),
        host: str | None = typer.Option(None, "--host", help="Host of a DIMSE store SCP (C-STORE)."),
        port: int | None = typer.Option(None, "--port", min=1, max=65535, help="Port of the DIMSE store SCP."),
        calling_aet: str = typer.Option("IMMUNOPET", "--calling-aet", help="Our AE title for C-STORE."),
        include_identifiers: bool = typer.Option(
            False, "--include-identifiers", help="Copy patient names, birth date, UIDs and dates of the PET."
        ),
        db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the results store."),
        workers: int | None = typer.Option(None, "--workers", min=1, help="Local worker processes (default min(2, CPUs))."),
    ) -> None:
        from immunopet.exit_codes import EXIT_INPUT, EXIT_PARTIAL
        from immunopet.export.report import print_pushed, print_summary
        from immunopet.study.problems import StudyValidationError, render_problems

        if (host is None) != (port is None):
            raise typer.BadParameter("give both --host and --port for C-STORE")
        _check_destinations(push, host, {"--aet": aet, "--calling-aet": calling_aet})
        from immunopet.export import export_study

        try:
            summary = export_study(study_dir, out=out, db_url=db, include_identifiers=include_identifiers,
                                   workers=workers)
        except StudyValidationError as invalid:
            render_problems(invalid)
            raise typer.Exit(EXIT_INPUT) from invalid
        print_summary(summary)
        code = summary.exit_code
        files = summary.files()
        if files and push:
            from immunopet.export import push_dicomweb

            code = max(code, print_pushed(push_dicomweb(files, push), f"STOW-RS {push}"))
        if files and host is not None:
            from immunopet.export import push_dimse

            sent = push_dimse(files, host=host, port=port, called_aet=aet, calling_aet=calling_aet)
            code = max(code, print_pushed(sent, f"C-STORE {aet}@{host}:{port}"))
        if code:
            raise typer.Exit(EXIT_PARTIAL)
