"""Benchmark: `immunopet convert --suv bw` as a whole process, against SimpleITK and dcm2niix.

Writes a realistic series (200 x 200 x 400 int16 slices, one RescaleSlope per slice, built on a
real Siemens PET header from ../shared/data) into a temporary folder, then times in the same run,
alternating, each as its own process (a user waits for start-up, reading and writing):

- immunopet: ``immunopet convert FOLDER out.nii.gz --suv bw`` (sort, per-slice rescale, every SUV
  check, SUV image, NIfTI + JSON sidecar);
- SimpleITK: a Python process running ``ImageSeriesReader`` (GDCM sort + read), the multiplication
  by the SUV factor and ``WriteImage`` to .nii.gz (it reads no SUV inputs: a lower bound);
- dcm2niix: ``dcm2niix -z y`` (C; writes stored values x slope, no SUV);
- listing: ``immunopet inspect FOLDER --json`` (every header, grid, SUV inputs) against a Python
  process that only parses every file's header with pydicom (the least any listing must do).

Printed: median wall times, the ratios immunopet / SimpleITK and immunopet / dcm2niix, and the peak
resident memory of each process (``/usr/bin/time``) relative to the float32 volume. Goals:
<= 1.0 x SimpleITK, <= 2.5 x dcm2niix, peak <= 2 x the volume. Nothing here asserts a time.

Run: ``.venv/bin/python benchmarks/bench_dicom_load.py [--slices 400] [--size 200] [--repeat 5] [--cold]``
(``--cold``: every timed run reads the files from disk, as a first conversion from a CD or share does)
(``--series FOLDER`` times an existing PET series instead, e.g. the real GE one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import statistics
import sys
import tempfile
import time
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
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()  # one per file: dcm2niix
        # drops files whose (0002,0003) repeats as duplicates and would convert a single slice
        ds.SeriesInstanceUID = series_uid
        ds.Rows = ds.Columns = size
        ds.PixelSpacing = [4.0, 4.0]
        ds.SliceThickness = 2.0
        ds.ImagePositionPatient = [-400.0, -400.0, -800.0 + 2.0 * k]
        ds.InstanceNumber = int(order[k]) + 1
        ds.RescaleSlope = f"{slope:.8g}"
        ds.PixelData = stored.tobytes()
        ds.save_as(folder / f"IM{order[k]:05d}")


SITK_SCRIPT = """
import sys, numpy as np, SimpleITK as sitk
folder, out, factor = sys.argv[1], sys.argv[2], float(sys.argv[3])
reader = sitk.ImageSeriesReader()
reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
reader.SetOutputPixelType(sitk.sitkFloat32)
image = reader.Execute()
sitk.WriteImage(image * factor, out)
"""

HEADERS_SCRIPT = """
import pathlib, sys, pydicom
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*")):
    if path.is_file():
        pydicom.dcmread(path, stop_before_pixels=True)
"""


def run_timed(command: list[str], tmp: Path) -> tuple[float, float]:
    """(wall seconds, peak resident MiB) of one process run."""
    report = tmp / "time.txt"
    wrapped = ["/usr/bin/time", "-f", "%M", "-o", str(report), *command] if Path("/usr/bin/time").exists() else command
    start = time.perf_counter()
    subprocess.run(wrapped, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    wall = time.perf_counter() - start
    peak = float(report.read_text().split()[-1]) / 1024 if report.exists() else float("nan")
    return wall, peak


def drop_from_cache(folder: Path) -> None:
    """Ask the kernel to forget the series' pages (``POSIX_FADV_DONTNEED``; no root needed), so the next
    run reads the files from disk as a user converting a series from a CD or share does."""
    for file in folder.rglob("*"):
        if file.is_file():
            fd = os.open(file, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=400)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", action="store_true",
                        help="drop the series' files from the page cache before every timed run (a first read)")
    parser.add_argument("--series", type=Path, default=None,
                        help="benchmark an existing PET series folder instead (e.g. ../shared/data/tcia-sts-001-ge-fdg/pet)")
    args = parser.parse_args(argv)
    if not TEMPLATE.is_file():
        print(f"template DICOM not found: {TEMPLATE}", file=sys.stderr)
        return 2
    from immunopet.dicom import load_pet

    with tempfile.TemporaryDirectory(prefix="bench-dicom-") as tmp_name:
        tmp = Path(tmp_name)
        folder = args.series or tmp / "series"
        if args.series is None:
            folder.mkdir()
            write_series(folder, size=args.size, slices=args.slices)
        pet = load_pet(folder)
        factor, volume_mb = pet.suv_factor("bw"), pet.image.array.size * 4 / 2**20
        (tmp / "dcm2niix").mkdir()
        commands = {
            "immunopet": [sys.executable, "-m", "immunopet.cli", "-q", "convert", str(folder), str(tmp / "ours.nii.gz")],
            "SimpleITK": [sys.executable, "-c", SITK_SCRIPT, str(folder), str(tmp / "sitk.nii.gz"), repr(factor)],
        }
        if shutil.which("dcm2niix"):
            commands["dcm2niix"] = ["dcm2niix", "-z", "y", "-b", "n", "-o", str(tmp / "dcm2niix"), "-f", "x", str(folder)]
        commands["inspect"] = [sys.executable, "-m", "immunopet.cli", "-q", "inspect", str(folder), "--json"]
        commands["pydicom"] = [sys.executable, "-c", HEADERS_SCRIPT, str(folder)]
        for command in commands.values():  # warm-up: file cache, .pyc files
            run_timed(command, tmp)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(args.repeat):  # alternating, so machine load hits every tool alike
            for name, command in commands.items():
                if args.cold:
                    drop_from_cache(folder)
                runs[name].append(run_timed(command, tmp))
        n_files = sum(1 for _ in folder.rglob("*") if _.is_file())
        import nibabel

        written = {"immunopet": tmp / "ours.nii.gz", "SimpleITK": tmp / "sitk.nii.gz", "dcm2niix": tmp / "dcm2niix" / "x.nii.gz"}
        shapes = {name: nibabel.load(path).shape[:3] for name, path in written.items() if name in commands}
        if len(set(shapes.values())) != 1:  # a reference that read fewer slices would flatter it
            print(f"the tools wrote different grids: {shapes}", file=sys.stderr)
            return 1
    what = str(args.series) if args.series else f"{args.size}x{args.size}x{args.slices} int16, one slope per slice"
    cache = "files dropped from the page cache before each run" if args.cold else "files in the page cache"
    print(f"series: {what} ({volume_mb:.0f} MiB float32); median of {args.repeat} alternating runs per tool; {cache}")
    wall = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    peak = {name: max(r[1] for r in rs) for name, rs in runs.items()}
    for name in ("immunopet", "SimpleITK", "dcm2niix"):
        if name not in runs:
            continue
        print(f"{name:10s} {wall[name]:.3f} s   peak RSS {peak[name]:.0f} MiB = {peak[name] / volume_mb:.2f} x volume")
    for other, goal in (("SimpleITK", 1.0), ("dcm2niix", 2.5)):
        if other in wall:
            print(f"ratio immunopet / {other}: {wall['immunopet'] / wall[other]:.2f}  (goal <= {goal})")
    print(f"listing {n_files} files: immunopet inspect --json {wall['inspect']:.3f} s, pydicom header parse "
          f"{wall['pydicom']:.3f} s; ratio {wall['inspect'] / wall['pydicom']:.2f} "
          f"({1000 * wall['inspect'] / n_files:.2f} ms/file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
