"""Benchmark of `immunopet init` on a raw export: the whole command as a process, against a reference.

The reference, in the same run on the same files, is the least any tool must do: read every file's
header once with plain pydicom (``dcmread(stop_before_pixels=True)``, one process), and, when present,
dcm2niix's series search (``dcm2niix -d 9 -n 1``: every file's header read and sorted into series, no
series converted, as no series has CRC 1). Printed:
wall time, files, files per second and the ratios. The goal for the demo export (22 patients x 4
days, about 40,000 files) is under 30 s on 2 cores.

Run: .venv/bin/python benchmarks/bench_init.py [--export OUT/export] [--patients 22] [--quick]
(without --export a `simulate --layout pacs` export is written to a temporary folder first).
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


def _files(root: Path) -> list[Path]:
    return [Path(d) / n for d, _, names in os.walk(root) for n in names]


def time_pydicom(files: list[Path]) -> float:
    import pydicom

    start = time.perf_counter()
    for file in files:
        pydicom.dcmread(file, stop_before_pixels=True)
    return time.perf_counter() - start


def time_dcm2niix(root: Path, out: Path) -> float | None:
    if not shutil.which("dcm2niix"):
        return None
    out.mkdir()
    start = time.perf_counter()
    subprocess.run(["dcm2niix", "-d", "9", "-n", "1", "-o", str(out), str(root)], capture_output=True, check=False)
    return time.perf_counter() - start


def time_init(root: Path, study: Path, workers: int | None) -> float:
    command = [sys.executable, "-m", "immunopet.cli", "--quiet", "init", str(study), "--dicom", str(root)]
    command += ["--workers", str(workers)] if workers else []
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"init failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--export", type=Path, help="an existing export folder (default: simulate one)")
    parser.add_argument("--patients", type=int, default=22)
    parser.add_argument("--quick", action="store_true", help="simulate a quick export (seconds, not minutes)")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-init-") as tmp:
        root = args.export
        if root is None:
            from immunopet.simulate.pacs_export import simulate_pacs_export

            started = time.perf_counter()
            sim = simulate_pacs_export(Path(tmp) / "sim", patients=args.patients, quick=args.quick)
            root = sim / "export"
            print(f"simulated the export in {time.perf_counter() - started:.1f} s")
        files = _files(root)
        init_s = time_init(root, Path(tmp) / "study", args.workers)
        pydicom_s = time_pydicom(files)
        dcm2niix_s = time_dcm2niix(root, Path(tmp) / "dcm2niix")
        print(f"files: {len(files)}  CPUs: {os.cpu_count()}")
        print(f"immunopet init (whole command): {init_s:.1f} s ({len(files) / init_s:.0f} files/s)")
        print(f"pydicom header read, one process: {pydicom_s:.1f} s  -> ratio init/pydicom {init_s / pydicom_s:.2f}")
        if dcm2niix_s is not None:
            print(f"dcm2niix -d 9 -n 1 (series search): {dcm2niix_s:.1f} s  -> ratio init/dcm2niix {init_s / dcm2niix_s:.2f}")


if __name__ == "__main__":
    main()
