"""The report opens in headless Chromium without errors and every image decodes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("chromium not found: run `make system-deps` (Debian package chromium)")
    return found


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.browser
@pytest.mark.slow
def test_report_renders_in_chromium(demo_quick, tmp_path):
    _, study = demo_quick
    url = (study / "report" / "report.html").resolve().as_uri()
    dom = _run(["--virtual-time-budget=10000", "--enable-logging=stderr", "--v=0", "--dump-dom", url],
               tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body, "no <body> in the dumped DOM"
    ok = re.search(r'data-images-ok="(\d+)"', body.group(0))
    total = re.search(r'data-images-total="(\d+)"', body.group(0))
    assert ok and total, f"the image check script did not run: {body.group(0)}"
    html = (study / "report" / "report.html").read_text(encoding="utf-8")
    assert int(total.group(1)) == html.count("<img ") > 10
    assert ok.group(1) == total.group(1), "some images did not decode"
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert not console_errors, console_errors
    assert not re.search(r"net::ERR_|Failed to load resource", dom.stderr)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-screenshot.png"
    shot.unlink(missing_ok=True)
    result = _run(["--window-size=1280,2000", f"--screenshot={shot}", url], tmp_path / "profile-shot")
    assert result.returncode == 0 and shot.is_file() and shot.stat().st_size > 20_000, result.stderr[-2000:]
