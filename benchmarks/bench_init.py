"""Benchmark of `immunopet init` on a raw export: the whole command as a process, against references.

The references, in the same run on the same files, each its own process (a user waits for start-up
and the walk too), run alternately with init so that the load of a shared machine hits all alike:

- pydicom: a Python process that walks the export and reads every file's header once with plain
  pydicom (``dcmread(stop_before_pixels=True)``; files that are not DICOM are skipped, as init lists
  them): the least a pydicom-based tool must do;
- dcm2niix, when present: its series search (``dcm2niix -d 9 -n 1``: every file's header read and
  sorted into series, no series converted, as no series has CRC 1).

Printed: the median wall time and CPU time (the process and its workers) of each, files per second,
and the ratios init / pydicom and init / dcm2niix. The goal for the demo export (22 patients x 4
days, about 40,000 files) is under 30 s on 2 cores. Nothing here asserts a time.

Run: .venv/bin/python benchmarks/bench_init.py [--export OUT/dicom-export] [--patients 22] [--quick] [--repeat 3]
(without --export a `simulate --layout pacs` export is written to a temporary folder first).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


PYDICOM_READ = """
import os, sys
import pydicom
from pydicom.errors import InvalidDicomError
read = other = 0
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        try:
            pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
            read += 1
        except InvalidDicomError:
            other += 1
print(read, other)
"""


def _files(root: Path) -> list[Path]:
    return [Path(d) / n for d, _, names in os.walk(root) for n in names]


def timed(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall and CPU seconds (the process and the workers it waited for) of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def time_pydicom(root: Path) -> tuple[float, float]:
    wall, cpu, done = timed([sys.executable, "-c", PYDICOM_READ, str(root)])
    if done.returncode != 0:
        raise SystemExit(f"the pydicom reference failed: {done.stderr[-2000:]}")
    return wall, cpu


def time_dcm2niix(root: Path, out: Path) -> tuple[float, float] | None:
    if not shutil.which("dcm2niix"):
        return None
    out.mkdir(exist_ok=True)
    wall, cpu, _ = timed(["dcm2niix", "-d", "9", "-n", "1", "-o", str(out), str(root)])
    return wall, cpu


def time_init(root: Path, study: Path, workers: int | None) -> tuple[float, float]:
    command = [sys.executable, "-m", "immunopet.cli", "--quiet", "init", str(study), "--dicom", str(root)]
    command += ["--workers", str(workers)] if workers else []
    wall, cpu, done = timed(command)
    if done.returncode not in (0, 1):
        raise SystemExit(f"init failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return wall, cpu


def _median(runs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", type=Path, help="an existing export folder (default: simulate one)")
    parser.add_argument("--patients", type=int, default=22)
    parser.add_argument("--quick", action="store_true", help="simulate a quick export (seconds, not minutes)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs per tool (the median is printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
        root = args.export
        if root is None:
            from immunopet.simulate.pacs_export import simulate_pacs_export

            started = time.perf_counter()
            sim = simulate_pacs_export(Path(tmp) / "sim", patients=args.patients, quick=args.quick)
            root = sim / "dicom-export"
            print(f"simulated the export in {time.perf_counter() - started:.1f} s")
        files = len(_files(root))
        runs: dict[str, list[tuple[float, float]]] = {"init": [], "pydicom": [], "dcm2niix": []}
        for k in range(max(1, args.repeat)):  # alternating, so machine load hits every tool alike
            runs["init"].append(time_init(root, Path(tmp) / f"study{k}", args.workers))  # a new study each time
            runs["pydicom"].append(time_pydicom(root))
            found = time_dcm2niix(root, Path(tmp) / "dcm2niix")
            runs["dcm2niix"] += [found] if found else []
        init_wall, init_cpu = _median(runs["init"])
        print(f"files: {files}  CPUs: {os.cpu_count()}  median of {max(1, args.repeat)} alternating run(s)")
        print(f"immunopet init (whole command): {init_wall:.1f} s wall, {init_cpu:.1f} s CPU "
              f"({files / init_wall:.0f} files/s)")
        references = {"pydicom": "pydicom header read (walk + dcmread, one process)",
                      "dcm2niix": "dcm2niix -d 9 -n 1 (series search)"}
        for name, label in references.items():
            if runs[name]:
                wall, cpu = _median(runs[name])
                print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU -> ratio init/{name} "
                      f"{init_wall / wall:.2f} wall, {init_cpu / cpu:.2f} CPU")


if __name__ == "__main__":
    main()
