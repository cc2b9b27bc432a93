"""The scanner model: resolution (Gaussian PSF) and a reconstruction-like, count-dependent noise.

Noise model (docs/simulator.md, "Scanner and noise"). The blurred activity ``C`` (Bq/mL, decay
corrected to the scan start) gets additive noise

    n(x) = a(x) * [ S(x) / sqrt(p T s)  +  L(x) * long_cv * sqrt(C_ref) ],
    a(x) = sqrt(C_ref) * (C(x) / C_ref) ** (alpha / 2),

- ``S``: white noise of unit density per mL (variance ``1 / V_voxel`` per voxel) smoothed by a
  Gaussian of ``short_fwhm_mm``: the grain of an OSEM image. For a VOI much larger than that kernel
  it gives the count statistics of the VOI: relative variance ``1 / (C V p T s)`` at ``C = C_ref``
  (``p`` positron fraction, ``T`` frame time, ``s`` noise-equivalent counts per emitted positron).
- ``L``: unit-variance noise smoothed by a wide Gaussian (``long_fwhm_mm``): the low-frequency
  noise of an iterative reconstruction, which does not average out within an organ. Its relative SD
  is ``long_cv`` at ``C = C_ref``.
- ``C_ref``: the mean activity of the body in this scan (the counts of the whole acquisition set
  the noise level), and ``alpha`` between 1 (Poisson-like: variance proportional to activity) and 2
  (multiplicative noise, as the EM algorithm tends to: Barrett et al., Phys Med Biol 1994), so the
  relative noise is larger in regions of low activity.

The image is never negative, as an OSEM image: the low-frequency noise is added (clipped at zero) and
the grain is a log-normal factor of mean 1 and the grain's variance (EM voxel values are approximately
log-normal, Barrett et al. 1994). Clipping the Gaussian grain at zero instead would bias VOI means
upwards and cut their variance where the grain's SD approaches the activity (4 mm voxels of the
day-7 blood pool: +5 to +18 % and -20 % in RC; docs/simulator-repeatability.md). Every function is voxel-size
independent: a VOI of a given volume has the same noise on a 4 mm and an 8 mm grid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


@dataclass(frozen=True)
class NoiseModel:
    """Parameters of the noise (``scanner`` section of params.yaml)."""

    sensitivity: float
    short_fwhm_mm: float
    long_fwhm_mm: float
    long_cv: float
    alpha: float
    attenuation_power: float = 0.0  # variance ~ f^power, f from attenuation (immunopet.simulate.attenuation)

    @classmethod
    def from_params(cls, sc: dict[str, Any]) -> NoiseModel:
        return cls(float(sc["noise_equivalent_sensitivity"]), float(sc["noise_kernel_fwhm_mm"]),
                   float(sc["noise_long_fwhm_mm"]), float(sc["noise_long_cv"]), float(sc["noise_alpha"]),
                   float(sc.get("noise_attenuation_power", 0.0)))


def blur(activity: np.ndarray, *, fwhm_mm: float, voxel_mm: float) -> np.ndarray:
    """Convolve with an isotropic Gaussian PSF of ``fwhm_mm`` (``0`` returns a copy)."""
    if fwhm_mm <= 0:
        return activity.astype(np.float32, copy=True)
    sigma = fwhm_mm * FWHM_TO_SIGMA / voxel_mm
    return ndimage.gaussian_filter(activity.astype(np.float32), sigma=sigma, mode="constant")


def kernel_sum_of_squares(sigma_voxels: float) -> float:
    """Sum of the squared weights of ``ndimage.gaussian_filter`` with this sigma (3-D)."""
    if sigma_voxels <= 0:
        return 1.0
    half = int(4.0 * sigma_voxels + 0.5)
    impulse = np.zeros(2 * half + 1)
    impulse[half] = 1.0
    weights = ndimage.gaussian_filter1d(impulse, sigma_voxels, mode="constant")
    return float(np.sum(weights**2)) ** 3


def correlated_noise(shape: tuple[int, ...], *, fwhm_mm: float, voxel_mm: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian noise smoothed by a Gaussian kernel of ``fwhm_mm``.

    Wide kernels are applied on a coarser grid (white noise of the same density) and interpolated
    back, which keeps the correlation and costs a fraction of the full-grid filter.
    """
    if fwhm_mm <= 0:
        return rng.standard_normal(shape, dtype=np.float32)
    sigma = fwhm_mm * FWHM_TO_SIGMA / voxel_mm
    step = max(1, int(sigma // 2.5))
    if step == 1:
        smooth = ndimage.gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma=sigma, mode="wrap")
        return smooth / np.float32(np.sqrt(kernel_sum_of_squares(sigma)))
    coarse_shape = tuple(int(np.ceil(n / step)) + 2 for n in shape)
    coarse = ndimage.gaussian_filter(rng.standard_normal(coarse_shape, dtype=np.float32), sigma=sigma / step,
                                     mode="wrap")
    coarse /= np.float32(np.sqrt(kernel_sum_of_squares(sigma / step)))
    fine = ndimage.zoom(coarse, step, order=1, grid_mode=True, mode="grid-wrap")
    return np.ascontiguousarray(fine[tuple(slice(0, n) for n in shape)], dtype=np.float32)


def body_reference(activity: np.ndarray) -> float:
    """``C_ref``: the mean activity of the voxels that hold any (the body)."""
    inside = activity > 0
    return float(activity[inside].mean()) if inside.any() else 1.0


def noise_amplitude(activity: np.ndarray, *, reference: float, alpha: float,
                    variance_factor: np.ndarray | None = None) -> np.ndarray:
    """``a(x) = sqrt(C_ref) (C / C_ref)^(alpha / 2) sqrt(f(x))``, the local noise scale (Bq/mL per
    sqrt(Bq/mL)); ``f`` the relative variance from attenuation (:mod:`immunopet.simulate.attenuation`),
    1 when not given."""
    ratio = np.maximum(activity, 0.0) / np.float32(reference)
    amplitude = np.float32(np.sqrt(reference)) * ratio ** np.float32(alpha / 2.0)
    if variance_factor is not None:
        amplitude = amplitude * np.sqrt(variance_factor, dtype=np.float32)
    return amplitude.astype(np.float32)


def noise_parts(activity: np.ndarray, *, voxel_mm: float, frame_s: float, positron_fraction: float,
                model: NoiseModel, rng: np.random.Generator, reference: float | None = None,
                variance_factor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two noise components of one reconstruction of ``activity`` (already blurred).

    Returns
    -------
    short, short_sd, long
        The unit-variance grain field ``S`` (correlated by the short kernel), its per-voxel SD
        (``a(x) / sqrt(p T s)`` per mL, Bq/mL) and the low-frequency noise ``a(x) L(x) long_cv sqrt(C_ref)`` (Bq/mL).
    """
    ref = body_reference(activity) if reference is None else float(reference)
    amplitude = noise_amplitude(activity, reference=ref, alpha=model.alpha, variance_factor=variance_factor)
    short = correlated_noise(activity.shape, fwhm_mm=model.short_fwhm_mm, voxel_mm=voxel_mm, rng=rng)
    short_sd = amplitude * grain_scale(model, voxel_mm=voxel_mm, frame_s=frame_s, positron_fraction=positron_fraction)
    long = np.zeros_like(short)
    if model.long_cv > 0:
        long = correlated_noise(activity.shape, fwhm_mm=model.long_fwhm_mm, voxel_mm=voxel_mm, rng=rng)
        long *= amplitude * np.float32(model.long_cv * np.sqrt(ref))
    return short, short_sd, long


def noise_field(activity: np.ndarray, *, voxel_mm: float, frame_s: float, positron_fraction: float,
                model: NoiseModel, rng: np.random.Generator, reference: float | None = None,
                variance_factor: np.ndarray | None = None) -> np.ndarray:
    """The additive Gaussian noise (Bq/mL) of the model, ``short_sd S + long``: the second moments that
    :func:`add_noise` gives its non-negative image."""
    short, short_sd, long = noise_parts(activity, voxel_mm=voxel_mm, frame_s=frame_s,
                                        positron_fraction=positron_fraction, model=model, rng=rng, reference=reference,
                                        variance_factor=variance_factor)
    return short_sd * short + long


def grain_scale(model: NoiseModel, *, voxel_mm: float, frame_s: float, positron_fraction: float) -> np.float32:
    """The grain's SD per unit noise amplitude: ``1 / sqrt(p T s)`` per mL, with the correlation kernel's
    density (so that a VOI's noise does not depend on the voxel size)."""
    voxel_ml = voxel_mm**3 / 1000.0
    return np.float32(np.sqrt(kernel_density(model.short_fwhm_mm, voxel_mm) / voxel_ml
                              / (positron_fraction * frame_s * model.sensitivity)))


def grain_log_sd(activity: np.ndarray, short_sd: np.ndarray) -> np.ndarray:
    """SD of the log-normal grain factor with relative variance ``(short_sd / C)^2``: sqrt(ln(1 + cv^2))
    (0 where there is no activity)."""
    cv = np.divide(short_sd, activity, out=np.zeros_like(short_sd), where=activity > 0)
    return np.sqrt(np.log1p(cv * cv))


def kernel_density(fwhm_mm: float, voxel_mm: float) -> float:
    """Per-voxel variance of unit-density white noise after the kernel, times the voxel volume
    (the sum of squared discrete weights); ``correlated_noise`` divides it out."""
    return kernel_sum_of_squares(fwhm_mm * FWHM_TO_SIGMA / voxel_mm) if fwhm_mm > 0 else 1.0


def acquire(activity: np.ndarray, *, voxel_mm: float, frame_s: float, positron_fraction: float,
            psf_fwhm_mm: float, model: NoiseModel, rng: np.random.Generator,
            reference: float | None = None) -> np.ndarray:
    """A reconstructed PET image (Bq/mL, float32) from a true activity map (Bq/mL).

    Parameters
    ----------
    activity
        True activity concentration, decay corrected to the scan start.
    voxel_mm
        Isotropic voxel size.
    frame_s
        Acquisition time per bed position (s).
    positron_fraction
        Positrons per decay.
    psf_fwhm_mm
        Resolution of the image.
    model
        The noise parameters (:class:`NoiseModel`).
    rng
        The random stream of this scan (a retest scan uses another stream on the same truth).
    reference
        ``C_ref`` (Bq/mL); default the body mean of ``activity`` (give it for a crop of a scan).
    """
    ref = body_reference(activity) if reference is None else reference
    return add_noise(blur(activity, fwhm_mm=psf_fwhm_mm, voxel_mm=voxel_mm), voxel_mm=voxel_mm, frame_s=frame_s,
                     positron_fraction=positron_fraction, model=model, rng=rng, reference=ref)


def add_noise(blurred: np.ndarray, *, voxel_mm: float, frame_s: float, positron_fraction: float, model: NoiseModel,
              rng: np.random.Generator, reference: float, variance_factor: np.ndarray | None = None) -> np.ndarray:
    """The noise step of :func:`acquire` on an image already blurred by the PSF: for several noise draws
    of one truth (test-retest), which blur once.

    The low-frequency noise is added (clipped at zero); the grain multiplies it by a log-normal factor
    ``exp(s S - s^2 / 2)`` of mean 1, ``s = grain_log_sd``: the voxel values of an EM reconstruction are
    approximately log-normal (Barrett et al., Phys Med Biol 1994). So every voxel keeps the mean and
    the variance of the model and is never negative, also where the grain's SD exceeds the activity.
    """
    short, short_sd, long = noise_parts(blurred, voxel_mm=voxel_mm, frame_s=frame_s,
                                        positron_fraction=positron_fraction, model=model, rng=rng, reference=reference,
                                        variance_factor=variance_factor)
    log_sd = grain_log_sd(blurred, short_sd)
    return (np.maximum(blurred + long, 0.0) * np.exp(log_sd * short - 0.5 * log_sd * log_sd)).astype(np.float32)
