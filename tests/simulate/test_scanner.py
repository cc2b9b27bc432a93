"""Scanner model: the PSF keeps counts; the noise has the stated variance, correlation and count
dependence, independently of the voxel size."""

from __future__ import annotations

import numpy as np
import pytest

from immunopet.simulate.scanner import NoiseModel, acquire, blur, correlated_noise, noise_field

SHORT_ONLY = NoiseModel(sensitivity=0.01, short_fwhm_mm=0.0, long_fwhm_mm=80.0, long_cv=0.0, alpha=1.0)


def test_blur_preserves_total_activity_and_has_the_stated_fwhm():
    volume = np.zeros((41, 41, 41), dtype=np.float32)
    volume[20, 20, 20] = 1000.0
    out = blur(volume, fwhm_mm=8.0, voxel_mm=1.0)
    assert np.isclose(out.sum(), 1000.0, rtol=1e-4)
    profile = out[:, 20, 20] / out[20, 20, 20]
    above = np.flatnonzero(profile >= 0.5)
    assert above[-1] - above[0] + 1 in (7, 8, 9)  # ~8 voxels above half maximum


@pytest.mark.parametrize("fwhm_mm", [6.0, 40.0])  # full grid, and the coarse grid of wide kernels
def test_correlated_noise_has_unit_variance_and_is_smooth(fwhm_mm):
    noise = correlated_noise((64, 64, 64), fwhm_mm=fwhm_mm, voxel_mm=2.0, rng=np.random.default_rng(0))
    assert abs(noise.mean()) < 0.2 and abs(noise.std() - 1.0) < 0.1
    neighbour = np.corrcoef(noise[:-1].ravel(), noise[1:].ravel())[0, 1]
    assert neighbour > 0.5


def test_white_noise_variance_is_the_count_statistics_of_each_voxel():
    """alpha = 1, no kernels: var = C / (V p T s) per voxel, i.e. relative SD 1 / sqrt(counts)."""
    rng = np.random.default_rng(1)
    flat = np.full((40, 40, 40), 100.0, dtype=np.float32)
    kwargs = dict(voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, model=SHORT_ONLY, rng=rng)
    sd_low = noise_field(flat, **kwargs).std()
    sd_high = noise_field(16 * flat, **kwargs).std()
    assert sd_high / sd_low == pytest.approx(4.0, rel=0.03)  # 16x the counts -> 4x the SD
    expected = np.sqrt(100.0 / (0.064 * 0.2274 * 300.0 * 0.01))
    assert sd_low == pytest.approx(expected, rel=0.03)


def test_alpha_sets_how_the_noise_grows_with_activity():
    model = NoiseModel(sensitivity=0.01, short_fwhm_mm=0.0, long_fwhm_mm=80.0, long_cv=0.0, alpha=1.8)
    rng = np.random.default_rng(2)
    flat = np.full((32, 32, 32), 100.0, dtype=np.float32)
    kwargs = dict(voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, model=model, rng=rng, reference=100.0)
    ratio = noise_field(9 * flat, **kwargs).std() / noise_field(flat, **kwargs).std()
    assert ratio == pytest.approx(9 ** 0.9, rel=0.03)  # SD ~ C^(alpha / 2)


def test_voi_noise_does_not_depend_on_the_voxel_size():
    """A 64 mL cube has the same noise on a 4 mm and an 8 mm grid (counts, not voxels, set it)."""
    model = NoiseModel(sensitivity=0.01, short_fwhm_mm=5.0, long_fwhm_mm=80.0, long_cv=0.0, alpha=1.0)
    sds = []
    for voxel in (4.0, 8.0):
        n = int(round(40 / voxel))
        means = [noise_field(np.full((3 * n, 3 * n, 3 * n), 50.0, dtype=np.float32), voxel_mm=voxel, frame_s=300.0,
                             positron_fraction=0.2274, model=model, rng=np.random.default_rng(k))[n:2 * n, n:2 * n, n:2 * n].mean()
                 for k in range(200)]
        sds.append(np.std(means))
    assert sds[0] == pytest.approx(sds[1], rel=0.15)
    expected = np.sqrt(50.0 / (64.0 * 0.2274 * 300.0 * 0.01))  # counts of the cube
    assert sds[1] == pytest.approx(expected, rel=0.2)


def test_low_frequency_noise_has_its_relative_sd_at_the_reference_activity():
    model = NoiseModel(sensitivity=1e9, short_fwhm_mm=5.0, long_fwhm_mm=40.0, long_cv=0.1, alpha=2.0)
    flat = np.full((48, 48, 48), 200.0, dtype=np.float32)
    noise = noise_field(flat, voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, model=model,
                        rng=np.random.default_rng(3), reference=200.0)
    assert noise.std() / 200.0 == pytest.approx(0.1, rel=0.2)


def test_acquire_is_unbiased_and_never_negative():
    model = NoiseModel.from_params({"noise_equivalent_sensitivity": 0.0015, "noise_kernel_fwhm_mm": 3.5,
                                    "noise_long_fwhm_mm": 80.0, "noise_long_cv": 0.044, "noise_alpha": 1.5})
    truth = np.full((40, 40, 40), 500.0, dtype=np.float32)
    centres = [acquire(truth, voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, psf_fwhm_mm=6.5, model=model,
                       rng=np.random.default_rng(k))[10:30, 10:30, 10:30].mean() for k in range(20)]
    assert np.mean(centres) == pytest.approx(500.0, rel=0.03)
    image = acquire(truth, voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, psf_fwhm_mm=6.5, model=model,
                    rng=np.random.default_rng(99))
    assert image.min() >= 0.0


def test_add_noise_keeps_mean_and_variance_where_the_grain_exceeds_the_activity():
    """Per-voxel SD about 1.2x the activity (4 mm voxels of a day-7 blood pool): the log-normal grain
    keeps the model's mean and variance and is never negative (clipping a Gaussian at zero gave
    +15 % in the mean and 0.74x the SD)."""
    from immunopet.simulate.scanner import add_noise

    model = NoiseModel(sensitivity=0.0015, short_fwhm_mm=0.0, long_fwhm_mm=80.0, long_cv=0.0, alpha=1.5)
    flat = np.full((50, 50, 50), 100.0, dtype=np.float32)
    kwargs = dict(voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, model=model, reference=110.0)
    sd = noise_field(flat, rng=np.random.default_rng(4), **kwargs).std()
    expected = np.sqrt(110.0) * (100.0 / 110.0) ** 0.75 / np.sqrt(0.064 * 0.2274 * 300.0 * 0.0015)
    assert sd == pytest.approx(expected, rel=0.02) and expected / 100.0 == pytest.approx(1.2, rel=0.01)
    image = add_noise(flat, rng=np.random.default_rng(5), **kwargs)
    assert image.min() >= 0.0
    se = sd / np.sqrt(image.size)  # of the mean; the SD of a log-normal sample is itself noisy (+-3 %)
    assert abs(image.mean() - 100.0) < 4 * se
    assert image.std() == pytest.approx(sd, rel=0.06)
