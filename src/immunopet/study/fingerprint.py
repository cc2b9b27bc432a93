"""Content hashes that decide whether a scan must be measured again.

- A folder (a DICOM series, a segmenter output) is fingerprinted by the relative path, size and
  modification time (ns) of every file below it: cheap for large series, and any rewrite of a file
  changes it.
- A single file (mask NIfTI, RTSTRUCT, SEG) is hashed by its bytes (sha256).
- A table row is hashed by its canonical JSON (sorted keys, ``None`` for empty cells).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


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


def fingerprint_folder(path: Path) -> str:
    """sha256 over ``(relative path, size, mtime_ns)`` of every file below ``path`` (sorted)."""
    entries = []
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        stat = file.stat()
        entries.append(f"{file.relative_to(path).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}")
    return sha256_text("\n".join(entries))


def hash_path(path: Path) -> str:
    """:func:`hash_file_bytes` for a file, :func:`fingerprint_folder` for a folder."""
    return fingerprint_folder(path) if path.is_dir() else hash_file_bytes(path)
