"""The simulator's per-patient worker processes: one task per patient, results in task order."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from immunopet.logging_setup import console, progress_enabled

R = TypeVar("R")


def worker_count(workers: int | None, tasks: int, *, quick: bool) -> int:
    """``workers`` as given, else 1 with ``quick`` (tests call quick studies from pytest-xdist
    workers) and one per CPU otherwise, never more than there are tasks."""
    if workers is None:
        workers = 1 if quick else min(tasks, os.cpu_count() or 1)
    return max(1, int(workers))


def run_tasks(function: Callable[..., R], tasks: Sequence[dict[str, Any]], workers: int, label: str) -> list[R]:
    """``function(**task)`` for every task (in a process pool when ``workers`` > 1), results in task order."""
    from rich.progress import Progress

    with Progress(console=console, disable=not progress_enabled(), transient=True) as progress:
        bar = progress.add_task(label, total=len(tasks))
        if workers == 1:
            results = []
            for task in tasks:
                results.append(function(**task))
                progress.advance(bar)
            return results
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(function, **task) for task in tasks]
            for future in futures:
                future.result()
                progress.advance(bar)
            return [f.result() for f in futures]
