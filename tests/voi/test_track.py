"""Lesion matching across days: Hungarian assignment with a maximum distance; tracking over days."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import VOIError
from immunopet.voi.track import ScanLesions, match_lesions, track_lesions


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


def _brute_force(reference, day, limit):
    """(most pairs within ``limit``, their smallest total distance) over every one-to-one assignment."""
    ref, days = list(reference.values()), list(day.values())
    small, large, flip = (days, ref, False) if len(days) <= len(ref) else (ref, days, True)
    best = (0, 0.0)
    for chosen in itertools.permutations(range(len(large)), len(small)):
        d = [float(np.linalg.norm(np.subtract(small[i], large[j]))) for i, j in enumerate(chosen)]
        kept = [x for x in d if x <= limit]
        best = max(best, (len(kept), -sum(kept)))
    return best[0], -best[1]


centres = st.tuples(*[st.floats(-60, 60, allow_nan=False)] * 3)


@settings(max_examples=150, deadline=None)
@given(st.lists(centres, max_size=6), st.lists(centres, max_size=6), st.floats(1, 80))
def test_matching_is_a_minimum_cost_assignment_within_the_limit(ref_points, day_points, limit):
    reference = {f"L{i}": p for i, p in enumerate(ref_points)}
    day = {f"d{i}": p for i, p in enumerate(day_points)}
    result = match_lesions(reference, day, max_distance_mm=limit)
    assert sorted([*result.matched, *result.new]) == sorted(day)  # every day id exactly once
    assert len(set(result.matched) & set(result.new)) == 0
    assert sorted([*result.matched.values(), *result.vanished]) == sorted(reference)
    assert len(set(result.matched.values())) == len(result.matched)  # one-to-one
    assert all(d <= limit for d in result.distances_mm.values())  # no pair beyond the limit
    for d, r in result.matched.items():
        assert result.distances_mm[d] == pytest.approx(float(np.linalg.norm(np.subtract(day[d], reference[r]))))
    n, total = _brute_force(reference, day, limit)
    assert len(result.matched) == n
    assert sum(result.distances_mm.values()) == pytest.approx(total, rel=1e-9, abs=1e-6)


def test_tracking_of_a_known_case_with_a_new_a_vanished_and_a_too_far_lesion():
    reference = ScanLesions("D7", {"L1": (0, 0, 0), "L2": (100, 0, 0), "L3": (0, 100, 0), "N1": (0, 0, 100)})
    day2 = ScanLesions("D2", {"a": (2, 0, 0), "b": (100, 3, 0), "far": (0, 125, 0), "c": (300, 0, 0)})
    day4 = ScanLesions("D4", {"L2": (50, 50, 50), "e": (1, 1, 0), "f": (303, 0, 4), "g": (0, 124, 0)},
                       drawn_once=frozenset({"L2"}))
    rows = track_lesions(reference, [day2, day4], max_distance_mm=20)
    got = {(t.scan_id, t.voi_id or t.tracked_id): (t.tracked_id, t.status, t.distance_mm) for t in rows}
    assert got == {
        ("D7", "L1"): ("L1", "reference", None), ("D7", "L2"): ("L2", "reference", None),
        ("D7", "L3"): ("L3", "reference", None), ("D7", "N1"): ("N1", "reference", None),
        ("D2", "a"): ("L1", "matched", 2.0), ("D2", "b"): ("L2", "matched", 3.0),
        ("D2", "far"): ("N2", "new", None),  # 25 mm from L3: beyond 20 mm; N1 is a reference id
        ("D2", "c"): ("N3", "new", None),
        ("D2", "L3"): ("L3", "vanished", None), ("D2", "N1"): ("N1", "vanished", None),
        ("D4", "L2"): ("L2", "matched", 0.0),  # drawn once: itself, wherever its centre lies
        ("D4", "e"): ("L1", "matched", pytest.approx(2 ** 0.5)),
        ("D4", "f"): ("N3", "new", 5.0),  # the same new lesion as day 2's c keeps its id
        ("D4", "g"): ("N2", "new", 1.0),
        ("D4", "L3"): ("L3", "vanished", None), ("D4", "N1"): ("N1", "vanished", None),
    }
    assert len(rows) == len(got)


@settings(max_examples=60, deadline=None)
@given(st.lists(centres, max_size=5), st.lists(st.lists(centres, max_size=5), max_size=3), st.floats(1, 80))
def test_tracking_lists_every_lesion_of_every_scan_once(ref_points, scans_points, limit):
    reference = ScanLesions("R", {f"L{i}": p for i, p in enumerate(ref_points)})
    scans = [ScanLesions(f"S{n}", {f"d{i}": p for i, p in enumerate(points)}) for n, points in enumerate(scans_points)]
    rows = track_lesions(reference, scans, max_distance_mm=limit)
    for scan in scans:
        mine = [t for t in rows if t.scan_id == scan.scan_id]
        assert sorted(t.voi_id for t in mine if t.voi_id is not None) == sorted(scan.centres)
        assert sorted(t.tracked_id for t in mine if t.status in ("matched", "vanished")) == sorted(reference.centres)
        tracked = [t.tracked_id for t in mine]
        assert len(tracked) == len(set(tracked))  # one id per lesion on a scan
        assert all(t.tracked_id not in reference.centres for t in mine if t.status == "new")
