"""masks_of_labels: the same masks as comparing the whole label map once per label."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from immunopet.voi.labelmap import masks_of_labels


@settings(max_examples=100, deadline=None)
@given(arrays(np.int32, st.tuples(*[st.integers(1, 7)] * 3), elements=st.integers(0, 6)),
       st.lists(st.integers(1, 9), unique=True, max_size=6))
def test_masks_equal_whole_map_comparison(label_map, labels):
    masks = masks_of_labels(label_map, labels)
    assert list(masks) == labels
    for label in labels:
        assert masks[label].dtype == np.bool_
        np.testing.assert_array_equal(masks[label], label_map == label)


def test_fortran_ordered_map_and_absent_label():
    label_map = np.asfortranarray(np.zeros((30, 20, 10), np.uint8))
    label_map[3:5, 2:9, 1:2] = 2
    masks = masks_of_labels(label_map, [1, 2])
    assert not masks[1].any() and masks[2].sum() == 14
