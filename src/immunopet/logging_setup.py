"""Logging for the command line: Rich-formatted, one level switch (--quiet / --verbose)."""

from __future__ import annotations

import logging

from rich.console import Console

#: Console for messages and progress bars (stderr, so stdout stays clean for --json/--csv output).
console = Console(stderr=True)


def configure(*, verbose: bool = False, quiet: bool = False) -> None:
    from rich.logging import RichHandler  # imports rich's traceback machinery: not needed for --help

    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    logging.basicConfig(
        level=level,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=verbose, show_time=False, markup=False)],
        force=True,
    )
    logging.getLogger("immunopet").setLevel(level)
    for noisy in ("distributed", "matplotlib", "PIL", "numexpr", "highdicom", "pydicom"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def progress_enabled() -> bool:
    """Whether long steps should draw progress bars (not when --quiet)."""
    return logging.getLogger("immunopet").getEffectiveLevel() <= logging.INFO
