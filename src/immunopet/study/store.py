"""The results store: opening it (SQLite by default, any SQLAlchemy URL) and its transactions.

Safety rules (``docs/study-format.md``, "Results store"):

- SQLite runs in WAL mode with a busy timeout, and every transaction starts with ``BEGIN
  IMMEDIATE`` so two writers queue instead of failing halfway;
- the results of one scan are replaced in ONE transaction (:func:`write_scan`): a crash leaves the
  previous rows or the new ones, never a mixture;
- each run is a row of ``runs`` with a status; a run that died (killed process) is marked
  ``interrupted`` by the next run on the same host.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from immunopet.errors import StudyError
from immunopet.study import schema
from immunopet.watchdog import pid_alive

DEFAULT_DB = Path("results") / "immunopet.sqlite"
BUSY_TIMEOUT_MS = 60_000


def default_url(study_root: Path) -> str:
    """``sqlite:///STUDY/results/immunopet.sqlite``."""
    return f"sqlite:///{(study_root / DEFAULT_DB).as_posix()}"


def _sqlite_pragmas(engine: Engine, *, write: bool) -> None:
    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def open_store(url: str, *, create: bool = True) -> Engine:
    """Engine for ``url`` with the store's tables (created when missing and ``create``).

    With ``create=False`` the store is opened for reading: SQLite transactions then start deferred,
    so a reader neither waits for the write lock nor needs write permission.

    Raises
    ------
    StudyError
        When the database cannot be reached or opened.
    """
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as bad:
        raise StudyError(f"not a database URL: {url!r}",
                         fix="e.g. sqlite:///results.sqlite or postgresql+psycopg://user@host/db") from bad
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        parsed,
        connect_args={"timeout": BUSY_TIMEOUT_MS / 1000} if is_sqlite else {},
        pool_pre_ping=not is_sqlite,
    )
    if is_sqlite:
        _sqlite_pragmas(engine, write=create)
    try:
        if create:
            _create_tables(engine)
        else:
            with engine.connect():
                pass
    except sa.exc.SQLAlchemyError as failed:
        engine.dispose()
        from immunopet.study.faults import is_disk_full

        reason = getattr(failed, "orig", None) or failed
        if is_disk_full(failed):
            raise StudyError("disk full: cannot create the results store's tables",
                             file=parsed.render_as_string(hide_password=True),
                             fix="free space on that disk (or choose another --db) and run again") from failed
        raise StudyError(
            f"cannot open the results store ({failed.__class__.__name__}: {reason})",
            file=parsed.render_as_string(hide_password=True),
            fix="check the --db URL, that the server runs and that you may write there",
        ) from failed
    return engine


def _create_tables(engine: Engine, *, attempts: int = 3) -> None:
    """Create missing tables; two runs creating them at once may collide: try again.

    PostgreSQL reports the collision as an integrity or programming error; SQLite as an operational
    one ("table ... already exists", or "database is locked" while the other run switches a new file
    to write-ahead logging). A lasting failure (no permission, disk full) is raised after the last try.
    """
    for attempt in range(attempts):
        try:
            schema.metadata.create_all(engine)
            return
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError, sa.exc.OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


def _now() -> datetime:
    return datetime.now(UTC)


def begin_run(
    engine: Engine, study: str, *, version: str, parameters: Mapping[str, Any], n_scans: int
) -> int:
    """Insert a ``running`` run row and return its id; mark dead runs of this host ``interrupted``."""
    host = socket.gethostname()
    with engine.begin() as conn:
        stale = conn.execute(
            sa.select(schema.runs.c.run_id, schema.runs.c.pid).where(
                schema.runs.c.study == study, schema.runs.c.status == "running", schema.runs.c.host == host
            )
        ).all()
        dead = [run_id for run_id, pid in stale if pid is None or not pid_alive(pid)]
        if dead:
            conn.execute(
                schema.runs.update().where(schema.runs.c.run_id.in_(dead)).values(status="interrupted")
            )
        return conn.execute(
            schema.runs.insert().values(
                study=study, software_version=version, parameters=dict(parameters), started_at=_now(),
                status="running", n_scans=n_scans, host=host, pid=os.getpid(),
            )
        ).inserted_primary_key[0]


