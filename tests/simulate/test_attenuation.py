"""The attenuation map of the noise: mu at 511 keV from CT numbers, the harmonic mean of the correction
factors along the rows and columns through each voxel, and its effect on the noise."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.simulate.attenuation import mu_511, variance_factor
from immunopet.simulate.scanner import NoiseModel, noise_field


def test_mu_at_511_kev_of_air_water_and_bone():
    """Carney et al. 2006 at 120 kVp: 0 for air, 0.096 / cm for water, 0.149 / cm at 1000 HU."""
    assert mu_511(np.array([-1000.0, 0.0, 1000.0])) == pytest.approx([0.0, 0.096, 5.10e-5 * 2000 + 4.71e-2], rel=1e-6)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**16), voxel_mm=st.floats(2.0, 10.0), power=st.sampled_from([0.5, 1.0, 2.0]))
def test_the_map_is_the_harmonic_mean_of_the_row_and_column_correction_factors(seed, voxel_mm, power):
    rng = np.random.default_rng(seed)
    hu = rng.choice([-1000.0, -800.0, 0.0, 40.0, 700.0], size=(5, 4, 3))
    hu[2, 2, :] = 0.0  # the body is never empty
    mu = mu_511(hu) * voxel_mm / 10.0
    raw = np.zeros(hu.shape)
    for i, j, k in itertools.product(*map(range, hu.shape)):
        row, column = np.exp(mu[:, j, k].sum()), np.exp(mu[i, :, k].sum())  # correction factors
        raw[i, j, k] = 2.0 / (1.0 / row + 1.0 / column)
    expected = (raw / raw[hu > -500].mean()) ** power
    assert variance_factor(hu, voxel_mm, power=power) == pytest.approx(expected, rel=1e-5)


def test_power_zero_is_no_attenuation_effect():
    hu = np.zeros((4, 4, 4))
    assert (variance_factor(hu, 4.0, power=0.0) == 1.0).all()


def test_the_variance_factor_scales_the_noise_variance():
    model = NoiseModel(sensitivity=0.01, short_fwhm_mm=0.0, long_fwhm_mm=80.0, long_cv=0.0, alpha=1.0)
    flat = np.full((40, 40, 40), 100.0, dtype=np.float32)
    kwargs = dict(voxel_mm=4.0, frame_s=300.0, positron_fraction=0.2274, model=model)
    plain = noise_field(flat, rng=np.random.default_rng(3), **kwargs)
    deep = noise_field(flat, rng=np.random.default_rng(3), variance_factor=np.full(flat.shape, 4.0, np.float32), **kwargs)
    assert np.allclose(deep, 2.0 * plain, rtol=1e-5)  # 4x the variance: 2x the SD, the same draw


def test_the_lumbar_marrow_is_noisier_than_the_blood_pool_in_the_phantom():
    """Behind the abdomen (lumbar vertebral body) the correction factor is larger than in the
    mediastinum, where the lungs attenuate little: 1.5-1.7x on three default phantoms."""
    from immunopet.simulate.cohort import STREAM_IMAGE, draw_cohort, patient_rng
    from immunopet.simulate.phantom import build_phantom
    from immunopet.simulate.repeatability import sphere_mask

    cohort = draw_cohort(1, 1, days=(7.0,))
    subject = cohort.subjects.iloc[0]
    lesions = cohort.lesions[cohort.lesions.patient_id == subject["patient_id"]].reset_index(drop=True)
    phantom = build_phantom(pd.Series(subject), lesions, cohort.params, quick=True,
                            rng=patient_rng(1, int(subject["index"]), STREAM_IMAGE))
    factor = variance_factor(phantom.hu, float(phantom.affine[0, 0]))
    at = {name: factor[sphere_mask(phantom.labels.shape, phantom.affine, phantom.body.landmarks[lm], ml)].mean()
          for name, lm, ml in (("blood", "aortic_arch", 2.9), ("marrow", "lumbar_marrow", 8.6))}
    assert 1.3 < at["marrow"] / at["blood"] < 2.0


def test_the_noise_model_takes_no_map_at_power_zero_and_the_map_otherwise():
    from immunopet.simulate.attenuation import noise_variance_factor

    hu = np.zeros((4, 4, 4))
    assert noise_variance_factor(hu, 4.0, 0.0) is None
    assert noise_variance_factor(hu, 4.0, 1.0) == pytest.approx(variance_factor(hu, 4.0, power=1.0))
