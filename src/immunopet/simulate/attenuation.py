"""How much attenuation raises the image noise of each voxel: a map from the CT.

An OSEM voxel's variance is about its value over its sensitivity, the share of its annihilations
that reach the detectors (Barrett, Wilson and Tsui, Phys Med Biol 1994: variance ~ mean / sensitivity
for the EM algorithm), and the sensitivity falls with the attenuation along the lines of response
through the voxel. So a deep voxel (a lumbar vertebral body behind 30 cm of abdomen) is noisier than
a voxel of the same activity near the skin or in the chest, where the lungs attenuate little.

The map (:func:`variance_factor`) is, per voxel, the mean attenuation correction factor of the lines
of response through it, as a harmonic mean (the sensitivity is the mean survival probability
``exp(-integral of mu)``), over the two transverse directions of the grid (left-right and
anterior-posterior; the lines of one direction through a voxel share one integral, the whole row
or column), divided by its mean over the body: 1 for the body's average voxel. Linear attenuation
coefficients at 511 keV from the CT by the bilinear scaling of Carney et al. (Med Phys 2006;
33:976-983, 120 kVp): ``9.6e-5 (HU + 1000)`` per cm up to 47 HU, ``5.10e-5 (HU + 1000) + 4.71e-2``
above (bone).
"""

from __future__ import annotations

import numpy as np

#: Carney et al. 2006, 120 kVp: break point (HU), slope and intercept above it (per cm).
BREAK_HU = 47.0
WATER_SLOPE = 9.6e-5
BONE_SLOPE, BONE_INTERCEPT = 5.10e-5, 4.71e-2
#: Voxels above this HU are the body (the mean of the map over them is 1).
BODY_HU = -500.0


def mu_511(hu: np.ndarray) -> np.ndarray:
    """Linear attenuation coefficient at 511 keV (per cm) from CT numbers (bilinear, Carney et al. 2006)."""
    shifted = np.maximum(np.asarray(hu, dtype=np.float32) + 1000.0, 0.0)
    return np.where(hu <= BREAK_HU, WATER_SLOPE * shifted, BONE_SLOPE * shifted + BONE_INTERCEPT).astype(np.float32)


def variance_factor(hu: np.ndarray, voxel_mm: float, *, power: float = 1.0) -> np.ndarray:
    """Relative noise variance of every voxel from attenuation (module docstring), ``(I, J, K)`` like ``hu``
    (axes: left-right, anterior-posterior, head-feet), to the power ``power`` (0: no effect, all ones)."""
    if power == 0:
        return np.ones(hu.shape, dtype=np.float32)
    mu = mu_511(hu) * np.float32(voxel_mm / 10.0)  # per voxel
    lateral = np.exp(-mu.sum(axis=0, keepdims=True, dtype=np.float64))  # survival along each row
    frontal = np.exp(-mu.sum(axis=1, keepdims=True, dtype=np.float64))
    factor = 2.0 / (lateral + frontal)  # harmonic mean of the two correction factors
    factor = np.broadcast_to(factor, hu.shape)
    body = hu > BODY_HU
    scale = float(factor[body].mean()) if body.any() else 1.0
    return ((factor / scale) ** power).astype(np.float32)


def noise_variance_factor(hu: np.ndarray, voxel_mm: float, power: float) -> np.ndarray | None:
    """The map :func:`variance_factor` for the noise model's ``power``, or ``None`` when attenuation
    does not enter the noise (``power`` 0): the noise functions then skip the factor."""
    return variance_factor(hu, voxel_mm, power=power) if power else None
