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

Values are clipped at zero, as an OSEM image has no negative activity. Every function is voxel-size
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

    @classmethod
    def from_params(cls, sc: dict[str, Any]) -> NoiseModel:
        return cls(float(sc["noise_equivalent_sensitivity"]), float(sc["noise_kernel_fwhm_mm"]),
                   float(sc["noise_long_fwhm_mm"]), float(sc["noise_long_cv"]), float(sc["noise_alpha"]))


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


def noise_amplitude(activity: np.ndarray, *, reference: float, alpha: float) -> np.ndarray:
    """``a(x) = sqrt(C_ref) (C / C_ref)^(alpha / 2)``, the local noise scale (Bq/mL per sqrt(Bq/mL))."""
    ratio = np.maximum(activity, 0.0) / np.float32(reference)
    return (np.float32(np.sqrt(reference)) * ratio ** np.float32(alpha / 2.0)).astype(np.float32)


def noise_field(activity: np.ndarray, *, voxel_mm: float, frame_s: float, positron_fraction: float,
                model: NoiseModel, rng: np.random.Generator, reference: float | None = None) -> np.ndarray:
    """The additive noise (Bq/mL) of one reconstruction of ``activity`` (already blurred)."""
    ref = body_reference(activity) if reference is None else float(reference)
    amplitude = noise_amplitude(activity, reference=ref, alpha=model.alpha)
    voxel_ml = voxel_mm**3 / 1000.0
    short = correlated_noise(activity.shape, fwhm_mm=model.short_fwhm_mm, voxel_mm=voxel_mm, rng=rng)
    short *= np.float32(np.sqrt(kernel_density(model.short_fwhm_mm, voxel_mm) / voxel_ml
                                / (positron_fraction * frame_s * model.sensitivity)))
    if model.long_cv > 0:
        long = correlated_noise(activity.shape, fwhm_mm=model.long_fwhm_mm, voxel_mm=voxel_mm, rng=rng)
        short += long * np.float32(model.long_cv * np.sqrt(ref))
    return amplitude * short


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
              rng: np.random.Generator, reference: float) -> np.ndarray:
    """The noise step of :func:`acquire` on an image already blurred by the PSF, clipped at zero: for
    several noise draws of one truth (test-retest), which blur once."""
    noise = noise_field(blurred, voxel_mm=voxel_mm, frame_s=frame_s, positron_fraction=positron_fraction,
                        model=model, rng=rng, reference=reference)
    return np.maximum(blurred + noise, 0.0).astype(np.float32)
