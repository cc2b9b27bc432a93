"""The images are binned to the finest registration level before registering: block means that cover
the native image."""

import numpy as np
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.register.pair import binned, coarsest_needed
from immunopet.register.params import RegistrationParams


def test_the_binning_factor_is_the_finest_level_over_the_voxel_size_rounded_down():
    params = RegistrationParams(rigid_levels_mm=(16.0, 8.0))
    assert coarsest_needed(np.array([4.0, 4.0, 3.0]), params) == [2, 2, 2]
    assert coarsest_needed(np.array([2.0, 2.0, 5.0]), params) == [4, 4, 1]
    assert coarsest_needed(np.array([8.0, 10.0, 8.0]), params) == [1, 1, 1]
    deformable = RegistrationParams(rigid_levels_mm=(16.0, 8.0), deformable=True, bspline_level_mm=4.0)
    assert coarsest_needed(np.array([2.0, 2.0, 2.0]), deformable) == [2, 2, 2]


@settings(max_examples=40, deadline=None)
@given(size=st.tuples(*[st.integers(3, 9)] * 3), factors=st.tuples(*[st.integers(1, 3)] * 3),
       spacing=st.tuples(*[st.floats(0.5, 5.0)] * 3), seed=st.integers(0, 2**16))
def test_binned_voxels_are_the_means_of_their_edge_extended_blocks(size, factors, spacing, seed):
    """Factors up to the image's size (larger ones: the next test)."""
    values = np.random.default_rng(seed).normal(size=size[::-1]).astype(np.float32)  # (K, J, I)
    image = sitk.GetImageFromArray(values)
    image.SetSpacing(spacing)
    image.SetOrigin((10.0, -20.0, 30.0))
    out = binned(image, list(factors))
    kf, jf, if_ = factors[::-1]
    pad = [(0, (-n) % k) for n, k in zip(values.shape, (kf, jf, if_))]
    blocks = np.pad(values, pad, mode="edge")
    nk, nj, ni = blocks.shape
    expected = blocks.reshape(nk // kf, kf, nj // jf, jf, ni // if_, if_).mean(axis=(1, 3, 5))
    assert np.allclose(sitk.GetArrayFromImage(out), expected, atol=1e-5)
    assert np.allclose(out.GetSpacing(), np.multiply(spacing, factors))
    # each binned voxel's centre is the centre of its block: the binned image covers the native one
    first = np.add((10.0, -20.0, 30.0), np.multiply(spacing, np.subtract(factors, 1)) / 2.0)
    assert np.allclose(out.GetOrigin(), first, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(size=st.tuples(*[st.integers(1, 12)] * 3), factors=st.tuples(*[st.integers(1, 10**6)] * 3))
def test_a_factor_larger_than_the_image_bins_the_axis_to_one_voxel_without_padding_to_the_factor(size, factors):
    """PixelSpacing 0.001 mm with the 8 mm level asks for a factor of 8000: the axis becomes one voxel."""
    image = sitk.GetImageFromArray(np.ones(size[::-1], dtype=np.float32))
    out = binned(image, list(factors))
    expected = [-(-n // min(k, n)) for n, k in zip(size, factors)]  # ceil(n / min(k, n))
    assert list(out.GetSize()) == expected
    assert all(1 <= m <= n for m, n in zip(out.GetSize(), size))
