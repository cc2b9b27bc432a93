"""Content hashes that decide whether a scan must be measured again.

- A folder (a DICOM series, a segmenter output) is fingerprinted by the relative path, size and
  modification time (ns) of every file below it: cheap for large series, and any rewrite of a file
  changes it. Symlinked folders are not entered; an entry that cannot be read, a special file
  (FIFO, device, socket) or a link out of the allowed folders is an :class:`UnreadableInput` for
  that one scan (so it fails alone, with the entry named, and never hangs the run).
- A single file (mask NIfTI, RTSTRUCT, SEG) is hashed by its bytes (sha256).
- A table row is hashed by its canonical JSON (sorted keys, ``None`` for empty cells).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from immunopet.errors import StudyError

CHUNK = 1 << 20
#: Most files a scan's folder may hold (a typo such as ``pet: /`` must not walk a whole disk).
MAX_FOLDER_FILES = 200_000


class UnreadableInput(StudyError):
    """An input of one scan cannot be fingerprinted (permission, special file, link outside)."""


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return _canonical(value.item())
    return value


def canonical_json(data: Mapping[str, Any]) -> str:
    """Stable JSON of a mapping: sorted keys, NaN as null, date-times in ISO 8601."""
    return json.dumps({k: _canonical(v) for k, v in data.items()}, sort_keys=True, default=str)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_row(row: Mapping[str, Any], *, skip: tuple[str, ...] = ("_row",)) -> str:
    """sha256 of a table row's canonical JSON (the spreadsheet row number is left out)."""
    return sha256_text(canonical_json({k: v for k, v in row.items() if k not in skip}))


def hash_file_bytes(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _walk_error(error: OSError) -> None:
    raise UnreadableInput(f"cannot list a folder ({error.strerror})", file=error.filename,
                          fix="give the user running immunopet read access, or remove the entry")


def _entry_stat(file: Path, allowed: Callable[[Path], bool] | None) -> os.stat_result | None:
    """``stat`` of one entry (links followed), ``None`` for a folder link (not entered)."""
    try:
        if file.is_symlink():
            target = Path(os.path.realpath(file))
            if allowed is not None and not allowed(target):
                raise UnreadableInput("a link in the scan's folder leads outside the study folder", file=file,
                                      fix="copy the file into the study folder, or allow its folder "
                                          "(allow_outside_paths in study.yaml)")
        info = file.stat()
    except PermissionError as error:
        raise UnreadableInput("cannot read an entry of the scan's folder (permission denied)", file=file,
                              fix="give the user running immunopet read access, or remove the entry") from error
    except OSError as error:
        raise UnreadableInput(f"cannot read an entry of the scan's folder ({error.strerror or error})", file=file,
                              fix="repair or remove the entry") from error
    if stat.S_ISDIR(info.st_mode):
        return None
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableInput("a special file (FIFO, device or socket) is in the scan's folder", file=file,
                              fix="remove it: only image files belong in a series folder")
    return info


def fingerprint_folder(path: Path, *, allowed: Callable[[Path], bool] | None = None) -> str:
    """sha256 over ``(relative path, size, mtime_ns)`` of every file below ``path`` (sorted).

    ``allowed(resolved_path)`` says where links may lead (default: anywhere).
    """
    entries = []
    for folder, _, names in os.walk(path, onerror=_walk_error, followlinks=False):
        for name in names:
            file = Path(folder, name)
            info = _entry_stat(file, allowed)
            if info is None:
                continue
            entries.append((file, f"{file.relative_to(path).as_posix()}\t{info.st_size}\t{info.st_mtime_ns}"))
            if len(entries) > MAX_FOLDER_FILES:
                raise UnreadableInput(f"the folder holds more than {MAX_FOLDER_FILES} files: not one series",
                                      file=path, fix="name the folder of the series in scans.csv")
    return sha256_text("\n".join(line for _, line in sorted(entries)))


def hash_path(path: Path, *, allowed: Callable[[Path], bool] | None = None) -> str:
    """:func:`hash_file_bytes` for a regular file, :func:`fingerprint_folder` for a folder."""
    try:
        info = path.stat()
    except OSError as error:
        raise UnreadableInput(f"cannot read the file ({error.strerror or error})", file=path,
                              fix="check that it exists and may be read") from error
    if stat.S_ISDIR(info.st_mode):
        return fingerprint_folder(path, allowed=allowed)
    if not stat.S_ISREG(info.st_mode):
        raise UnreadableInput("a special file (FIFO, device or socket), not an image file", file=path,
                              fix="name the image file or folder in the table")
    try:
        return hash_file_bytes(path)
    except OSError as error:
        raise UnreadableInput(f"cannot read the file ({error.strerror or error})", file=path,
                              fix="check that it may be read") from error
