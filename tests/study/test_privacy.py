"""What the store keeps of a scan's texts and SUV audit by default: no dates, UIDs or study paths."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.study.paths import PathPolicy
from immunopet.study.privacy import Redactor


@pytest.fixture(scope="module")
def redactor(tmp_path_factory):
    root = tmp_path_factory.mktemp("privacy") / "study"
    root.mkdir()
    return Redactor(PathPolicy.for_study(root, [str(root.parent / "pacs")])), root


@pytest.mark.parametrize("written", ["2017-01-09", "2017-01-09T10:12:00", "2017-01-09 10:12:00.5", "20170109",
                                     "20170109101200", "20170109101200.123456"])
def test_dates_in_free_text_are_masked_in_iso_and_dicom_forms(redactor, written):
    masked = redactor[0].text(f"AcquisitionDateTime {written} is after the injection")
    assert masked == "AcquisitionDateTime <date> is after the injection"


def test_paths_become_relative_and_uids_are_masked(redactor):
    red, root = redactor
    text = f"cannot read {root}/dicom/P01/PT/1.dcm of series 1.2.840.113619.2.55 (outside: {root.parent}/pacs/x)"
    assert red.text(text) == "cannot read dicom/P01/PT/1.dcm of series <UID> (outside: <outside folder 1>/x)"
    assert red.text(None) is None


def test_a_neighbouring_folder_keeps_its_whole_name(redactor):
    red, root = redactor
    text = f"{root}-old/pet/1.dcm and {root}2 beside {root} and {root.parent}/pacs-copy/x"
    assert red.text(text) == f"{root}-old/pet/1.dcm and {root}2 beside . and {root.parent}/pacs-copy/x"


def test_an_audit_keeps_hours_after_injection_and_drops_uids(redactor):
    red, root = redactor
    injection = datetime(2017, 1, 9, 8, 0)
    audit = {"series_uid": "2.25.1234", "source": f"{root}/dicom/P01/PT",
             "inputs": {"injection_datetime": {"value": injection.isoformat(), "source": "header"},
                        "scan_datetime": {"value": (injection + timedelta(hours=2.5)).isoformat()}},
             "reference_datetime": (injection + timedelta(minutes=-30)).isoformat()}
    clean = red.audit(audit)
    assert "series_uid" not in clean and clean["source"] == "dicom/P01/PT"
    assert clean["inputs"]["injection_datetime"] == {"source": "header", "value": "injection +0.000 h"}
    assert clean["inputs"]["scan_datetime"]["value"] == "injection +2.500 h"
    assert clean["reference_datetime"] == "injection -0.500 h"
    assert audit["series_uid"] == "2.25.1234"  # the worker's audit is not changed


_DATES = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2099, 12, 31)).flatmap(
    lambda moment: st.sampled_from([moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m-%dT%H:%M:%S"),
                                    moment.strftime("%Y%m%d"), moment.strftime("%Y%m%d%H%M%S")]))
_WORDS = st.text(st.characters(blacklist_categories=("Nd", "Cs")), max_size=12)


@settings(max_examples=100, deadline=None)
@given(before=_WORDS, date=_DATES, after=_WORDS)
def test_no_date_or_study_folder_survives_in_any_text(redactor, before, date, after):
    red, root = redactor
    masked = red.text(f"{before} {date} {root}/masks {after}")
    assert date not in masked and str(root) not in masked
    assert masked.startswith(before) and masked.endswith(after)
