"""Worker processes die with the process that started them.

A ``kill -9`` of ``immunopet run`` (or ``report``) gives its pool no chance to stop its workers:
they hang on in the fork server's process group, holding the resource tracker open. Every pool
worker therefore starts :func:`watch_parent` in its initializer: on Linux the kernel kills it when
its parent (the fork server) exits (``PR_SET_PDEATHSIG``), and a daemon thread checks twice a
second that the starting process still runs, for every other case.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

#: Seconds between two checks of the starting process.
POLL_SECONDS = 0.5
_PR_SET_PDEATHSIG = 1


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (also one of another user)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # OverflowError: beyond any pid the system gives out
        return False
    except PermissionError:  # it runs, as another user
        pass
    return True


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no prctl: the thread below still watches
        pass


def watch_parent(starter_pid: int) -> None:
    """Make this process exit as soon as ``starter_pid`` (or its direct parent) is gone."""
    parent = os.getppid()
    _die_with_parent()

    def watch() -> None:
        while True:
            time.sleep(POLL_SECONDS)
            if os.getppid() != parent or not pid_alive(starter_pid):
                os._exit(1)

    threading.Thread(target=watch, name="immunopet-parent-watchdog", daemon=True).start()
