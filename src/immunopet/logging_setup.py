"""Logging for the command line: Rich-formatted, one level switch (--quiet / --verbose)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def progress_bar(total: int, *, enabled: bool, label: str) -> Iterator[Callable[[str], None]]:
    """A Rich progress bar of ``total`` steps on the message console (or a do-nothing stand-in when
    disabled, --quiet, or nothing to do); yields ``advance(description)``."""
    if not (enabled and progress_enabled() and total):
        yield lambda description: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda description: bar.update(task, advance=1, description=description)
