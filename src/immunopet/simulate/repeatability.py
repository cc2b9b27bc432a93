"""Test-retest repeatability of the simulated images: two noise draws of the same truth.

The repeatability coefficient of a metric is ``RC = 100 * 1.96 * SD(d)`` (%), ``d = (a - b) / mean(a, b)``
the relative difference of a pair (Bland-Altman; Jauw et al., Mol Imaging Biol 2018 report it for
split list-mode reconstructions of 89Zr scans). For the mean of a VOI the RC also follows in closed
form from the noise model (:func:`analytic_rc`): the voxels' log-normal grain gives
``var(sum) = sum_ij C_i C_j (exp(rho_ij s_i s_j) - 1)`` and the low-frequency noise, a linear filter of
white noise, ``sum_j (g * (m a))_j^2`` (``g`` its kernel, ``m`` the VOI, ``a`` the local noise scale).
Each VOI is simulated on a crop of the scan (the VOI plus the reach of the PSF
and of the noise kernels), with the noise level ``C_ref`` of the whole scan, so many draws are cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage

from immunopet.simulate.canvas import grown_box
from immunopet.simulate.scanner import (FWHM_TO_SIGMA, NoiseModel, add_noise, blur, body_reference, grain_log_sd,
                                       grain_scale, kernel_sum_of_squares, noise_amplitude)

#: VOI classes and the metrics their RC is reported for.
CLASS_METRICS = {"tumour": ("suv_max", "suv_peak", "suv_mean"), "blood_pool": ("suv_mean",),
                 "bone_marrow": ("suv_mean",), "liver": ("suv_mean",)}


def target_key(voi_class: str, metric: str) -> str:
    """Key of ``scanner.repeatability_targets`` for a VOI class and metric."""
    return f"tumour_{metric}" if voi_class == "tumour" else voi_class


def relative_rc(first: np.ndarray, second: np.ndarray) -> float:
    """``100 * 1.96 * SD`` of the relative differences of pairs (%)."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    d = (a - b) / ((a + b) / 2.0)
    return float(100.0 * 1.96 * np.std(d, ddof=1))


@dataclass(frozen=True)
class RetestVoi:
    """One VOI of one scan: its class, the crop of the true activity around it and its mask there."""

    voi_class: str
    voi_id: str
    activity: np.ndarray
    mask: np.ndarray
    factor: np.ndarray | None = None  # relative noise variance from attenuation, same crop


def sphere_mask(shape: Sequence[int], affine: np.ndarray, centre_mm: Sequence[float], volume_ml: float) -> np.ndarray:
    """Voxels whose centres lie within the sphere of ``volume_ml`` around ``centre_mm`` (LPS)."""
    radius = (3000.0 * volume_ml / (4.0 * np.pi)) ** (1.0 / 3.0)
    axes = [affine[d, 3] + affine[d, d] * np.arange(shape[d]) for d in range(3)]
    x, y, z = axes[0][:, None, None], axes[1][None, :, None], axes[2][None, None, :]
    return (x - centre_mm[0]) ** 2 + (y - centre_mm[1]) ** 2 + (z - centre_mm[2]) ** 2 <= radius * radius


