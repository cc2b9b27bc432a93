"""Lesion matching across days: Hungarian assignment with a maximum distance."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import VOIError
from immunopet.voi.track import match_lesions


def test_shuffled_and_jittered_lesions_keep_their_ids():
    rng = np.random.default_rng(3)
    reference = {f"L{n}": rng.uniform(-200, 200, 3) for n in range(1, 21)}
    day = {f"d{n}": reference[f"L{n}"] + rng.normal(0, 2, 3) for n in rng.permutation(np.arange(1, 21))}
    result = match_lesions(reference, day, max_distance_mm=15)
    assert all(result.matched[f"d{n}"] == f"L{n}" for n in range(1, 21))
    assert not result.new and not result.vanished


def test_new_and_vanished_lesions_are_listed():
    reference = {"L1": (0, 0, 0), "L2": (100, 0, 0)}
    day = {"a": (1, 0, 0), "b": (0, 300, 0)}
    result = match_lesions(reference, day, max_distance_mm=20)
    assert result.matched == {"a": "L1"}
    assert result.distances_mm["a"] == pytest.approx(1.0)
    assert result.new == ["b"] and result.vanished == ["L2"]
    assert result.ids() == {"a": "L1", "b": "N1"}


def test_the_assignment_minimises_the_total_distance_not_greedy():
    # greedy nearest-first would give a->L1 (1 mm) and b->L2 (19 mm); the optimum swaps them
    reference = {"L1": (0, 0, 0), "L2": (10, 0, 0)}
    day = {"a": (4, 0, 0), "b": (-5, 0, 0)}
    result = match_lesions(reference, day, max_distance_mm=30)
    assert result.matched == {"b": "L1", "a": "L2"}


def test_empty_sides_and_bad_input():
    assert match_lesions({}, {"a": (0, 0, 0)}).new == ["a"]
    assert match_lesions({"L1": (0, 0, 0)}, {}).vanished == ["L1"]
    with pytest.raises(VOIError, match="positive"):
        match_lesions({"L1": (0, 0, 0)}, {"a": (0, 0, 0)}, max_distance_mm=0)
    with pytest.raises(VOIError, match="finite"):
        match_lesions({"L1": (0, 0, float("nan"))}, {"a": (0, 0, 0)})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[st.floats(-500, 500)] * 3), min_size=1, max_size=8, unique=True),
       st.floats(1, 100))
def test_every_lesion_is_matched_or_listed_once(points, limit):
    reference = {f"L{i}": p for i, p in enumerate(points)}
    day = {f"d{i}": p for i, p in enumerate(reversed(points))}
    result = match_lesions(reference, day, max_distance_mm=limit)
    assert sorted([*result.matched, *result.new]) == sorted(day)
    assert sorted([*result.matched.values(), *result.vanished]) == sorted(reference)
    assert all(d <= limit for d in result.distances_mm.values())
