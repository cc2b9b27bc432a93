"""Benchmark of `immunopet simulate`: the whole command as a process, against references in the same run.

The command runs as the user runs it (``python -m immunopet.cli simulate``, start-up included), by
default with the demo's layout (``--layout pacs``: the simulated trial written as a raw export) on the
full default cohort (22 patients x 4 days, PET + CT). References, in the same run on the same output:

- copying the written folder (``cp -r``, one process): the least any tool writing these files must do;
- the command's start-up alone (``python -m immunopet.cli --help``);
- one PET series written slice by slice with plain ``pydicom.dcmwrite``, against the simulator's
  cached slice writer.

Printed: wall time, CPU time of the command and its workers, patients per minute, files and MB, peak
resident memory, and the ratios.

Run: .venv/bin/python benchmarks/bench_simulate.py [--patients 22] [--workers 2] [--layout pacs|study] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

CLI = [sys.executable, "-m", "immunopet.cli"]


def _files(root: Path) -> list[Path]:
    return [Path(d) / n for d, _, names in os.walk(root) for n in names]


def _run(command: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


def _writer_ratio(pet_files: list[Path]) -> tuple[float, float]:
    """Seconds to rewrite one PET series: pydicom.dcmwrite per slice vs the simulator's writer."""
    from immunopet.simulate.dicom_common import ScanInfo, write_slices
    from immunopet.simulate.dicom_images import pet_slopes

    slices = sorted((pydicom.dcmread(f) for f in pet_files), key=lambda d: int(d.InstanceNumber))
    volume = np.stack([d.pixel_array.T * float(d.RescaleSlope) for d in slices], axis=2).astype(np.float32)
    out = Path(tempfile.mkdtemp(prefix="bench-writer-"))
    started = time.perf_counter()
    pixels, slopes = pet_slopes(volume)
    for k, ds in enumerate(slices):  # reference: a full dataset per slice, written by pydicom
        ds = copy.deepcopy(ds)
        ds.RescaleSlope, ds.PixelData = slopes[k], np.ascontiguousarray(pixels[:, :, k].T).tobytes()
        pydicom.dcmwrite(out / f"ref{k:04d}.dcm", ds, enforce_file_format=True)
    reference = time.perf_counter() - started
    template = copy.deepcopy(slices[0])
    del template.PixelData
    info = ScanInfo(seed=0, patient_id="P01", scan_id="bench", sex="M", height_cm=175.0, weight_kg=75.0,
                    injected_bq=37e6, injection=dt.datetime(2017, 1, 9, 10), start=dt.datetime(2017, 1, 16, 10),
                    day=7.0, tracer="89Zr-atezolizumab")
    started = time.perf_counter()
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    write_slices(out / "fast", template, info, kind="pet", pixels=pixels, affine=affine, slopes=slopes)
    fast = time.perf_counter() - started
    shutil.rmtree(out)
    return reference, fast


def _one_pet_series(out: Path, layout: str) -> list[Path]:
    if layout == "study":
        return sorted(next(out.glob("dicom/*/*/PT")).glob("*.dcm"))
    import pandas as pd

    uid = str(pd.read_csv(out / "truth" / "scans.csv")["pet_series_uid"].iloc[0])
    folder = next(p for p in (out / "dicom-export").glob("*/*") if p.name == uid)  # a series folder (not a CD)
    return sorted(folder.iterdir())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=22)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--layout", choices=("pacs", "study"), default="pacs")
    parser.add_argument("--quick", action="store_true", help="8 mm voxels: seconds, not minutes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as tmp:
        out = Path(tmp) / "sim"
        command = [*CLI, "--quiet", "simulate", str(out), "--patients", str(args.patients), "--layout", args.layout]
        command += ["--workers", str(args.workers)] if args.workers else []
        command += ["--quick"] if args.quick else []
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = _run(command)
        cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
        peak_mb = cpu_after.ru_maxrss / 1024.0
        files = _files(out)
        size_mb = sum(f.stat().st_size for f in files) / 1e6
        copy_s = _run(["cp", "-r", str(out), str(Path(tmp) / "copy")])
        startup_s = _run([*CLI, "--help"])
        reference, fast = _writer_ratio(_one_pet_series(out, args.layout))
    print(f"simulate --layout {args.layout}{' --quick' if args.quick else ''}: {args.patients} patients x 4 days "
          f"-> {len(files)} files, {size_mb:.0f} MB; CPUs: {os.cpu_count()}")
    print(f"  whole command: wall {wall:.1f} s; CPU {cpu:.1f} s (command and workers); "
          f"{args.patients / wall * 60:.1f} patients/min; peak RSS of the largest process {peak_mb:.0f} MB")
    print(f"  reference cp -r of the output: {copy_s:.2f} s (ratio {wall / copy_s:.0f}x)")
    print(f"  start-up (immunopet --help): {startup_s:.2f} s ({100 * startup_s / wall:.1f} % of the command)")
    print(f"  one PET series: pydicom.dcmwrite per slice {reference:.3f} s, cached slice writer {fast:.3f} s "
          f"(ratio {reference / fast:.1f}x)")


if __name__ == "__main__":
    main()