def crop(activity: np.ndarray, mask: np.ndarray, margin: int,
         factor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The bounding box of ``mask`` grown by ``margin`` voxels, of the arrays (``factor`` may be None)."""
    box = grown_box(ndimage.find_objects(mask.astype(np.uint8))[0], margin, mask.shape)
    return activity[box], mask[box], None if factor is None else factor[box]


def margin_voxels(model: NoiseModel, psf_fwhm_mm: float, voxel_mm: float) -> int:
    """How far the PSF and the noise kernels reach (2 SD of the widest: the squared kernel, which sets
    the variance, has fallen to 2 % there), in voxels."""
    widest = max(psf_fwhm_mm, model.short_fwhm_mm, model.long_fwhm_mm) * FWHM_TO_SIGMA
    return int(np.ceil(2.0 * widest / voxel_mm)) + 1


def voi_values(image: np.ndarray, mask: np.ndarray, voxel_mm: float, metrics: Sequence[str]) -> dict[str, float]:
    """SUV-free metric values of a VOI (Bq/mL): max, global 1 mL peak, mean."""
    from immunopet.voi.peak import peaks

    out = {}
    values = image[mask]
    if "suv_max" in metrics:
        out["suv_max"] = float(values.max())
    if "suv_peak" in metrics:
        affine = np.diag([voxel_mm, voxel_mm, voxel_mm, 1.0])
        out["suv_peak"] = peaks(image, affine, [np.flatnonzero(mask.ravel())])[0][0]
    if "suv_mean" in metrics:
        out["suv_mean"] = float(values.mean())
    return out


def retest_pairs(vois: Sequence[RetestVoi], *, reference: float, voxel_mm: float, frame_s: float,
                 positron_fraction: float, psf_fwhm_mm: float, model: NoiseModel, n_pairs: int,
                 rng: np.random.Generator) -> pd.DataFrame:
    """Metric values of ``n_pairs`` test-retest pairs of every VOI (one row per VOI, pair and metric)."""
    rows = []
    for voi in vois:
        metrics = CLASS_METRICS[voi.voi_class]
        blurred = blur(voi.activity, fwhm_mm=psf_fwhm_mm, voxel_mm=voxel_mm)  # the truth of every draw
        for pair in range(n_pairs):
            draws = [voi_values(add_noise(blurred, voxel_mm=voxel_mm, frame_s=frame_s,
                                          positron_fraction=positron_fraction, model=model, rng=rng,
                                          reference=reference, variance_factor=voi.factor), voi.mask, voxel_mm, metrics)
                     for _ in range(2)]
            rows += [{"voi_class": voi.voi_class, "voi_id": voi.voi_id, "pair": pair, "metric": m,
                      "first": draws[0][m], "second": draws[1][m]} for m in metrics]
    return pd.DataFrame(rows)


def grain_correlation(fwhm_mm: float, voxel_mm: float) -> np.ndarray:
    """Correlation of the grain ``S`` between voxels at lags ``-2h..2h`` along one axis (``h`` the
    half-width of the discrete kernel; the 3-D correlation is the product over the axes). Exact for the
    full-grid kernel of ``scanner.correlated_noise``; a grain of sigma >= 5 voxels is drawn on a coarser
    grid, for which it is approximate."""
    if fwhm_mm <= 0:
        return np.ones(1)
    sigma = fwhm_mm * FWHM_TO_SIGMA / voxel_mm
    half = int(4.0 * sigma + 0.5)
    impulse = np.zeros(2 * half + 1)
    impulse[half] = 1.0
    g = ndimage.gaussian_filter1d(impulse, sigma, mode="constant")
    auto = np.correlate(g, g, mode="full")
    return auto / auto[2 * half]


def lognormal_sum_variance(mean: np.ndarray, log_sd: np.ndarray, correlation: np.ndarray) -> float:
    """Variance of the sum of ``mean * exp(s S - s^2/2)`` over the voxels where ``mean > 0`` (zero
    elsewhere), ``S`` unit normal with the separable correlation ``correlation`` (odd length, one axis):
    ``sum_ij m_i m_j (exp(rho_ij s_i s_j) - 1)``, exact for log-normal voxels.

    Summed as the series ``sum_k sum_ij (m s^k)_i (m s^k)_j rho_ij^k / k!``; ``rho^k`` is separable too,
    so each term is three 1-D correlations. The terms are positive and fall like ``max(s^2)^k / k!``.
    """
    total, k, factorial = 0.0, 0, 1.0
    while True:
        k += 1
        factorial *= k
        weights = mean * log_sd**k
        spread = weights
        for axis in range(3):
            spread = ndimage.correlate1d(spread, correlation**k, axis=axis, mode="constant")
        term = float(np.sum(weights * spread)) / factorial
        total += term
        if term <= 1e-9 * total or k >= 200:
            return total


def analytic_rc(voi: RetestVoi, *, reference: float, voxel_mm: float, frame_s: float, positron_fraction: float,
                psf_fwhm_mm: float, model: NoiseModel) -> float:
    """RC (%) of the VOI mean from the noise model in closed form: the log-normal grain
    (:func:`lognormal_sum_variance`) plus the low-frequency noise (a linear filter of white noise;
    ignores its clipping at zero, which needs a relative SD of several ``long_cv``)."""
    blurred = blur(voi.activity, fwhm_mm=psf_fwhm_mm, voxel_mm=voxel_mm).astype(np.float64)
    amplitude = noise_amplitude(blurred, reference=reference, alpha=model.alpha,
                                variance_factor=voi.factor).astype(np.float64)
    short_sd = amplitude * float(grain_scale(model, voxel_mm=voxel_mm, frame_s=frame_s,
                                             positron_fraction=positron_fraction))
    mean = np.where(voi.mask, blurred, 0.0)
    variance = lognormal_sum_variance(mean, grain_log_sd(blurred, short_sd) * voi.mask,
                                      grain_correlation(model.short_fwhm_mm, voxel_mm))
    if model.long_cv > 0:
        sigma = model.long_fwhm_mm * FWHM_TO_SIGMA / voxel_mm
        spread = ndimage.gaussian_filter(voi.mask * amplitude, sigma, mode="constant")
        variance += model.long_cv**2 * reference * float(np.sum(spread**2)) / kernel_sum_of_squares(sigma)
    cv = np.sqrt(variance) / float(mean.sum())
    return float(100.0 * 1.96 * np.sqrt(2.0) * cv)


def summarise(pairs: pd.DataFrame, targets: dict[str, float] | None = None) -> pd.DataFrame:
    """RC per VOI class and metric (with the number of pairs and, if given, the target and ratio)."""
    rows = []
    for (voi_class, metric), group in pairs.groupby(["voi_class", "metric"], sort=False):
        row: dict[str, Any] = {"voi_class": voi_class, "metric": metric, "n_pairs": len(group),
                               "rc_pct": relative_rc(group["first"], group["second"])}
        if targets is not None:
            row["target_pct"] = float(targets[target_key(voi_class, metric)])
            row["ratio"] = row["rc_pct"] / row["target_pct"]
        rows.append(row)
    return pd.DataFrame(rows)


def scan_vois(labels: np.ndarray, activity: np.ndarray, affine: np.ndarray, landmarks: dict[str, Any],
              lesion_ids: Sequence[str], margin: int, factor: np.ndarray | None = None) -> list[RetestVoi]:
    """The calibrated VOIs of one scan: every lesion, the 2.9 mL blood-pool and 8.6 mL marrow spheres
    (the simulator's vois.csv), and the liver label; each as a crop around it."""
    from immunopet.simulate.anatomy import LABELS, LESION_LABEL_OFFSET
    from immunopet.simulate.patient import BLOOD_POOL_ML, BONE_MARROW_ML

    out = []
    for n, lid in enumerate(lesion_ids):
        mask = labels == LESION_LABEL_OFFSET + n + 1
        if mask.sum() >= 8:
            out.append(RetestVoi("tumour", lid, *crop(activity, mask, margin, factor)))
    for name, landmark, ml in (("blood_pool", "aortic_arch", BLOOD_POOL_ML), ("bone_marrow", "lumbar_marrow", BONE_MARROW_ML)):
        sphere = sphere_mask(labels.shape, affine, landmarks[landmark], ml)
        out.append(RetestVoi(name, name, *crop(activity, sphere, margin, factor)))
    out.append(RetestVoi("liver", "liver", *crop(activity, labels == LABELS["liver"], margin, factor)))
    return out


#: Lesions smaller than this (about 3 PSF widths) are left out of the tumour RC, as a quantitative
#: 89Zr study leaves out lesions too small to measure (their partial-volume loss makes them noisier).
MIN_LESION_MM = 20.0


def cohort_retest(n_patients: int, seed: int, *, day: float = 7.0, n_pairs: int = 4,
                  params: dict[str, Any] | None = None, analytic: bool = True,
                  min_lesion_mm: float = MIN_LESION_MM,
                  classes: Sequence[str] = tuple(CLASS_METRICS)) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Test-retest of the day-``day`` scans of the first ``n_patients`` of ``draw_cohort(n, seed)``
    (lesions of at least ``min_lesion_mm`` baseline diameter; the VOI classes ``classes``).

    Returns
    -------
    pairs, analytic
        The pairs (:func:`retest_pairs`) and, per VOI, the closed-form RC of its mean.
    """
    from immunopet.nuclides import get_nuclide
    from immunopet.simulate.cohort import STREAM_IMAGE, draw_cohort, patient_rng
    from immunopet.simulate.patient import breathe, true_suv
    from immunopet.simulate.kinetics import activity_bqml
    from immunopet.simulate.attenuation import noise_variance_factor
    from immunopet.simulate.phantom import build_phantom

    cohort = draw_cohort(n_patients, seed, params=params, days=(day,))
    p = cohort.params
    nuclide = get_nuclide(p["study"]["nuclide"])
    model = NoiseModel.from_params(p["scanner"])
    psf, frame_s = float(p["scanner"]["psf_fwhm_mm"]), 60.0 * float(p["scanner"]["minutes_per_bed"])
    pairs, closed = [], []
    for subject in cohort.subjects.to_dict("records"):
        pid, index = subject["patient_id"], int(subject["index"])
        lesions = cohort.lesions[cohort.lesions.patient_id == pid].reset_index(drop=True)
        phantom = build_phantom(pd.Series(subject), lesions, p, quick=False, rng=patient_rng(seed, index, STREAM_IMAGE))
        voxel = float(phantom.affine[0, 0])
        hours = float(cohort.scans.loc[cohort.scans.patient_id == pid, "hours_pi"].iloc[0])
        suv = true_suv(phantom.labels, phantom.profile, cohort.organs[cohort.organs.patient_id == pid], lesions, day)
        activity = activity_bqml(suv, injected_bq=subject["injected_bq"], weight_kg=subject["weight_kg"], hours=hours,
                                 half_life_s=nuclide.half_life_s).astype(np.float32)
        reference = body_reference(activity)
        moving = breathe(activity, phantom.labels, lesions["site"].tolist(), p["lesions"]["breathing_mm"], voxel)
        factor = noise_variance_factor(phantom.hu, voxel, model.attenuation_power)
        vois = scan_vois(phantom.labels, moving, phantom.affine, phantom.body.landmarks, lesions["voi_id"].tolist(),
                         margin_voxels(model, psf, voxel), factor)
        small = set(lesions.loc[lesions["baseline_diameter_mm"] < min_lesion_mm, "voi_id"])
        vois = [v for v in vois if v.voi_class in classes and not (v.voi_class == "tumour" and v.voi_id in small)]
        kwargs = dict(reference=reference, voxel_mm=voxel, frame_s=frame_s, positron_fraction=nuclide.positron_fraction,
                      psf_fwhm_mm=psf, model=model)
        rng = np.random.default_rng(np.random.SeedSequence([seed, index, 99]))
        pairs.append(retest_pairs(vois, n_pairs=n_pairs, rng=rng, **kwargs).assign(patient_id=pid))
        if analytic:
            closed += [{"patient_id": pid, "voi_class": v.voi_class, "voi_id": v.voi_id,
                        "rc_pct": analytic_rc(v, **kwargs)} for v in vois]
    return pd.concat(pairs, ignore_index=True), pd.DataFrame(closed)
