"""``immunopet view`` as a user starts it: a process that prints its URL, serves, and stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from immunopet.exit_codes import EXIT_INPUT


def _view(study, *args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "immunopet.cli", "view", str(study), "--no-browser", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})},
    )


def test_view_prints_a_tokened_url_serves_it_and_stops_on_ctrl_c(viewed_study):
    proc = _view(viewed_study)
    try:
        url, deadline, seen = None, time.monotonic() + 60, ""
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            seen += line
            found = re.search(r"http://127\.0\.0\.1:\d+/\?token=[\w-]+", line)
            url = found.group(0) if found else None
        assert url, seen
        for _ in range(50):
            try:
                page = httpx.get(url, timeout=30)
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert page.status_code == 200 and "immunopet view" in page.text
        assert httpx.get(url.split("?")[0], timeout=30).status_code == 403
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode in (0, 130)


def test_missing_niivue_is_a_clear_error_with_the_install_command(viewed_study, tmp_path):
    proc = _view(viewed_study, env={"IMMUNOPET_NIIVUE_DIR": str(tmp_path)})
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INPUT
    assert "Niivue" in err and "make viewer" in err and "Traceback" not in err


def test_a_taken_port_is_a_clear_error(viewed_study):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        proc = _view(viewed_study, "--port", str(taken.getsockname()[1]))
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INPUT and "--port" in err and "Traceback" not in err


def test_a_study_that_was_not_run_is_a_clear_error(quick_study):
    proc = _view(quick_study)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INPUT and "immunopet run" in err
