"""Benchmark: load a whole-body PET series + SUV, against SimpleITK's ImageSeriesReader.

Writes a realistic series (200 x 200 x 400 int16 slices, one RescaleSlope per slice, built on a
real Siemens PET header from ../shared/data) into a temporary folder, then times in the same run:

- immunopet: ``load_pet(folder).suv("bw")`` (sort, per-slice rescale, SUV inputs, SUV image);
- SimpleITK: ``ImageSeriesReader`` (GDCM file sort + read) and the same multiplication by the SUV
  factor (SimpleITK reads no SUV inputs, so this is a lower bound of its work);
- discovery: ``discover(folder)`` (header-only), reported per file.

Peak Python-heap memory of the immunopet load (tracemalloc; numpy buffers are traced) is reported
relative to the float32 volume. Goals: ratio <= 1 (no slower than SimpleITK), peak < 3x volume.

Run: ``.venv/bin/python benchmarks/bench_dicom_load.py [--slices 400] [--size 200] [--repeat 5]``
(``--series FOLDER`` times an existing PET series instead, e.g. the real GE one).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT.parent / "shared" / "data" / "acrin-flt-siemens" / "1.dcm"


def write_series(folder: Path, *, size: int, slices: int, seed: int = 0) -> None:
    """``slices`` files of ``size`` x ``size`` int16, shuffled names, one slope per slice."""
    rng = np.random.default_rng(seed)
    template = pydicom.dcmread(TEMPLATE)
    series_uid = generate_uid()
    yy, xx = np.mgrid[:size, :size]
    body = ((xx - size / 2) ** 2 / (0.4 * size) ** 2 + (yy - size / 2) ** 2 / (0.3 * size) ** 2) < 1
    order = rng.permutation(slices)
    for k in range(slices):
        activity = body * (5000.0 + 3000.0 * np.sin(k / 25.0)) + rng.gamma(2.0, 400.0, (size, size)) * body
        slope = float(activity.max()) / 32000.0
        stored = np.round(activity / slope).astype(np.int16)
        ds = template.copy()
        ds.SOPInstanceUID = generate_uid()
        ds.SeriesInstanceUID = series_uid
        ds.Rows = ds.Columns = size
        ds.PixelSpacing = [4.0, 4.0]
        ds.SliceThickness = 2.0
        ds.ImagePositionPatient = [-400.0, -400.0, -800.0 + 2.0 * k]
        ds.InstanceNumber = int(order[k]) + 1
        ds.RescaleSlope = f"{slope:.8g}"
        ds.PixelData = stored.tobytes()
        ds.save_as(folder / f"IM{order[k]:05d}")


def time_immunopet(folder: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of load_pet + SUV image."""
    from immunopet.dicom import load_pet

    start, cpu = time.perf_counter(), time.process_time()
    suv = load_pet(folder).suv("bw")
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert suv.array.shape[2] > 0
    return elapsed


def time_simpleitk(folder: Path, factor: float) -> tuple[float, float]:
    """(wall, CPU) seconds of ImageSeriesReader + multiplication by the SUV factor."""
    import SimpleITK as sitk

    start, cpu = time.perf_counter(), time.process_time()
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    reader.SetOutputPixelType(sitk.sitkFloat32)
    image = reader.Execute()
    suv = sitk.GetArrayViewFromImage(image) * np.float32(factor)
    elapsed = time.perf_counter() - start, time.process_time() - cpu
    assert suv.size > 0
    return elapsed


def peak_memory_ratio(folder: Path) -> tuple[float, float]:
    from immunopet.dicom import load_pet

    gc.collect()
    tracemalloc.start()
    pet = load_pet(folder)
    suv = pet.suv("bw")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    volume_bytes = suv.array.size * 4
    return peak / volume_bytes, volume_bytes / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--series", type=Path, default=None,
                        help="benchmark an existing PET series folder instead (e.g. ../shared/data/tcia-sts-001-ge-fdg/pet)")
    args = parser.parse_args(argv)
    if not TEMPLATE.is_file():
        print(f"template DICOM not found: {TEMPLATE}", file=sys.stderr)
        return 2
    from immunopet.dicom import discover, load_pet

    with tempfile.TemporaryDirectory(prefix="bench-dicom-") as tmp:
        folder = args.series or Path(tmp)
        if args.series is None:
            write_series(folder, size=args.size, slices=args.slices)
        factor = load_pet(folder).suv_factor("bw")  # warm-up (file cache, imports)
        time_simpleitk(folder, factor)
        ours, theirs = [], []
        for _ in range(args.repeat):  # interleaved, so machine load hits both alike
            ours.append(time_immunopet(folder))
            theirs.append(time_simpleitk(folder, factor))
        start = time.perf_counter()
        found = discover(folder)
        discover_s = time.perf_counter() - start
        ratio_mem, volume_mb = peak_memory_ratio(folder)
    t_ours, t_theirs = statistics.median(o[0] for o in ours), statistics.median(t[0] for t in theirs)
    c_ours, c_theirs = statistics.median(o[1] for o in ours), statistics.median(t[1] for t in theirs)
    what = str(args.series) if args.series else f"{args.size}x{args.size}x{args.slices} int16, one slope per slice"
    print(f"series: {what} ({volume_mb:.0f} MiB float32)")
    print(f"immunopet load_pet + suv('bw'): {t_ours:.3f} s (median of {args.repeat})")
    print(f"SimpleITK ImageSeriesReader + factor: {t_theirs:.3f} s (median of {args.repeat})")
    pairs = sorted(o[0] / t[0] for o, t in zip(ours, theirs))
    print(f"time ratio immunopet / SimpleITK: {t_ours / t_theirs:.2f}  (goal <= 1; per-pair ratios "
          f"{pairs[0]:.2f}-{pairs[-1]:.2f})")
    print(f"CPU time (all threads) immunopet {c_ours:.3f} s, SimpleITK {c_theirs:.3f} s: ratio {c_ours / c_theirs:.2f}")
    print(f"peak traced memory / float32 volume: {ratio_mem:.2f}  (goal < 3)")
    print(f"discover (header-only): {discover_s:.3f} s for {found[0].n_instances} files = "
          f"{1000 * discover_s / found[0].n_instances:.2f} ms/file (~{20 * discover_s / found[0].n_instances * 1000:.0f} s per 20k files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
