"""Scanner model: the PSF keeps counts, the noise has unit correlation-corrected variance and scales
with the square root of the activity."""

from __future__ import annotations

import numpy as np

from immunopet.simulate.scanner import acquire, blur, correlated_noise, noise_sd


def test_blur_preserves_total_activity_and_has_the_stated_fwhm():
    volume = np.zeros((41, 41, 41), dtype=np.float32)
    volume[20, 20, 20] = 1000.0
    out = blur(volume, fwhm_mm=8.0, voxel_mm=1.0)
    assert np.isclose(out.sum(), 1000.0, rtol=1e-4)
    profile = out[:, 20, 20] / out[20, 20, 20]
    above = np.flatnonzero(profile >= 0.5)
    assert above[-1] - above[0] + 1 in (7, 8, 9)  # ~8 voxels above half maximum


def test_correlated_noise_has_unit_variance_and_is_smooth():
    rng = np.random.default_rng(0)
    noise = correlated_noise((64, 64, 64), fwhm_mm=6.0, voxel_mm=2.0, rng=rng)
    assert abs(noise.mean()) < 0.05 and abs(noise.std() - 1.0) < 0.05
    neighbour = np.corrcoef(noise[:-1].ravel(), noise[1:].ravel())[0, 1]
    assert neighbour > 0.5


def test_noise_variance_is_proportional_to_counts():
    rng = np.random.default_rng(1)
    low = np.full((48, 48, 48), 100.0, dtype=np.float32)
    kwargs = dict(voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, psf_fwhm_mm=0.0, noise_fwhm_mm=0.0,
                  sensitivity=0.01)
    sd_low = acquire(low, rng=rng, **kwargs).std()
    sd_high = acquire(low * 16, rng=rng, **kwargs).std()
    assert np.isclose(sd_high / sd_low, 4.0, rtol=0.05)  # 16x the counts -> 4x the SD, 1/4 the relative SD
    expected = noise_sd(np.array(100.0), voxel_ml=0.064, positron_fraction=0.2274, frame_s=300.0, sensitivity=0.01)
    assert np.isclose(sd_low, expected, rtol=0.05)
    # the model: relative SD = 1 / sqrt(C V p T s)
    assert np.isclose(expected / 100.0, 1.0 / np.sqrt(100.0 * 0.064 * 0.2274 * 300.0 * 0.01))


def test_acquire_is_unbiased_and_never_negative():
    rng = np.random.default_rng(2)
    truth = np.full((40, 40, 40), 500.0, dtype=np.float32)
    image = acquire(truth, voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, psf_fwhm_mm=6.5,
                    noise_fwhm_mm=5.0, sensitivity=0.01, rng=rng)
    centre = image[10:30, 10:30, 10:30]
    assert np.isclose(centre.mean(), 500.0, rtol=0.02)
    assert image.min() >= 0.0
