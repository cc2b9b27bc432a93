"""``--sphere X,Y,Z,DIAM_MM[,NAME]`` fed bad values: a VOIError naming the sphere, or a mask inside it."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.image import Image
from immunopet.voi.scan import collect_masks

GRID = Image(np.zeros((20, 16, 12), np.float32), np.diag([2.0, 2.5, 3.0, 1.0]), "SUVbw")
FIELD = st.one_of(
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e308", "-1e308", "0", "-0", "-5", "1e-9", "10", "20", "abc",
                     "[/x]", "\x1b[31m", "1,5"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)

NUMBER = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e308", "0", "-5", "1e-9", "10", "20", " 7 "]),
                   st.floats(-100, 100).map(repr), st.floats(allow_nan=True, allow_infinity=True).map(repr))
SPECS = st.one_of(st.lists(FIELD, min_size=0, max_size=6), st.lists(NUMBER, min_size=4, max_size=4),
                  st.lists(NUMBER, min_size=4, max_size=4).map(lambda p: [*p, "blood_pool"]))


def _floats(parts: list[str]) -> list[float] | None:
    try:
        return [float(p) for p in parts]
    except ValueError:
        return None


@settings(max_examples=150, deadline=None)
@given(SPECS)
def test_bad_sphere_specs_fail_cleanly(fields):
    spec = ",".join(fields)
    found, errors = collect_masks(GRID, spheres=[spec])  # never raises: failures are collected
    parts = [p.strip() for p in spec.split(",")]
    numbers = _floats(parts[:4]) if len(parts) in (4, 5) else None
    if found:
        assert not errors and numbers is not None
        (mask,) = found.values()
        centre, diameter = np.asarray(numbers[:3]), numbers[3]
        assert math.isfinite(diameter) and diameter > 0 and np.isfinite(centre).all()
        assert mask.shape == GRID.shape and mask.any()
        ijk = np.argwhere(mask)
        assert (np.linalg.norm(GRID.index_to_world(ijk) - centre, axis=-1) <= diameter / 2).all()
    else:
        assert len(errors) == 1 and errors[0].startswith(f"sphere {spec}")
        if numbers is not None and not (math.isfinite(numbers[3]) and np.isfinite(numbers[:3]).all()):
            assert "finite" in errors[0]


def test_infinite_sphere_is_refused():
    found, errors = collect_masks(GRID, spheres=["0,0,0,inf"])
    assert not found and "positive finite number" in errors[0]
    found, errors = collect_masks(GRID, spheres=["nan,0,0,10"])
    assert not found and "not three finite numbers" in errors[0]
