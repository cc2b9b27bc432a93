"""Which files a command may open: regular files only, found by an iterative walk.

A FIFO blocks ``open`` until a writer appears and a device such as ``/dev/zero`` never ends, so
anything that is not a regular file (also through a symbolic link) is reported, never opened.
The walk keeps its own stack: a folder thousands of levels deep cannot exhaust Python's
recursion limit. Symbolic links to folders are not followed (no loops).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from immunopet.errors import ImmunoPETError

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
          stat.S_IFSOCK: "a socket"}


def not_regular(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` must not be opened (``None`` for a regular file, symbolic links followed)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    return f"not a regular file but {_KINDS.get(stat.S_IFMT(mode), 'a special file')}: not opened"


def require_regular_file(path: str | os.PathLike[str], *, error: type[ImmunoPETError] = ImmunoPETError) -> Path:
    """``path`` as a Path if it is a regular file; else ``error`` naming it."""
    problem = not_regular(path)
    if problem is not None:
        raise error(problem, file=path, fix="give a regular file (not a pipe, device, socket or folder)")
    return Path(path)


def walk_files(path: str | os.PathLike[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Regular files below ``path`` (or ``path`` itself) in sorted order, and what was left out.

    DICOMDIR and hidden files are skipped silently; FIFOs, devices, sockets and unreadable folders
    are returned as ``(path, reason)``.
    """
    root = Path(path)
    if not root.is_dir():
        problem = not_regular(root)
        return ([root], []) if problem is None else ([], [(str(root), problem)])
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listing = sorted(entries, key=lambda e: e.name)
        except OSError as error:
            skipped.append((str(folder), f"folder cannot be listed: {error.strerror or error}"))
            continue
        subfolders = []
        for entry in listing:
            if entry.name.startswith(".") or entry.name.upper() == "DICOMDIR":
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(Path(entry.path))
                    continue
            except OSError:
                pass
            problem = not_regular(entry.path)
            if problem is None:
                files.append(Path(entry.path))
            elif not problem.startswith("a folder"):  # symbolic links to folders are not followed
                skipped.append((entry.path, problem))
        stack.extend(reversed(subfolders))
    return files, skipped
