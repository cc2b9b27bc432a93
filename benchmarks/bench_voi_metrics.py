"""Benchmark: all VOI metrics (incl. both SUVpeaks) for 50 VOIs on a whole-body PET volume.

Reference on the same input in the same run: SimpleITK's LabelStatisticsImageFilter (mean, SD,
min, max, sum, count; with histograms also the median), which has no SUVpeak. Timed twice:

- as the user waits for it, each as its own process, alternating: ``immunopet measure suv.nii.gz
  --units SUVbw --mask labels.nii.gz --labels labels.csv --csv`` against a Python process that reads
  the same two NIfTI files with SimpleITK and prints LabelStatistics with histograms as CSV
  (median wall time, ratio, peak resident memory);
- the computation alone, in this process: ``measure_masks`` against LabelStatistics.

Run: ``.venv/bin/python benchmarks/bench_voi_metrics.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

from bench_dicom_load import run_timed
from immunopet.image import Image
from immunopet.voi import measure_masks

SHAPE = (200, 200, 400)
SPACING = (4.0, 4.0, 2.5)  # mm: 80 x 80 x 100 cm field of view
ORGANS = {  # name: (centre mm, semi-axes mm, SUV)
    "brain": ((400, 400, 930), (70, 85, 60), 6.0), "lung_left": ((520, 430, 640), (60, 80, 110), 0.6),
    "lung_right": ((280, 430, 640), (65, 80, 110), 0.6), "heart": ((440, 360, 600), (50, 45, 50), 3.0),
    "liver": ((300, 400, 470), (90, 75, 70), 2.5), "spleen": ((540, 470, 480), (40, 35, 55), 2.2),
    "kidney_left": ((480, 480, 400), (25, 25, 50), 3.5), "kidney_right": ((320, 480, 390), (25, 25, 50), 3.5),
    "bladder": ((400, 380, 120), (40, 35, 35), 12.0), "muscle": ((300, 420, 60), (40, 40, 50), 0.8),
}


def phantom(seed: int = 0) -> tuple[Image, np.ndarray, dict[int, str]]:
    rng = np.random.default_rng(seed)
    affine = np.diag([*SPACING, 1.0])
    centres = [np.arange(n) * s for n, s in zip(SHAPE, SPACING)]
    x, y, z = np.meshgrid(*centres, indexing="ij", sparse=True)
    suv = np.full(SHAPE, 0.3, np.float32)
    labels = np.zeros(SHAPE, np.uint8)
    names: dict[int, str] = {}
    inside_body = ((x - 400) / 190) ** 2 + ((y - 400) / 140) ** 2 <= 1
    suv[np.broadcast_to(inside_body, SHAPE)] = 1.0
    for n, (name, (c, r, value)) in enumerate(ORGANS.items(), start=1):
        ell = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2 <= 1
        suv[ell], labels[ell & (labels == 0)], names[n] = value, n, name
    for n in range(len(ORGANS) + 1, 51):  # 40 lesions, 1-50 mL spheres, anywhere in the body
        radius = (3 * rng.uniform(1, 50) * 1000 / (4 * np.pi)) ** (1 / 3)
        c = rng.uniform([230, 300, 150], [570, 500, 850])
        ball = (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 <= radius**2
        suv[ball] = rng.uniform(3, 15)
        labels[ball] = n
        names[n] = f"L{n - len(ORGANS)}"
    suv += rng.normal(0, 0.15, SHAPE).astype(np.float32) * suv
    return Image(suv, affine, "SUVbw"), labels, names


def best_of(repeats: int, job) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        job()
        times.append(time.perf_counter() - start)
    return min(times)


SITK_SCRIPT = """
import sys, SimpleITK as sitk
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
image, labels = sitk.ReadImage(sys.argv[1]), sitk.ReadImage(sys.argv[2])
f = sitk.LabelStatisticsImageFilter()
f.SetUseHistograms(True)
f.Execute(image, labels)
print("label,mean,sd,min,max,count,median")
for n in f.GetLabels():
    if n:
        print(n, f.GetMean(n), f.GetSigma(n), f.GetMinimum(n), f.GetMaximum(n), f.GetCount(n), f.GetMedian(n), sep=",")
