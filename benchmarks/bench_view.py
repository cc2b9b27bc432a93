"""First view of a scan in `immunopet view`: what a physician waits for after clicking a day.

Usage::

    .venv/bin/python benchmarks/bench_view.py [STUDY_DIR]

Without STUDY_DIR one patient at the demo's full grid is simulated and run into a temporary folder.
The viewer runs as its own process (`immunopet view --no-browser`); timed per scan over HTTP:
cold (the scan's volumes built and cached: SUV, CT on the PET grid, VOI label map, MIP) and warm
(served from the cache): the scan's metadata, pet.nii, ct.nii and labels.nii. The reference in the
same run is SimpleITK reading the same PET series and writing it as NIfTI, as its own process. The
start-up of `immunopet view` (process start to the first answer) is timed and added to the first view
of the page flow, which is what a user waits for after typing the command. The server's peak
resident memory after all scans is printed. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _fetch_scan(client, base: str, scan_id: str) -> float:
    start = time.perf_counter()
    meta = client.get(f"{base}/api/scans/{scan_id}")
    meta.raise_for_status()
    for name in ("pet.nii", "ct.nii", "labels.nii"):
        if name != "ct.nii" or meta.json()["has_ct"]:
            client.get(f"{base}/api/scans/{scan_id}/{name}").raise_for_status()
    return time.perf_counter() - start


REFERENCE = """
import sys, SimpleITK as sitk
reader = sitk.ImageSeriesReader()
reader.SetFileNames(reader.GetGDCMSeriesFileNames(sys.argv[1]))
sitk.WriteImage(sitk.Cast(reader.Execute(), sitk.sitkFloat32), sys.argv[2])
"""


def _sitk_reference(series: Path, out: Path) -> float:
    """SimpleITK reading the PET series and writing it as NIfTI, as its own process (start-up included)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", REFERENCE, str(series), str(out)], check=True)
    return time.perf_counter() - start


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, help="a study that has been run (default: simulate one)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-view-"))
    try:
        if args.study is None:
            from immunopet.simulate import simulate_study
            from immunopet.study import run_study

            study = simulate_study(workdir / "study", patients=1, seed=5)
            run_study(study, workers=2, progress=False)
        else:
            study = workdir / "study"
            shutil.copytree(args.study, study, ignore=shutil.ignore_patterns(".viewer-cache"))
        launched = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "immunopet.cli", "view", str(study), "--no-browser"],
                                stderr=subprocess.PIPE, text=True)
        try:
            url = None
            while url is None:
                line = proc.stderr.readline()
                if not line:
                    raise SystemExit("the viewer did not start")
                found = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=([\w-]+)", line)
                url = found.groups() if found else None
            base, token = url
            with httpx.Client(headers={"X-Viewer-Token": token}, timeout=300) as client:
                for _ in range(100):
                    try:
                        scans = client.get(f"{base}/api/patients").json()["patients"]
                        break
                    except httpx.ConnectError:
                        time.sleep(0.1)
                startup = time.perf_counter() - launched
                from immunopet.study import load_study

                table = load_study(study).scans.set_index("scan_id")
                pid = scans[0]["patient_id"]
                # scans asked for directly (not through the patient's page), so nothing is prefetched:
                # every first view here is cold
                scan_list = [{"scan_id": s} for s in table.index[table["patient_id"] == pid]]
                for scan in scan_list:
                    cold = _fetch_scan(client, base, scan["scan_id"])
                    warm = _fetch_scan(client, base, scan["scan_id"])
                    ref = _sitk_reference(study / table.loc[scan["scan_id"], "pet"], workdir / "ref.nii")
                    print(f"{scan['scan_id']}: first view {cold:.2f} s (ratio {cold / ref:.1f}x SimpleITK read+write "
                          f"{ref:.2f} s); cached {warm:.3f} s (ratio {warm / ref:.2f}x)")
                shutil.rmtree(study / ".viewer-cache", ignore_errors=True)
                client.get(f"{base}/api/patients/{pid}").raise_for_status()  # what the page asks first
                last = scan_list[-1]["scan_id"]
                opened = _fetch_scan(client, base, last)
                ref = _sitk_reference(study / table.loc[last, "pet"], workdir / "ref.nii")
                print(f"from `immunopet view` to the first scan served: start-up {startup:.2f} s + first view "
                      f"{opened:.2f} s = {startup + opened:.2f} s (ratio {(startup + opened) / ref:.1f}x the "
                      f"SimpleITK process, {ref:.2f} s)")
                time.sleep(max(0.0, 3 * opened))  # a user looks at the first day for a few seconds
                switched = [_fetch_scan(client, base, s["scan_id"]) for s in scan_list[:-1]]
                print(f"page flow: first day {opened:.2f} s, then other days (prefetched) "
                      f"{', '.join(f'{t:.2f}' for t in switched)} s")
            print(f"viewer peak resident memory: {_peak_rss_mb(proc.pid):.0f} MB")
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
