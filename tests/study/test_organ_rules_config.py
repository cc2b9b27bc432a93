"""study.yaml ``organ_rules:`` at its boundaries (property-based): accepted inside the ranges, refused
outside, naming the key."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from immunopet.study.config import OrganRulesConfig

RANGES = {"blood_pool_ml": (0.0, 100.0, False), "arch_band_mm": (0.0, 300.0, False),
          "bone_marrow_ml": (0.0, 100.0, False), "cortex_mm": (0.0, 20.0, True)}


VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-100, 400), st.booleans(),
                   st.sampled_from(["10", "yes", "", "2 mm"]))


def _number(value) -> bool:
    """What study.yaml may hold for a size: a number as written (YAML ``yes`` is a bool, ``"10"`` text)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(RANGES)), VALUES)
def test_scalar_rules(key, value):
    low, high, low_included = RANGES[key]
    inside = _number(value) and (value >= low if low_included else value > low) and value <= high
    if inside:
        assert OrganRulesConfig(**{key: value}).given() == {key: value}
    else:
        with pytest.raises(ValidationError, match=key):
            OrganRulesConfig(**{key: value})


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["liver", "spleen", "kidneys", "lungs", "brain", "muscle", "heart", "Liver", ""]),
       VALUES)
def test_margins(organ, mm):
    known = organ in ("liver", "spleen", "kidneys", "lungs", "brain", "muscle")
    if known and _number(mm) and 0 <= mm <= 50:
        assert OrganRulesConfig(margins_mm={organ: mm}).given() == {"margins_mm": {organ: mm}}
    else:
        with pytest.raises(ValidationError, match="margins_mm"):
            OrganRulesConfig(margins_mm={organ: mm})


def test_nothing_given_is_an_empty_mapping():
    assert OrganRulesConfig().given() == {}
