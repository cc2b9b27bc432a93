"""Plausible ranges of the SUV inputs, one table for header values and overrides alike.

A value outside its range is almost always a unit or typing error (a weight of 0.071 kg, a dose
of 10^15 Bq, a height of 17.5 m); it is refused with an error that names the attribute and the
override that fixes it, never used.
"""

from __future__ import annotations

import math

#: input -> (lowest, highest, unit) accepted after unit detection.
RANGES: dict[str, tuple[float, float, str]] = {
    "weight_kg": (1.0, 500.0, "kg"),
    "height_cm": (30.0, 260.0, "cm"),
    "injected_bq": (1.0e3, 5.0e10, "Bq"),
}
#: A header half-life further than this (relative) from the nuclide table's is refused.
HALF_LIFE_TOLERANCE = 0.05


def is_finite_number(value: object) -> bool:
    """``True`` for an int or float that is neither NaN nor infinite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def implausible(name: str, value: float) -> str | None:
    """Why ``value`` of input ``name`` is not plausible (``None`` when it is)."""
    low, high, unit = RANGES[name]
    if not is_finite_number(value):
        return f"{name} {value!r} is not a finite number"
    if not low <= value <= high:
        return f"{name} {value:g} {unit} is outside the plausible range {low:g}-{high:g} {unit}"
    return None
