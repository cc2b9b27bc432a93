"""Writing a file so that nobody ever sees half of it: a temporary file in the same folder, renamed.

The temporary file is ``.NAME.PID.partial`` beside the target (``.NAME.PID.partial.SUFFIX`` with
``keep_suffix``, for writers that choose the format by the file's extension: NIfTI, ITK transforms).
If the process is killed between the two steps the partial file stays behind;
:func:`remove_stale_partials` (called before the next write into the folder) deletes those whose
process is gone. Every package writes its outputs through here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from immunopet.watchdog import pid_alive

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.partial(?:\.[A-Za-z0-9.]+)?$")


def _suffix(path: Path) -> str:
    return ".nii.gz" if path.name.endswith(".nii.gz") else path.suffix


def partial_path(path: Path, *, keep_suffix: bool = False) -> Path:
    """The temporary name of ``path`` for this process."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial{_suffix(path) if keep_suffix else ''}")


def atomic_write(path: Path, write: Callable[[Path], None], *, keep_suffix: bool = False) -> Path:
    """Call ``write(temporary_path)``, then rename it to ``path``; on any error remove it and re-raise.

    The folder is created when missing. ``keep_suffix``: the temporary name ends like ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path, keep_suffix=keep_suffix)
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def atomic_text(path: Path, text: str) -> Path:
    """:func:`atomic_write` of UTF-8 text."""
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_bytes(path: Path, data: bytes) -> Path:
    """:func:`atomic_write` of bytes."""
    return atomic_write(path, lambda p: p.write_bytes(data))


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete ``.NAME.PID.partial`` files in ``folder`` left by processes that no longer run."""
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        found = _PARTIAL.match(entry.name)
        if found and not pid_alive(int(found["pid"])):  # this process is alive: its own files stay
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
