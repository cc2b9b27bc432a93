"""The registrations of a study in its results store (table ``registrations``) and in its folder.

``STUDY/registration/`` holds one ITK transform file per registered scan (``<scan_id>.tfm``) and
``registration.json`` (one record per scan: reference scan, modality, input hash, quality, status);
the store's ``registrations`` table holds the same records, keyed by study name and scan. The table
has its own ``MetaData``: importing this module leaves the store's shared schema alone, and the table
is created by :func:`store_records`, the first time registrations are stored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

FOLDER = "registration"
RECORDS = "registration.json"

registrations = sa.Table(
    "registrations", sa.MetaData(),
    sa.Column("study", sa.String(200), primary_key=True),
    sa.Column("scan_id", sa.String(200), primary_key=True),
    sa.Column("reference_scan_id", sa.String(200), nullable=False),
    sa.Column("modality", sa.String(8)),
    sa.Column("status", sa.String(16), nullable=False),  # done | failed | reference
    sa.Column("verdict", sa.String(16)),  # good | poor
    sa.Column("error", sa.Text),
    sa.Column("input_hash", sa.String(64)),
    sa.Column("transform_file", sa.Text),
    sa.Column("quality", sa.JSON),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
)


def folder(root: Path) -> Path:
    return root / FOLDER


def read_records(root: Path) -> dict[str, dict[str, Any]]:
    """``scan_id -> record`` from ``registration/registration.json`` (empty when there is none)."""
    path = folder(root) / RECORDS
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # unreadable: everything is registered again
    scans = data.get("scans", []) if isinstance(data, dict) else []
    own = folder(root).resolve()
    return {r["scan_id"]: r for r in scans if _well_formed(r) and _own_file(root, r.get("transform_path"), own)}


#: The states a record can be in (register/job.py, study/registration.py).
STATUSES = ("done", "failed", "reference")


def _well_formed(record: Any) -> bool:
    """A record whose scan, reference scan and status every reader can take as they are (an edited
    registration.json that breaks one counts as not registered)."""
    return (isinstance(record, dict) and isinstance(record.get("scan_id"), str)
            and isinstance(record.get("reference_scan_id"), str) and record.get("status") in STATUSES)


def _own_file(root: Path, transform_path: Any, own: Path) -> bool:
    """Whether a record's ``transform_path`` is none or a file name in ``STUDY/registration/``: the
    transform and its snapshot are read from there only, so an edited registration.json cannot make
    run, view or report read a file elsewhere (such a record counts as not registered)."""
    if transform_path is None:
        return True
    if not isinstance(transform_path, str) or "\x00" in transform_path:
        return False
    return (root / transform_path).resolve().parent == own


def write_records(root: Path, records: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``registration.json`` atomically (temporary file in the same folder, then rename)."""
    from immunopet.atomic import atomic_text

    return atomic_text(folder(root) / RECORDS, json.dumps({"scans": list(records)}, indent=1, sort_keys=True, default=str))


def store_records(engine: sa.Engine, study: str, records: Sequence[Mapping[str, Any]]) -> None:
    """Replace the study's rows of ``registrations`` with ``records`` (one transaction)."""
    registrations.create(engine, checkfirst=True)
    now = datetime.now(UTC)
    rows = []
    for r in records:
        quality = {k: v for k, v in r.items() if k not in {"scan_id", "reference_scan_id", "modality", "status",
                                                        "verdict", "error", "input_hash", "transform_path"}}
        rows.append({"study": study, "scan_id": r["scan_id"], "reference_scan_id": r["reference_scan_id"],
                     "modality": r.get("modality"), "status": r["status"], "verdict": r.get("verdict"),
                     "error": r.get("error"), "input_hash": r.get("input_hash"),
                     "transform_file": r.get("transform_path"), "quality": quality, "computed_at": now})
    with engine.begin() as conn:
        conn.execute(registrations.delete().where(registrations.c.study == study))
        if rows:
            conn.execute(registrations.insert(), rows)


def load_registrations(engine: sa.Engine, study: str) -> list[dict[str, Any]]:
    """The study's rows of ``registrations`` (empty when the table does not exist yet)."""
    if not sa.inspect(engine).has_table("registrations"):
        return []
    with engine.connect() as conn:
        result = conn.execute(sa.select(registrations).where(registrations.c.study == study))
        return [dict(row._mapping) for row in result]
