"""Reading a scan's CT in a second process while the viewer reads the PET in its own.

Reading the two DICOM series one after the other is most of what a first view of a scan costs; the
CT needs nothing from the PET until it is resampled onto the PET grid, so a requested scan reads its
CT in one helper process (started, with its imports, when the viewer starts) and resamples it here.
Background prefetching does not use it (one core only, see :class:`~immunopet.view.volumes.Prefetcher`).
The helper is started with ``spawn`` (the server has threads, so no ``fork``); if it dies, the CT
is read in this process and a new helper is started for the next scan.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from typing import Any

log = logging.getLogger(__name__)


def _start_helper(viewer_pid: int) -> None:
    """The helper's initializer: die with the viewer (as every pool worker does), import the reader."""
    from immunopet.watchdog import watch_parent

    watch_parent(viewer_pid)
    import immunopet.dicom.volume  # noqa: F401


def read_ct(path: str) -> Any:
    """The CT series at ``path`` as an :class:`~immunopet.image.Image` (HU); run in the helper process."""
    from immunopet.dicom import load_image_series

    return load_image_series(path)


class CTReader:
    """One helper process reading CT series on request (``submit``), stopped by ``close``."""

    def __init__(self) -> None:
        self._pool: Any = None
        self._lock = threading.Lock()
        self._closed = False

    def _started(self) -> Any:
        with self._lock:
            if self._closed:
                return None
            if self._pool is None:
                import multiprocessing
                import os
                from concurrent.futures import ProcessPoolExecutor

                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_helper, initargs=(os.getpid(),))
            return self._pool

    def warm_up(self) -> None:
        """Start the helper now, so the first scan does not wait for its start-up."""
        pool = self._started()
        if pool is not None:
            pool.submit(int)  # any task starts the process (and its initializer)

    def submit(self, path: str) -> Future | None:
        """The CT at ``path`` being read in the helper, or None when there is no helper (closed)."""
        from concurrent.futures.process import BrokenProcessPool

        pool = self._started()
        if pool is None:
            return None
        try:
            return pool.submit(read_ct, path)
        except (BrokenProcessPool, RuntimeError):  # the helper died or was shut down: start another next time
            self._discard(pool)
            return None

    def result(self, future: Future, path: str) -> Any:
        """The CT image of ``future``; read here instead if the helper failed for any other reason than the CT."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return future.result()
        except BrokenProcessPool:
            log.debug("the CT helper process stopped; reading %s in the viewer's process", path)
            self._discard(None)
            return read_ct(path)

    def _discard(self, pool: Any) -> None:
        with self._lock:
            if pool is None or self._pool is pool:
                old, self._pool = self._pool, None
            else:
                return
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the helper (a CT being read is finished first)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
