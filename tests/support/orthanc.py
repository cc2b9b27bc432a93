"""A real Orthanc PACS (Debian ``orthanc`` + ``orthanc-dicomweb``) for tests, unreachable from outside.

Orthanc 1.10 binds its HTTP and DICOM ports to every interface and has no bind-address option, so
it runs in a private network namespace (``unshare --net``) whose only interface is its own loopback.
Clients reach it by running in the same namespace: :meth:`OrthancServer.run` executes a command there
(``nsenter --net``). Nothing outside this machine, nor any other process on it, can connect.
The server stops when the fixture ends, and by itself after ``max_seconds`` at the latest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HTTP_PORT = 8042
DICOM_PORT = 4242
AET = "ORTHANC"
PLUGINS = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


@dataclass
class OrthancServer:
    """A running Orthanc in its own network namespace."""

    process: subprocess.Popen = field(repr=False)  #: the ``unshare`` child that runs Orthanc in the namespace
    storage: Path
    http_url: str = f"http://127.0.0.1:{HTTP_PORT}"
    dicomweb_url: str = f"http://127.0.0.1:{HTTP_PORT}/dicom-web"
    host: str = "127.0.0.1"
    dicom_port: int = DICOM_PORT
    aet: str = AET

    def netns_prefix(self) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.process.pid}/ns/net", "--"]

    def run(self, args: list[str], *, timeout: float = 300, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
        """Run ``args`` inside Orthanc's namespace (text output captured)."""
        return subprocess.run(
            [*self.netns_prefix(), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            **kwargs,
        )

    def empty(self) -> None:
        """Delete every patient, so a test sees only what it stores (the server is shared by the session)."""
        for patient in self.rest("/patients") or []:
            self.rest(f"/patients/{patient}", method="DELETE")

    def rest(self, path: str, *, method: str = "GET", data: bytes | None = None) -> object:
        """Orthanc's REST API, called from inside the namespace; the JSON answer."""
        code = (
            "import sys, urllib.request; "
            f"req = urllib.request.Request({self.http_url + path!r}, method={method!r}, data=sys.stdin.buffer.read() or None); "
            "sys.stdout.write(urllib.request.urlopen(req, timeout=60).read().decode())"
        )
        done = subprocess.run(
            [*self.netns_prefix(), sys.executable, "-c", code], input=data or b"", capture_output=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"Orthanc REST {method} {path} failed: {done.stderr.decode()[-2000:]}")
        out = done.stdout.decode()
        return json.loads(out) if out.strip() else None


def orthanc_available() -> str | None:
    """Why Orthanc cannot be started here, or None when it can."""
    if not shutil.which("Orthanc"):
        return "Orthanc not installed: run `make system-deps` (Debian packages orthanc, orthanc-dicomweb)"
    if not PLUGINS.is_file():
        return f"{PLUGINS} missing: install the Debian package orthanc-dicomweb"
    if os.geteuid() != 0:
        return "a private network namespace needs root (unshare --net)"
    return None


def start_orthanc(*, max_seconds: int = 1800) -> OrthancServer:
    """Start Orthanc with a fresh storage folder in a new network namespace; wait until it answers."""
    storage = Path(tempfile.mkdtemp(prefix="immunopet-orthanc-"))
    config = {
        "Name": "immunopet-tests",
        "StorageDirectory": str(storage / "db"),
        "IndexDirectory": str(storage / "db"),
        "Plugins": [str(PLUGINS)],
        "HttpPort": HTTP_PORT,
        "DicomPort": DICOM_PORT,
        "DicomAet": AET,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": False,
        "UnknownSopClassAccepted": True,
        "DicomAlwaysAllowStore": True,
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False, "Host": "127.0.0.1", "Ssl": False},
    }
    (storage / "orthanc.json").write_text(json.dumps(config))
    script = (
        "ip link set lo up && "
        f"exec timeout --signal=TERM {int(max_seconds)} Orthanc {storage / 'orthanc.json'} "
        f"> {storage / 'orthanc.log'} 2>&1"
    )
    proc = subprocess.Popen(["unshare", "--net", "--", "bash", "-c", script], start_new_session=True)
    server = OrthancServer(process=proc, storage=storage)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log = (storage / "orthanc.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"Orthanc exited with {proc.returncode}: {log}")
        try:
            if server.rest("/system"):
                return server
        except (RuntimeError, json.JSONDecodeError):
            time.sleep(0.3)
    stop_orthanc(server)
    raise RuntimeError("Orthanc did not answer within 60 s")


def stop_orthanc(server: OrthancServer) -> None:
    proc = server.process
    try:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, 9)
        except ProcessLookupError:
            pass
    shutil.rmtree(server.storage, ignore_errors=True)
