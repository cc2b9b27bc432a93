"""Benchmark: all VOI metrics (incl. both SUVpeaks) for 50 VOIs on a whole-body PET volume.

Reference on the same input in the same run: SimpleITK's LabelStatisticsImageFilter (mean, SD,
min, max, sum, count; with histograms also the median), which has no SUVpeak. Prints the times and
their ratio. Run: ``.venv/bin/python benchmarks/bench_voi_metrics.py``
"""

from __future__ import annotations

import time

import numpy as np
import SimpleITK as sitk

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


def main() -> None:
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
    suv, labels, names = phantom()
    present = [n for n in names if (labels == n).any()]
    masks = {names[n]: labels == n for n in present}
    print(f"volume {SHAPE} ({np.prod(SHAPE) / 1e6:.0f} M voxels), {len(masks)} VOIs "
          f"({sum(int(m.sum()) for m in masks.values())} VOI voxels)", flush=True)

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
    print(f"immunopet measure_masks, all metrics incl. SUVpeak (global + local): {ours:.3f} s")
    print(f"SimpleITK LabelStatistics (mean/SD/min/max/count):                  {plain:.3f} s  "
          f"ratio {ours / plain:.2f}")
    print(f"SimpleITK LabelStatistics with histograms (adds median):            {with_median:.3f} s  "
          f"ratio {ours / with_median:.2f}")
    print(f"largest relative difference to SimpleITK (SUVmean, SD, SUVmax): {worst:.2e}")


if __name__ == "__main__":
    main()
