"""Running the viewer: uvicorn on 127.0.0.1 only, a fresh token, and a clean stop.

:func:`serve` blocks until Ctrl-C (the command line); :class:`ViewerServer` runs the same server in
a background thread and stops it when the ``with`` block ends or after ``max_seconds`` (tests).
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from pathlib import Path

from immunopet.view.bundle import ViewerError

HOST = "127.0.0.1"  #: the only address the viewer listens on
log = logging.getLogger(__name__)


def _socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        raise ViewerError(f"cannot listen on {HOST}:{port} ({error.strerror})", attribute="--port",
                          fix="choose another port, or --port 0 for a free one") from error
    return sock


class ViewerServer:
    """The viewer of ``study_dir`` served in a background thread (``with ViewerServer(...) as s:``)."""

    def __init__(self, study_dir: str | Path, *, port: int = 0, db_url: str | None = None,
                 max_seconds: float | None = None) -> None:
        import uvicorn

        from immunopet.view.app import create_app
        from immunopet.view.bundle import niivue_module
        from immunopet.view.catalog import ViewCatalog

        niivue_module()  # fail now, with the install hint, not on the first page load
        self.token = secrets.token_urlsafe(24)
        self.app = create_app(ViewCatalog(study_dir, db_url=db_url), token=self.token)
        # the readers' imports (about 1 s) are done before the URL is given, not in the first scan's view
        self.app.state.prefetch.wait_warm(timeout=60)
        self.socket = _socket(port)
        self.port = self.socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.max_seconds = max_seconds
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/?token={self.token}"

    def run(self) -> None:
        """Serve in this thread until stopped (Ctrl-C, :meth:`stop`, or ``max_seconds``)."""
        if self.max_seconds is not None:
            self._timer = threading.Timer(self.max_seconds, self.stop)
            self._timer.daemon = True
            self._timer.start()
        try:
            self.server.run(sockets=[self.socket])
        finally:
            self.app.state.prefetch.close()
            self.app.state.ct_reader.close()

    def start(self) -> ViewerServer:
        self._thread = threading.Thread(target=self.run, name="immunopet-view", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline and self._thread.is_alive():
            time.sleep(0.02)
        if not self.server.started:
            raise ViewerError("the viewer did not start within 30 s")
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.cancel()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        self.app.state.prefetch.close(wait_seconds=30)
        self.app.state.ct_reader.close()

    def __enter__(self) -> ViewerServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(study_dir: str | Path, *, port: int = 0, db_url: str | None = None, open_browser: bool = True) -> None:
    """Serve the viewer of ``study_dir`` until Ctrl-C, printing (and opening) its URL."""
    from immunopet.logging_setup import console

    viewer = ViewerServer(study_dir, port=port, db_url=db_url)
    console.print(f"immunopet view: [bold]{viewer.url}[/]  (only this machine can connect; Ctrl-C stops)",
                  highlight=False, soft_wrap=True)
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(viewer.url,)).start()
    viewer.run()
