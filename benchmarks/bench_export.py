"""Speed of `immunopet export`: the whole command as a process, against `immunopet run --force` on the same study.

Usage::

    .venv/bin/python benchmarks/bench_export.py [STUDY_DIR] [--patients N] [--workers N]

Without STUDY_DIR a full-resolution study is simulated into a temporary folder (``--patients``
patients x scan days 0.04, 2, 4, 7; 22 patients = the demo study's 88 scans) and measured once.
Then, in the same run and on the same input, both commands are timed as processes: the reference
`immunopet run --force` (loads every PET, builds and measures every VOI) and `immunopet export`
(loads every PET, rebuilds every VOI, writes one SEG and one SR per scan). Printed: both times, the
ratio, and seconds per scan. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "immunopet.cli", "--quiet"]


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}): {(done.stdout + done.stderr)[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, help="study folder (default: simulate one)")
    parser.add_argument("--patients", type=int, default=3, help="patients to simulate (default 3; 22 = demo size)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of both commands (default 2)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        if args.study is None:
            from immunopet.simulate import simulate_study

            start = time.perf_counter()
            study = simulate_study(workdir / "study", patients=args.patients, seed=11)
            print(f"simulated {args.patients} patients x 4 days (full resolution) in {time.perf_counter() - start:.1f} s")
        else:
            study = workdir / "study"
            shutil.copytree(args.study, study, ignore=shutil.ignore_patterns("results", "export"))
        workers = ["--workers", str(args.workers)]
        _timed(["run", str(study), *workers])  # the store the export reads
        n_scans = sum(1 for _ in (study / "scans.csv").open()) - 1
        reference = _timed(["run", str(study), "--force", *workers])
        exporting = _timed(["export", str(study), "--out", str(workdir / "export"), *workers])
        n_objects = sum(1 for _ in (workdir / "export").rglob("*.dcm"))
        print(f"immunopet run --force: {n_scans} scans in {reference:.1f} s ({reference / n_scans:.2f} s/scan)")
        print(f"immunopet export:      {n_scans} scans, {n_objects} objects in {exporting:.1f} s "
              f"({exporting / n_scans:.2f} s/scan; 88 scans at this rate: {88 * exporting / n_scans:.0f} s)")
        print(f"ratio export / run --force: {exporting / reference:.2f}x  (workers {args.workers}, "
              f"{os.cpu_count()} CPUs)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
