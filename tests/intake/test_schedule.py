"""Day snapping and the --days parser: analytic windows and property-based boundaries."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immunopet.errors import ImmunoPETError
from immunopet.intake.schedule import MIN_GAP_DAYS, day_label, parse_days, snap_day, tolerance_of

SCHEDULE = (0.04, 2.0, 4.0, 7.0)


def test_windows_of_the_default_schedule():
    assert snap_day(1.1 / 24, SCHEDULE) == 0.04
    assert snap_day(2.4, SCHEDULE) == 2.0 and snap_day(1.6, SCHEDULE) == 2.0
    assert snap_day(2.6, SCHEDULE) is None  # 0.6 d late: off schedule
    assert snap_day(5.5, SCHEDULE) is None and snap_day(9.0, SCHEDULE) is None
    assert tolerance_of(2.0, (2.0, 2.6), 0.5) == pytest.approx(0.3)  # half the gap to a close neighbour
    assert snap_day(2.31, (2.0, 2.6), 0.5) == 2.6 and snap_day(2.29, (2.0, 2.6), 0.5) == 2.0


def _schedules():
    """Schedules --days accepts: distinct days at least MIN_GAP_DAYS apart."""
    return st.lists(st.floats(0, 30, allow_nan=False), min_size=1, max_size=6, unique=True).map(sorted).filter(
        lambda days: all(b - a >= MIN_GAP_DAYS for a, b in zip(days, days[1:])))


@given(_schedules(), st.floats(0, 40, allow_nan=False), st.floats(0.01, 3, allow_nan=False))
def test_snapped_day_is_within_its_window_and_unique(schedule, days_pi, tolerance):
    assert parse_days(",".join(repr(d) for d in schedule)) == tuple(schedule)
    day = snap_day(days_pi, schedule, tolerance)
    inside = [d for d in schedule if abs(days_pi - d) <= tolerance_of(d, schedule, tolerance) + 1e-9]
    assert len(inside) <= 2  # windows touch at most at a midpoint
    if day is None:
        assert not inside
    else:
        assert day in inside and abs(days_pi - day) <= tolerance + 1e-9


@pytest.mark.parametrize("text", ["", "a,b", "2,2", "-1,2", "2;4", "nan,2", "2,inf", "2,2.005", "0,1e-45"])
def test_bad_days_are_clear_errors(text):
    with pytest.raises(ImmunoPETError, match="--days"):
        parse_days(text)


@given(st.text(max_size=20))
def test_parse_days_never_crashes(text):
    try:
        days = parse_days(text)
    except ImmunoPETError:
        return
    assert list(days) == sorted(set(days)) and days[0] >= 0


def test_labels():
    assert [day_label(d) for d in SCHEDULE] == ["H1", "D2", "D4", "D7"]
    assert day_label(1.5) == "D1p5"
