"""The privacy filter of inspect --json and convert sidecars, fed arbitrary header-derived payloads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from immunopet.dicom.privacy import DATE_KEYS, UID_KEYS, input_roots, redact

ROOT = "/data/site7/patient01"
KEYS = st.sampled_from(sorted(UID_KEYS | DATE_KEYS | {"description", "note", "file", "value", "source", "x"}))
TEXT = st.one_of(st.text(max_size=20), st.sampled_from([ROOT, f"{ROOT}/pet/IM1", "2024-05-01T09:30:00",
                                                        "20240501093000", "scan 2024-05-01 09:30"]))
LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXT,
                   st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)))
PAYLOADS = st.recursive(LEAVES, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(KEYS, inner, max_size=4)), max_leaves=20)


def _walk(node):
    if isinstance(node, dict):
        yield from node.keys()
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)
    else:
        yield node


@settings(max_examples=200, deadline=None)
@given(PAYLOADS)
def test_redacted_payload_holds_no_uid_date_or_folder(payload):
    out = redact(payload, input_roots(ROOT))
    json.dumps(out, allow_nan=False)  # JSON-able as written
    for item in _walk(out):
        assert item not in UID_KEYS | DATE_KEYS
        assert not isinstance(item, datetime)
        if isinstance(item, str):
            assert ROOT not in item and "2024-05-01" not in item and "20240501" not in item


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)),
       st.integers(-10**6, 10**7))
def test_times_become_hours_after_injection(injection, seconds):
    moment = injection + timedelta(seconds=seconds)
    audit = {"inputs": {"injection_datetime": {"value": injection.isoformat()},
                        "scan_datetime": {"value": moment.isoformat(), "source": "SeriesTime"}},
             "reference_datetime": moment.isoformat()}
    out = redact(audit, [])
    assert out["inputs"]["injection_datetime"]["value"] == 0.0
    assert out["inputs"]["scan_datetime"] == {"value": round(seconds / 3600, 6), "source": "SeriesTime",
                                              "unit": "hours after injection"}
    assert out["reference_hours_after_injection"] == round(seconds / 3600, 6)


def test_date_times_without_colons_are_masked_whole():
    from immunopet.dicom.privacy import scrub_text

    for text in ("scan 2017-01-09T101200 failed", "scan 2017-01-09 10:12:00.5 failed", "scan 20170109101200 failed"):
        assert scrub_text(text, []) == "scan <date> failed", text


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcXYZ019_.-", min_size=1, max_size=8), st.sampled_from(["", "/", "/x/y.dcm"]))
def test_a_neighbouring_folder_is_neither_cut_nor_taken_for_the_input(suffix, rest):
    from immunopet.dicom.privacy import scrub_text

    assume(suffix != ".")  # "ROOT." at a sentence's end is the input folder itself
    neighbour = f"{ROOT}{suffix}{rest}"
    assert scrub_text(f"read {neighbour}", [ROOT]) == f"read {neighbour}"


def test_the_input_folder_is_found_as_a_whole_path_component():
    from immunopet.dicom.privacy import scrub_text

    assert scrub_text(f"{ROOT}/pet/IM1: bad", [ROOT]) == "<input>/pet/IM1: bad"
    assert scrub_text(f"in '{ROOT}'.", [ROOT]) == "in '<input>'."
    assert scrub_text(f"see {ROOT}.", [ROOT]) == "see <input>."
    assert scrub_text(f"file://{ROOT}/a", [ROOT]) == "file://<input>/a"
    assert scrub_text(f"{ROOT}-old/pet and {ROOT}/pet", [ROOT]) == f"{ROOT}-old/pet and <input>/pet"
    assert scrub_text(f"/mnt{ROOT}/pet", [ROOT]) == f"/mnt{ROOT}/pet"
