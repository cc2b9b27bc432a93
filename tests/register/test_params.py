"""Registration settings from study.yaml are checked where they enter: a bad value names its setting."""

import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import RegistrationError, StudyError
from immunopet.register.params import QualityLimits, RegistrationParams
from immunopet.study.registration import _settings


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _whole(v):
    return isinstance(v, int) and not isinstance(v, bool)


#: What each setting accepts, stated independently of the code under test.
ACCEPTS = {
    "deformable": lambda v: isinstance(v, bool),
    "rigid_levels_mm": lambda v: isinstance(v, list) and len(v) > 0 and all(_num(x) and x > 0 for x in v),
    "rigid_iterations": lambda v: _whole(v) and v > 0,
    "histogram_bins": lambda v: _whole(v) and v > 0,
    "bspline_iterations": lambda v: _whole(v) and v > 0,
    "sampling": lambda v: _num(v) and 0 < v <= 1,
    "bspline_sampling": lambda v: _num(v) and 0 < v <= 1,
    "bspline_spacing_mm": lambda v: _num(v) and v > 0,
    "bspline_level_mm": lambda v: _num(v) and v > 0,
    "seed": lambda v: _whole(v) and v >= 0,
    "ct_window_hu": lambda v: isinstance(v, list) and len(v) == 2 and all(map(_num, v)) and v[0] < v[1],
    "min_body_dice": lambda v: _num(v) and 0 <= v <= 1,
    "min_nmi": lambda v: _num(v) and 1 <= v <= 2,
    "max_landmark_mm": lambda v: _num(v) and v > 0,
}

scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 200), st.floats(-10, 3000),
                    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1.0, 2.0]), st.text(max_size=4))
values = st.one_of(scalars, st.lists(st.one_of(st.integers(-2000, 2000), st.floats(-2000, 2000), st.text(max_size=2)),
                                     max_size=3))


def _study(registration, root):
    return SimpleNamespace(config=SimpleNamespace(registration=registration), root=root)


def test_defaults_are_valid_and_round_trip():
    assert RegistrationParams.from_dict(RegistrationParams().as_dict()) == RegistrationParams()
    assert QualityLimits.from_dict(QualityLimits().as_dict()) == QualityLimits()
    assert all(ACCEPTS[k](v) for k, v in {**RegistrationParams().as_dict(), **QualityLimits().as_dict()}.items())


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(ACCEPTS)), values)
def test_a_setting_is_taken_exactly_when_valid_and_otherwise_named(tmp_path_factory, name, value):
    root = tmp_path_factory.getbasetemp()
    if ACCEPTS[name](value):
        params, limits = _settings(_study({name: value}, root))
        assert {**params, **limits}[name] == value
    else:
        with pytest.raises(StudyError) as bad:
            _settings(_study({name: value}, root))
        assert bad.value.attribute == f"registration.{name}"
        assert bad.value.file == str(root / "study.yaml")


def test_a_job_with_a_bad_setting_is_a_registration_error():
    with pytest.raises(RegistrationError, match="sampling"):
        RegistrationParams.from_dict({**RegistrationParams().as_dict(), "sampling": 0})
    with pytest.raises(RegistrationError, match="unknown"):
        QualityLimits.from_dict({"min_dice": 0.9})
