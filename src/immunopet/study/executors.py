"""Where scans are measured: in this process, a local process pool, or a Dask cluster.

Each yields :class:`~immunopet.study.worker.ScanResult` objects as scans finish, so the caller (the
only writer of the store) commits each one at once. Leaving the iteration early (Ctrl-C) cancels the
scans not yet started.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from immunopet.study.worker import ScanResult, ScanTask, quantify_scan

log = logging.getLogger(__name__)


def default_workers() -> int:
    """``min(2, number of CPUs)``."""
    return max(1, min(2, os.cpu_count() or 1))


def _init_worker(level: int, starter_pid: int) -> None:
    from immunopet.watchdog import watch_parent

    watch_parent(starter_pid)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("immunopet").setLevel(level)


def _lost(task: ScanTask, error: BaseException) -> ScanResult:
    return ScanResult(task.scan_id, "failed", f"worker lost ({error.__class__.__name__}: {error})")


def in_process(tasks: Sequence[ScanTask]) -> Iterator[ScanResult]:
    """One scan after the other in this process (``--workers 1``)."""
    for task in tasks:
        yield quantify_scan(task)


#: Modules a fork server imports once, so that each worker process starts with them loaded.
PRELOAD = ["immunopet.study.worker", "immunopet.watchdog", "immunopet.dicom", "immunopet.voi"]


def _context(preload: Sequence[str]):  # noqa: ANN202
    """A fork server with ``preload`` imported (no fork of this threaded process)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(preload))
    return context


def process_pool(tasks: Sequence[Any], *, workers: int, work: Callable[[Any], Any] = quantify_scan,
                 lost: Callable[[Any, BaseException], Any] = _lost,
                 preload: Sequence[str] = PRELOAD) -> Iterator[Any]:
    """``work(task)`` for every task in a local :class:`concurrent.futures.ProcessPoolExecutor` of
    fork-server processes that die with this one; results as they finish, a crashed worker's task as
    ``lost(task, error)``. Leaving the iteration early cancels the tasks not yet started."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    level = logging.getLogger("immunopet").getEffectiveLevel()
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_context(preload), initializer=_init_worker,
        initargs=(max(level, logging.WARNING), os.getpid()),
    )
    finished = False
    try:
        futures = {pool.submit(work, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # a crashed worker process (BrokenProcessPool, MemoryError ...)
                yield lost(futures[future], error)
        finished = True
    finally:
        pool.shutdown(wait=finished, cancel_futures=True)


def dask_cluster(tasks: Sequence[ScanTask], *, scheduler: str) -> Iterator[ScanResult]:
    """A Dask distributed cluster at ``scheduler`` (``tcp://host:8786``); tasks carry paths only."""
    from distributed import Client, as_completed

    from immunopet.errors import StudyError

    try:
        client = Client(scheduler, timeout="20s", set_as_default=False)
    except (OSError, TimeoutError) as error:
        raise StudyError(f"cannot reach the Dask scheduler ({error})", file=scheduler,
                         fix="check the --scheduler address (tcp://HOST:PORT) and that the scheduler runs") from error
    futures = {}
    try:
        for task in tasks:
            key = f"immunopet-scan-{task.scan_id}-{uuid.uuid4().hex}"
            futures[client.submit(quantify_scan, task, pure=False, key=key)] = task
        with client.as_current():
            finished = as_completed(list(futures))
        for future in finished:
            try:
                yield future.result()
            except Exception as error:  # a worker died, or the task could not run there
                yield _lost(futures[future], error)
    finally:
        client.cancel(list(futures))
        client.close()


def execute(tasks: Sequence[ScanTask], *, workers: int, scheduler: str | None) -> Iterator[ScanResult]:
    """Results of ``tasks`` in the order they finish (see module docstring)."""
    if scheduler:
        return dask_cluster(tasks, scheduler=scheduler)
    if workers <= 1 or len(tasks) <= 1:
        return in_process(tasks)
    return process_pool(tasks, workers=min(workers, len(tasks)))
