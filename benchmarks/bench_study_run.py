"""Benchmark of `immunopet run`: the whole command as a process, against references in the same run.

Times, each as its own process (a user waits for start-up, planning, reading, measuring, the store
and the results files):

- ``immunopet run STUDY --db NEW.sqlite --workers 1`` and ``--workers 2`` (each a new store, so every
  scan is measured);
- a no-change re-run with 2 workers (every scan skipped: fingerprints, store, exports);
- reference for a full run: a Python process that reads every PET file of the study with plain
  pydicom, pixel data included (``dcmread(...).pixel_array`` x RescaleSlope): the least any tool
  measuring these scans must do;
- reference for the re-run: ``immunopet --help`` (the command line's start-up alone).

Printed: wall times, scans per minute and the ratios. Nothing here asserts a time.

Run: ``.venv/bin/python benchmarks/bench_study_run.py [STUDY_DIR] [--patients 6]`` (without
STUDY_DIR a full-resolution study of ``--patients`` patients x scan days 2, 4, 7 is simulated into
a temporary folder first).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The reference reader: every file below the folders given as arguments, pixels rescaled.
READ_PET = """
import os, sys
import pydicom
total = 0.0
for folder in sys.argv[1:]:
    for base, _, names in os.walk(folder):
        for name in names:
            ds = pydicom.dcmread(os.path.join(base, name))
            total += float((ds.pixel_array * float(getattr(ds, "RescaleSlope", 1.0))).sum())
print(total)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}


def _timed(command: list[str], *, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{' '.join(command[:5])} ... failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, done.stdout


def time_run(study: Path, db: Path, workers: int) -> tuple[float, dict]:
    """``immunopet run`` as a process; its ``--json`` summary."""
    command = [sys.executable, "-m", "immunopet.cli", "--quiet", "run", str(study), "--db", f"sqlite:///{db}",
               "--workers", str(workers), "--json"]
    seconds, out = _timed(command, ok=(0, 1))
    return seconds, json.loads(out)


def pet_folders(study: Path) -> list[Path]:
    from immunopet.study import load_study

    loaded = load_study(study)
    return [loaded.path(pet) for pet in loaded.scans["pet"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, help="study folder (default: simulate one)")
    parser.add_argument("--patients", type=int, default=6, help="patients to simulate (default 6)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-study-run-"))
    try:
        if args.study is None:
            from immunopet.simulate import simulate_study

            start = time.perf_counter()
            study = simulate_study(workdir / "study", patients=args.patients, days=(2, 4, 7), seed=11)
            print(f"simulated {args.patients} patients x 3 days (full resolution) in {time.perf_counter() - start:.1f} s")
        else:
            study = workdir / "study"
            shutil.copytree(args.study, study, ignore=shutil.ignore_patterns("results"))
        folders = pet_folders(study)
        read_s, _ = _timed([sys.executable, "-c", READ_PET, *map(str, folders)])
        help_s, _ = _timed([sys.executable, "-m", "immunopet.cli", "--help"])
        print(f"CPUs: {os.cpu_count()}  scans: {len(folders)}")
        print(f"reference: pydicom reads every PET file with pixels (one process): {read_s:.2f} s")
        print(f"reference: immunopet --help (start-up): {help_s:.2f} s")
        timings = {}
        for workers in (1, 2):
            seconds, summary = time_run(study, workdir / f"w{workers}.sqlite", workers)
            n = len(summary.get("done", []))
            if summary.get("failed"):
                print(f"  warning: {len(summary['failed'])} scans failed with {workers} worker(s)")
            timings[workers] = seconds
            print(f"immunopet run --workers {workers} (whole command): {n} scans, "
                  f"{summary.get('n_vois_measured')} VOIs in {seconds:.2f} s = {60 * n / seconds:.1f} scans/min")
        rerun, summary = time_run(study, workdir / "w2.sqlite", 2)
        print(f"no-change re-run (whole command): {len(summary.get('skipped', []))} scans skipped, "
              f"{len(summary.get('done', []))} measured in {rerun:.2f} s")
        print(f"ratio run 1 worker / pydicom read: {timings[1] / read_s:.2f}")
        print(f"ratio run 2 workers / pydicom read: {timings[2] / read_s:.2f}")
        print(f"ratio 2 workers / 1 worker throughput: {timings[1] / timings[2]:.2f}x")
        print(f"ratio no-change re-run / start-up (--help): {rerun / help_s:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