"""


def time_commands(suv: Image, labels: np.ndarray, names: dict[int, str], repeat: int) -> None:
    """The whole commands, each as a process: read both NIfTI files, compute, print CSV."""
    import nibabel as nib

    with tempfile.TemporaryDirectory(prefix="bench-voi-") as tmp_name:
        tmp = Path(tmp_name)
        nib.save(suv.to_nifti(), tmp / "suv.nii.gz")
        nib.save(Image(labels, suv.affine).to_nifti(), tmp / "labels.nii.gz")
        (tmp / "labels.csv").write_text("label,name\n" + "".join(f"{n},{name}\n" for n, name in names.items()))
        commands = {
            "immunopet": [sys.executable, "-m", "immunopet.cli", "-q", "measure", str(tmp / "suv.nii.gz"), "--units",
                          "SUVbw", "--mask", str(tmp / "labels.nii.gz"), "--labels", str(tmp / "labels.csv"), "--csv"],
            "SimpleITK": [sys.executable, "-c", SITK_SCRIPT, str(tmp / "suv.nii.gz"), str(tmp / "labels.nii.gz")],
        }
        for command in commands.values():  # warm-up: file cache, .pyc files
            run_timed(command, tmp)
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(repeat):  # alternating, so machine load hits both alike
            for name, command in commands.items():
                runs[name].append(run_timed(command, tmp))
    wall = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    volume_mb = suv.array.size * 4 / 2**20
    print(f"whole command as a process (read both NIfTI, compute, print CSV), median of {repeat} alternating runs:")
    for name, rs in runs.items():
        peak = max(r[1] for r in rs)
        print(f"  {name:10s} {wall[name]:.3f} s   peak RSS {peak:.0f} MiB = {peak / volume_mb:.2f} x volume")
    print(f"  ratio immunopet measure / SimpleITK (with histograms): {wall['immunopet'] / wall['SimpleITK']:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
    suv, labels, names = phantom()
    present = [n for n in names if (labels == n).any()]
    masks = {names[n]: labels == n for n in present}
    print(f"volume {SHAPE} ({np.prod(SHAPE) / 1e6:.0f} M voxels), {len(masks)} VOIs "
          f"({sum(int(m.sum()) for m in masks.values())} VOI voxels)", flush=True)
    time_commands(suv, labels, {n: names[n] for n in present}, args.repeat)

    ours = best_of(3, lambda: measure_masks(suv, masks))
    table = measure_masks(suv, masks)

    image, label_image = suv.to_sitk(), Image(labels, suv.affine).to_sitk()

    def reference(histograms: bool) -> None:
        f = sitk.LabelStatisticsImageFilter()
        f.SetUseHistograms(histograms)
        f.Execute(image, label_image)
        [(f.GetMean(n), f.GetSigma(n), f.GetMinimum(n), f.GetMaximum(n), f.GetCount(n)) for n in present]
        if histograms:
            [f.GetMedian(n) for n in present]

    plain = best_of(3, lambda: reference(False))
    with_median = best_of(3, lambda: reference(True))

    f = sitk.LabelStatisticsImageFilter()
    f.Execute(image, label_image)
    by_name = table.set_index("voi_id")
    worst = max(
        max(abs(f.GetMean(n) - by_name.loc[names[n], "suv_mean"]) / f.GetMean(n),
            abs(f.GetSigma(n) * np.sqrt((f.GetCount(n) - 1) / f.GetCount(n)) - by_name.loc[names[n], "suv_sd"])
            / f.GetSigma(n),  # SimpleITK's sigma is the sample SD (ddof 1); ours ddof 0
            abs(f.GetMaximum(n) - by_name.loc[names[n], "suv_max"]) / f.GetMaximum(n))
        for n in present
    )
    print("computation alone, in this process (best of 3):")
    print(f"immunopet measure_masks, all metrics incl. SUVpeak (global + local): {ours:.3f} s")
    print(f"SimpleITK LabelStatistics (mean/SD/min/max/count):                  {plain:.3f} s  "
          f"ratio {ours / plain:.2f}")
    print(f"SimpleITK LabelStatistics with histograms (adds median):            {with_median:.3f} s  "
          f"ratio {ours / with_median:.2f}")
    print(f"largest relative difference to SimpleITK (SUVmean, SD, SUVmax): {worst:.2e}")


if __name__ == "__main__":
    main()