def finish_run(engine: Engine, run_id: int, *, status: str, counts: Mapping[str, int]) -> None:
    """Close a run row: status, end time and counts (``n_done``, ``n_skipped``, ...)."""
    with engine.begin() as conn:
        conn.execute(
            schema.runs.update().where(schema.runs.c.run_id == run_id).values(status=status, ended_at=_now(), **counts)
        )


def other_running_runs(engine: Engine, study: str, run_id: int) -> list[int]:
    """Ids of other runs of ``study`` still marked ``running``."""
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(schema.runs.c.run_id).where(
                    schema.runs.c.study == study, schema.runs.c.status == "running", schema.runs.c.run_id != run_id
                )
            )
        )


def sync_patients(engine: Engine, study: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Replace the study's patient rows (one transaction)."""
    table = schema.patients
    values = [
        {
            "study": study, "patient_id": r["patient_id"], "tumour_type": r.get("tumour_type"),
            "dose_cohort": r.get("dose_cohort"), "sex": r.get("sex"), "height_cm": r.get("height_cm"),
            "data": dict(r),
        }
        for r in rows
    ]
    with engine.begin() as conn:
        conn.execute(table.delete().where(table.c.study == study))
        if values:
            conn.execute(table.insert(), values)


def drop_scans(engine: Engine, study: str, scan_ids: Sequence[str]) -> None:
    """Delete everything stored for scans no longer in ``scans.csv`` (one transaction)."""
    if not scan_ids:
        return
    with engine.begin() as conn:
        for table in (schema.measurements, schema.vois, schema.scans):
            conn.execute(table.delete().where(table.c.study == study, table.c.scan_id.in_(list(scan_ids))))


def stored_scans(engine: Engine, study: str) -> dict[str, dict[str, Any]]:
    """``scan_id -> {status, input_hash, pet_hash, params_hash, run_id}`` of what is stored."""
    c = schema.scans.c
    query = sa.select(c.scan_id, c.status, c.input_hash, c.pet_hash, c.params_hash, c.run_id).where(c.study == study)
    with engine.connect() as conn:
        return {row.scan_id: row._asdict() for row in conn.execute(query)}


def _upsert_scan(conn: Connection, row: Mapping[str, Any]) -> None:
    """Insert or replace the scan row; on PostgreSQL this locks the row for the transaction."""
    table = schema.scans
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql if dialect == "postgresql" else sqlite).insert
        statement = insert(table).values(**row)
        update = {k: statement.excluded[k] for k in row if k not in ("study", "scan_id")}
        conn.execute(statement.on_conflict_do_update(index_elements=["study", "scan_id"], set_=update))
        return
    key = (table.c.study == row["study"]) & (table.c.scan_id == row["scan_id"])
    if conn.execute(table.update().where(key).values(**row)).rowcount == 0:
        conn.execute(table.insert().values(**row))


def write_scan(
    engine: Engine,
    scan_row: Mapping[str, Any],
    voi_rows: Sequence[Mapping[str, Any]],
    measurement_rows: Sequence[Mapping[str, Any]],
) -> None:
    """Replace one scan's results in ONE transaction: scan row, its VOIs and its measurements."""
    study, scan_id = scan_row["study"], scan_row["scan_id"]
    with engine.begin() as conn:
        _upsert_scan(conn, {**scan_row, "computed_at": _now()})
        for table in (schema.measurements, schema.vois):
            conn.execute(table.delete().where(table.c.study == study, table.c.scan_id == scan_id))
        if voi_rows:
            conn.execute(schema.vois.insert(), list(voi_rows))
        if measurement_rows:
            conn.execute(schema.measurements.insert(), list(measurement_rows))
