"""Which paths a study may name, and checking one before it is opened.

By default every path in ``study.yaml`` and the tables must resolve (symlinks followed) inside the
study folder, so a table cannot make ``immunopet`` read ``/etc/shadow`` or walk the whole disk.
``allow_outside_paths: true`` in ``study.yaml`` lifts the rule; a list of folders allows those
folders only. Whatever the policy, a path must name a regular file or a folder: a FIFO, a device
(``/dev/zero``) or a socket would hang the run, so it is refused.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from immunopet.study.limits import NAME_MAX_BYTES

#: Longest path Linux opens (``PATH_MAX``).
PATH_MAX_BYTES = 4096
OUTSIDE_FIX = "move the data into the study folder, or allow its folder in study.yaml (allow_outside_paths)"


@dataclass(frozen=True)
class PathPolicy:
    """Where a study's paths may point.

    Attributes
    ----------
    root
        The study folder, resolved.
    allowed
        Folders outside ``root`` that paths may point into (resolved); ``None`` means anywhere
        (``allow_outside_paths: true``).
    """

    root: Path
    allowed: tuple[Path, ...] | None = ()

    @classmethod
    def for_study(cls, root: Path, allow_outside_paths: bool | list[str] = False) -> PathPolicy:
        """The policy of ``study.yaml``'s ``allow_outside_paths`` (relative folders: from ``root``)."""
        root = Path(os.path.realpath(root))
        if allow_outside_paths is True:
            return cls(root, None)
        if not allow_outside_paths:
            return cls(root, ())
        return cls(root, tuple(Path(os.path.realpath(root / folder)) for folder in allow_outside_paths))

    @property
    def outside_allowed(self) -> bool:
        return self.allowed is None or bool(self.allowed)

    def absolute(self, value: str) -> Path:
        """``value`` as written in a table (relative to the study folder, or absolute), unresolved."""
        path = Path(value)
        return path if path.is_absolute() else self.root / path

    def inside(self, resolved: Path) -> bool:
        """Whether a resolved path lies where this policy allows."""
        if resolved == self.root or resolved.is_relative_to(self.root) or self.allowed is None:
            return True
        return any(resolved == a or resolved.is_relative_to(a) for a in self.allowed)

    def problem(self, value: str, *, folder_ok: bool = True, file_ok: bool = True) -> str | None:
        """What is wrong with the path ``value`` from a table, or ``None`` when it may be read."""
        if "\x00" in value:
            return "a path cannot contain a NUL character"
        path = self.absolute(value)
        encoded = os.fsencode(path)
        too_long = [part for part in path.parts if len(os.fsencode(part)) > NAME_MAX_BYTES]
        if too_long:
            return f"a part of the path is longer than {NAME_MAX_BYTES} bytes ({too_long[0][:40]!r}...): no file can have that name"
        if len(encoded) >= PATH_MAX_BYTES:
            return f"the path is longer than {PATH_MAX_BYTES} bytes"
        try:
            resolved = Path(os.path.realpath(path))
        except OSError as error:  # a symlink loop on some systems
            return f"cannot resolve the path ({os.strerror(error.errno or errno.EINVAL)})"
        if not self.inside(resolved):
            via = "" if resolved == path else f" (it leads to {resolved})"
            return f"{value!r} is outside the study folder{via}; {OUTSIDE_FIX}"
        try:
            mode = os.stat(resolved).st_mode
        except FileNotFoundError:
            return f"{value!r} does not exist (paths are relative to the study folder)"
        except PermissionError:
            return f"{value!r} cannot be read (permission denied); give the user running immunopet read access"
        except OSError as error:
            return f"{value!r} cannot be read ({os.strerror(error.errno) if error.errno else error})"
        if stat.S_ISDIR(mode):
            return None if folder_ok else f"{value!r} is a folder; a file is expected here"
        if stat.S_ISREG(mode):
            return None if file_ok else f"{value!r} is a file; a folder is expected here"
        return f"{value!r} is a special file (FIFO, device or socket), not a file or folder: it cannot be read as data"
