"""Quality measures against analytic values."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from immunopet.register.params import QualityLimits
from immunopet.register.quality import Quality, dice, judge, normalised_mutual_information


def test_nmi_of_an_image_with_itself_is_two_and_of_independent_images_near_one():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 100_000).astype(float)
    assert normalised_mutual_information(a, a, bins=4) == np.float64(2.0) or abs(
        normalised_mutual_information(a, a, bins=4) - 2.0) < 1e-12
    b = rng.integers(0, 4, 100_000).astype(float)
    assert abs(normalised_mutual_information(a, b, bins=4) - 1.0) < 1e-3


def test_nmi_of_two_equiprobable_values_mapped_one_to_one():
    a = np.array([0.0, 1.0] * 500)
    # H(A) = H(B) = ln 2, H(A, B) = ln 2 -> NMI = 2 even when the values are swapped
    assert abs(normalised_mutual_information(a, 1 - a, bins=2, value_range=(0, 1)) - 2.0) < 1e-12


def test_dice_analytic():
    a = np.zeros(10, bool)
    b = np.zeros(10, bool)
    a[:4], b[2:6] = True, True
    assert dice(a, b) == 2 * 2 / 8
    assert dice(np.zeros(3, bool), np.zeros(3, bool)) == 1.0


@settings(max_examples=50, deadline=None)
@given(arrays(bool, 30), arrays(bool, 30))
def test_dice_is_symmetric_and_bounded(a, b):
    assert dice(a, b) == dice(b, a)
    assert 0.0 <= dice(a, b) <= 1.0


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 1), st.floats(1, 2), st.one_of(st.none(), st.floats(0, 100)))
def test_verdict_is_poor_exactly_when_a_limit_is_crossed(body, nmi, landmark):
    limits = QualityLimits()
    q = judge(Quality(1.0, nmi, 0.5, body, 1.0, landmark, landmark), limits)
    crossed = body < limits.min_body_dice or nmi < limits.min_nmi or (
        landmark is not None and landmark > limits.max_landmark_mm)
    assert (q.verdict == "poor") == crossed
    assert bool(q.reasons) == crossed


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**16), n=st.integers(2, 400), bins=st.integers(2, 64))
def test_nmi_of_equal_bins_is_numpys_two_dimensional_histogram(seed, n, bins):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.5 * a + rng.normal(size=n)
    value_range = (min(a.min(), b.min()), max(a.max(), b.max()))
    joint, _, _ = np.histogram2d(a, b, bins=bins, range=[value_range, value_range])
    p = joint / joint.sum()

    def entropy(q):
        q = q[q > 0]
        return -(q * np.log(q)).sum()

    h = entropy(p)
    expected = (entropy(p.sum(axis=0)) + entropy(p.sum(axis=1))) / h if h > 0 else 2.0
    assert abs(normalised_mutual_information(a, b, bins=bins) - expected) < 1e-9
