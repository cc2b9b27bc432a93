"""Nominal scan days: hours after injection / 24, snapped to the study's schedule with a tolerance."""

from __future__ import annotations

import math
from collections.abc import Sequence

from immunopet.errors import ImmunoPETError

DEFAULT_DAYS = (0.04, 2.0, 4.0, 7.0)
#: Default half-width (days) of the window around each scheduled day.
DEFAULT_TOLERANCE_DAYS = 0.5
#: Scheduled days closer than this (days; 14.4 min) are one scan time, not two.
MIN_GAP_DAYS = 0.01


def parse_days(text: str) -> tuple[float, ...]:
    """``"0.04,2,4,7"`` -> ``(0.04, 2.0, 4.0, 7.0)``; finite, not negative, sorted, at least
    :data:`MIN_GAP_DAYS` apart."""
    try:
        values = sorted(float(part) for part in text.split(",") if part.strip())
    except ValueError as error:
        raise ImmunoPETError(f"cannot read scan days {text!r}", attribute="--days",
                             fix="give comma-separated days after injection, e.g. --days 0.04,2,4,7") from error
    finite = all(math.isfinite(v) for v in values)
    if not values or not finite or values[0] < 0 or len(set(values)) != len(values):
        raise ImmunoPETError(f"scan days must be distinct, finite and not negative, got {text!r}", attribute="--days",
                             fix="give days after injection such as 0.04,2,4,7 (0.04 d = 1 h)")
    close = [(a, b) for a, b in zip(values, values[1:]) if b - a < MIN_GAP_DAYS]
    if close:
        a, b = close[0]
        raise ImmunoPETError(f"scan days {a:g} and {b:g} are less than {MIN_GAP_DAYS:g} d ({MIN_GAP_DAYS * 1440:g} min) "
                             "apart: one scan time, not two", attribute="--days", fix="give each scan time once")
    return tuple(values)


def tolerance_of(day: float, schedule: Sequence[float], tolerance: float) -> float:
    """Half-width of the window of ``day``: ``tolerance``, at most half the gap to a neighbouring day."""
    gaps = [abs(day - other) / 2.0 for other in schedule if other != day]
    return min([tolerance, *gaps])


def snap_day(days_pi: float, schedule: Sequence[float], tolerance: float = DEFAULT_TOLERANCE_DAYS) -> float | None:
    """The scheduled day whose window holds ``days_pi`` (days after injection), or ``None`` (off schedule)."""
    for day in schedule:
        if abs(days_pi - day) <= tolerance_of(day, schedule, tolerance) + 1e-9:
            return float(day)
    return None


def day_label(day: float) -> str:
    """Scan id suffix: ``D7`` for day 7, ``H1`` for a scheduled time within the first day (0.04 d = 1 h)."""
    return f"H{round(day * 24):d}" if day < 1 else f"D{day:g}".replace(".", "p")
