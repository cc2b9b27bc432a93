"""``immunopet view``: registered by :mod:`immunopet.cli`."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command(epilog="Example: immunopet view my-study --no-browser")
    def view(
        study_dir: Path = typer.Argument(..., help="Study folder that has been run (`immunopet run`)."),
        port: int = typer.Option(0, "--port", min=0, max=65535, help="Port on 127.0.0.1 (0: a free one)."),
        no_browser: bool = typer.Option(False, "--no-browser", help="Only print the URL; do not open a browser."),
        db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the results store (default: the study's SQLite file)."),
    ) -> None:
        """Show the study in a browser: PET/CT fusion over the scan days, VOIs and their numbers.

        Listens on 127.0.0.1 only; the printed URL carries a random token (requests without it get
        403). Volumes are cached in STUDY/.viewer-cache (remove it freely).
        """
        from immunopet.view.server import serve

        serve(study_dir, port=port, db_url=db, open_browser=not no_browser)
