"""Fixtures shared by the whole suite: real reference data and a real PostgreSQL server."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw new random examples on every run (``make test``); the "ci" profile, which
# .ci/run selects, draws the same examples every time, so a landing check is reproducible.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("IMMUNOPET_HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def _reset_logging() -> None:
    import logging

    from rich.logging import RichHandler

    logging.getLogger("immunopet").setLevel(logging.NOTSET)
    logging.getLogger().setLevel(logging.WARNING)
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, RichHandler)]


@pytest.fixture(autouse=True)
def _restore_logging():
    """Commands call ``logging_setup.configure`` (levels, a Rich handler), also from fixtures of a
    wider scope; reset to the defaults around each test so ``caplog`` sees every warning."""
    _reset_logging()
    yield
    _reset_logging()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real scanner DICOM in ``../shared/data`` (read-only). Fails, never skips, if absent."""
    if not (SHARED_DATA / "README.md").is_file():
        pytest.fail(
            f"real reference DICOM not found at {SHARED_DATA}: the tests need the workplace's "
            "shared/data folder beside the repository (../shared/data)"
        )
    return SHARED_DATA


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    pytest.fail("PostgreSQL server binaries not found: run `make system-deps` (apt package postgresql)")


@pytest.fixture(scope="session")
def pg_url():
    """SQLAlchemy URL of a throw-away PostgreSQL server on 127.0.0.1 (or $IMMUNOPET_TEST_PG_URL).

    The server gets its own data directory and port, runs as the ``postgres`` user when the tests
    run as root (initdb refuses root), and is stopped when the session ends.
    """
    if os.environ.get("IMMUNOPET_TEST_PG_URL"):
        yield os.environ["IMMUNOPET_TEST_PG_URL"]
        return
    bindir = _pg_bin()
    datadir = Path(tempfile.mkdtemp(prefix="immunopet-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True, text=True)  # noqa: E731
    run(str(bindir / "initdb"), "-D", str(datadir / "db"), "-A", "trust", "-U", "postgres")
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {datadir} -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(datadir / "db"), "-o", options, "-l", str(datadir / "log"), "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(datadir / "db"), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def quick_study(tmp_path_factory) -> Path:
    """A small simulated multi-day 89Zr study (``immunopet simulate --quick``), made once per worker.

    Read-only for tests: copy it (``shutil.copytree``) before running anything that writes into it.
    """
    from immunopet.simulate import simulate_study

    out = tmp_path_factory.mktemp("quick-study") / "study"
    simulate_study(out, quick=True, seed=7)
    return out


@pytest.fixture(scope="session")
def orthanc():
    """A real Orthanc (DICOMweb + DIMSE) in a private network namespace; see ``tests/support/orthanc.py``.

    Clients run inside its namespace with ``orthanc.run([...])``; ``orthanc.rest(path)`` queries its
    REST API. Fails, never skips, when Orthanc cannot be started.
    """
    from support.orthanc import orthanc_available, start_orthanc, stop_orthanc

    why = orthanc_available()
    if why:
        pytest.fail(why)
    server = start_orthanc()
    try:
        yield server
    finally:
        stop_orthanc(server)
