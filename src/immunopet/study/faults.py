"""Faults of the machine (disk full, store gone) as plain messages instead of tracebacks.

:func:`plain_faults` wraps the writing parts of ``run`` and ``report``: a full disk becomes a
:class:`~immunopet.errors.StudyError` saying "disk full" and what was kept; any other error of the
results store becomes one naming the store. Nothing is half-written either way: the store
commits whole scans and every file is written to a temporary name first (:mod:`immunopet.atomic`).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from immunopet.errors import StudyError

#: What SQLite and PostgreSQL say when the disk is full.
DISK_FULL_WORDS = ("database or disk is full", "no space left on device", "disk full", "could not extend file")


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` (an ``OSError`` or a database error) means the disk is full."""
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    text = f"{error} {getattr(error, 'orig', '')}".lower()
    return any(words in text for words in DISK_FULL_WORDS)


@contextmanager
def plain_faults(where: str, *, kept: str) -> Iterator[None]:
    """Turn a full disk or a failing store inside the block into a :class:`StudyError`.

    Parameters
    ----------
    where
        The file or store being written (shown to the user).
    kept
        What is safe after the fault, e.g. "every scan committed before it is kept".
    """
    import sqlalchemy as sa

    try:
        yield
    except (OSError, sa.exc.SQLAlchemyError) as error:
        if is_disk_full(error):
            raise StudyError(f"disk full while writing; {kept}", file=where,
                             fix="free space on that disk (or choose another --db / --out) and run again") from error
        if isinstance(error, sa.exc.SQLAlchemyError):
            reason = getattr(error, "orig", None) or error
            raise StudyError(f"the results store failed ({error.__class__.__name__}: {str(reason).strip()}); {kept}",
                             file=where, fix="check the store (server running, space, permissions) and run again") from error
        raise StudyError(f"cannot write ({error.strerror or error}); {kept}", file=where,
                         fix="check the folder's permissions and free space") from error
