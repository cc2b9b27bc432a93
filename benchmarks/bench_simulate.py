"""Benchmark of `immunopet simulate`: the full default cohort (22 patients x 4 days, PET + CT).

Prints wall time, CPU time, patients per minute and peak resident memory (this process and its
worker processes), and, as a reference on the same data in the same run, the time to write one PET
series slice by slice with plain ``pydicom.dcmwrite`` against the simulator's cached slice writer.

Run: .venv/bin/python benchmarks/bench_simulate.py [--patients 22] [--workers 2]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import resource
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom

from immunopet.simulate import simulate_study


def _peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return own, children


def _writer_ratio(study: Path) -> tuple[float, float]:
    """Seconds to rewrite one PET series: pydicom.dcmwrite per slice vs the simulator's writer."""
    from immunopet.simulate.dicom_common import ScanInfo, write_slices
    from immunopet.simulate.dicom_images import pet_slopes

    folder = next(study.glob("dicom/*/*/PT"))
    slices = sorted((pydicom.dcmread(f) for f in folder.glob("*.dcm")), key=lambda d: int(d.InstanceNumber))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=22)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="bench-simulate-")) / "study"
    wall, cpu = time.perf_counter(), time.process_time()
    simulate_study(out, patients=args.patients, seed=0, workers=args.workers)
    wall, cpu_parent = time.perf_counter() - wall, time.process_time() - cpu
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    files = sum(1 for p in out.rglob("*") if p.is_file())
    size_mb = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) / 1e6
    own_rss, child_rss = _peak_rss_mb()
    print(f"simulate: {args.patients} patients x 4 days -> {files} files, {size_mb:.0f} MB")
    print(f"  wall {wall:.1f} s; CPU {cpu_parent + children.ru_utime + children.ru_stime:.1f} s; "
          f"{args.patients / wall * 60:.1f} patients/min")
    print(f"  peak RSS: main process {own_rss:.0f} MB, largest worker {child_rss:.0f} MB")
    reference, fast = _writer_ratio(out)
    print(f"  one PET series: pydicom.dcmwrite per slice {reference:.3f} s, cached slice writer {fast:.3f} s "
          f"(ratio {reference / fast:.1f}x)")
    shutil.rmtree(out.parent)


if __name__ == "__main__":
    main()
