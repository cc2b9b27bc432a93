"""The scanner model: resolution (Gaussian PSF) and count-dependent, spatially correlated noise.

Noise model. A voxel holding activity concentration ``C`` (Bq/mL, decay corrected to the scan start)
contributes ``n = C * V * p * T * s`` noise-equivalent counts, with ``V`` the voxel volume (mL), ``p``
the positron fraction of the nuclide (22.7 % for 89Zr), ``T`` the frame duration (s) and ``s`` an
effective noise-equivalent sensitivity (counts per emitted positron, after reconstruction). The image
value gets Gaussian noise of variance ``C**2 / n = C / (V p T s)`` (Poisson-like: variance
proportional to counts), correlated over neighbouring voxels by smoothing white noise with a Gaussian
kernel (``noise_fwhm_mm``) and rescaling it back to unit variance. Values are clipped at zero, as an
OSEM reconstruction gives no negative activity.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def blur(activity: np.ndarray, *, fwhm_mm: float, voxel_mm: float) -> np.ndarray:
    """Convolve with an isotropic Gaussian PSF of ``fwhm_mm`` (``0`` returns a copy)."""
    if fwhm_mm <= 0:
        return activity.astype(np.float32, copy=True)
    sigma = fwhm_mm * FWHM_TO_SIGMA / voxel_mm
    return ndimage.gaussian_filter(activity.astype(np.float32), sigma=sigma, mode="constant")


def correlated_noise(shape: tuple[int, ...], *, fwhm_mm: float, voxel_mm: float,
                     rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian noise smoothed by a Gaussian kernel of ``fwhm_mm``."""
    white = rng.standard_normal(shape, dtype=np.float32)
    if fwhm_mm <= 0:
        return white
    sigma = fwhm_mm * FWHM_TO_SIGMA / voxel_mm
    smooth = ndimage.gaussian_filter(white, sigma=sigma, mode="wrap")
    impulse = np.zeros((int(8 * sigma) + 3,) * 3, dtype=np.float64)
    impulse[(impulse.shape[0] // 2,) * 3] = 1.0
    kernel = ndimage.gaussian_filter(impulse, sigma=sigma, mode="constant")
    return smooth / np.float32(np.sqrt(np.sum(kernel**2)))


def noise_sd(activity: np.ndarray, *, voxel_ml: float, positron_fraction: float, frame_s: float,
             sensitivity: float) -> np.ndarray:
    """Per-voxel noise SD (Bq/mL) of the counts model: sqrt(C / (V p T s))."""
    return np.sqrt(np.maximum(activity, 0.0) / (voxel_ml * positron_fraction * frame_s * sensitivity))


def acquire(activity: np.ndarray, *, voxel_mm: float, frame_s: float, positron_fraction: float,
            psf_fwhm_mm: float, noise_fwhm_mm: float, sensitivity: float,
            rng: np.random.Generator) -> np.ndarray:
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
    psf_fwhm_mm, noise_fwhm_mm
        Resolution of the image and correlation length of its noise.
    sensitivity
        Noise-equivalent counts per emitted positron (see module docstring).
    rng
        The random stream of this scan.
    """
    blurred = blur(activity, fwhm_mm=psf_fwhm_mm, voxel_mm=voxel_mm)
    sd = noise_sd(blurred, voxel_ml=voxel_mm**3 / 1000.0, positron_fraction=positron_fraction,
                  frame_s=frame_s, sensitivity=sensitivity)
    noise = correlated_noise(activity.shape, fwhm_mm=noise_fwhm_mm, voxel_mm=voxel_mm, rng=rng)
    return np.maximum(blurred + sd.astype(np.float32) * noise, 0.0).astype(np.float32)
