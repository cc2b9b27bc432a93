"""Every JSON output is strict JSON: NaN and infinities become null, numpy values plain numbers."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from immunopet.image import Image
from immunopet.jsonable import jsonable

LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(), st.text(max_size=8),
                   st.floats(width=32).map(np.float32), st.integers(-100, 100).map(np.int64), st.just(np.bool_(True)))
NESTED = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=4), inner, max_size=4)),
                      max_leaves=20)


def _same(original, written) -> bool:
    if isinstance(original, dict):
        return all(_same(v, written[str(k)]) for k, v in original.items())
    if isinstance(original, list):
        return all(_same(a, b) for a, b in zip(original, written, strict=True))
    if isinstance(original, (float, np.floating)):
        return written is None if not math.isfinite(float(original)) else written == float(original)
    if isinstance(original, (np.integer, np.bool_)):
        return written == original.item()
    return written == original


@given(NESTED)
def test_any_nested_value_is_strict_json_with_finite_numbers_kept(value):
    out = jsonable(value)
    assert _same(value, json.loads(json.dumps(out, allow_nan=False)))


def test_a_sidecar_with_nan_is_strict_json_also_with_identifiers(tmp_path):
    from immunopet.dicom.export import write_nifti

    image = Image(np.zeros((2, 2, 2), dtype=np.float32), np.eye(4), "SUV", {})
    sidecar = write_nifti(image, tmp_path / "x.nii.gz", sidecar={"suv": {"factor": float("nan"), "x": [np.inf, 1.5]}},
                          include_identifiers=True)
    assert json.loads(sidecar.read_text())["suv"] == {"factor": None, "x": [None, 1.5]}
