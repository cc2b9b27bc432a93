"""``immunopet simulate`` through the command line entry point."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.cli import main
from immunopet.errors import ImmunoPETError
from immunopet.simulate.commands import _parse_days
from immunopet.simulate.study import _check_days


def test_simulate_quick_writes_a_study(tmp_path, capsys):
    out = tmp_path / "study"
    code = main(["simulate", str(out), "--quick", "--seed", "3", "--days", "2,4", "--patients", "3", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["patients"] == 3 and summary["scans"] == 6
    scans = pd.read_csv(out / "scans.csv")
    assert sorted(scans["day"].unique()) == [2.0, 4.0]
    assert (out / "truth" / "truth.csv").is_file()
    # day 7 was not scanned: the outcome day falls back to the last scan, which gets the lesion SEGs
    assert yaml.safe_load((out / "study.yaml").read_text())["outcome_day"] == 4.0
    assert len(list((out / "masks").glob("*_D4_lesions_seg.dcm"))) == 3


def test_bad_days_and_existing_folder_exit_with_3(tmp_path):
    assert main(["simulate", str(tmp_path / "a"), "--quick", "--days", "2,x"]) == 3
    assert main(["simulate", str(tmp_path / "b"), "--quick", "--days", "2,2"]) == 3
    assert main(["simulate", str(tmp_path / "e"), "--quick", "--days", "nan,2"]) == 3
    assert main(["simulate", str(tmp_path / "f"), "--quick", "--days", "2,inf"]) == 3
    occupied = tmp_path / "c"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    assert main(["simulate", str(occupied), "--quick"]) == 3
    assert main(["simulate", str(tmp_path / "d"), "--quick", "--params", str(tmp_path / "missing.yaml")]) == 3


def test_help_has_an_example(capsys):
    assert main(["simulate", "--help"]) == 0
    assert "Example: immunopet simulate" in capsys.readouterr().out



DAY_TEXT = st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                              st.sampled_from(["", " ", "x", "-0", "1e400", "nan", "-inf", "2 ", "0x1"]),
                              st.text(max_size=4)), max_size=5).map(",".join)


@settings(max_examples=100, deadline=None)
@given(DAY_TEXT)
def test_any_days_text_gives_valid_days_or_a_usage_error(text):
    """``--days``: whatever is typed, the simulator gets distinct finite days >= 0 in order, or a clear error."""
    try:
        days = _check_days(_parse_days(text))
    except ImmunoPETError as error:
        assert error.attribute == "--days"
        return
    assert days and days == sorted(days) and len(set(days)) == len(days)
    assert all(math.isfinite(d) and d >= 0 for d in days)


@pytest.mark.parametrize("text", ["nan", "2,nan", "inf", "4,1e400", "-inf,2"])
def test_non_finite_days_are_usage_errors(text):
    with pytest.raises(ImmunoPETError, match="finite"):
        _check_days(_parse_days(text))


def test_pacs_layout_reports_the_patients_and_scans_it_wrote(tmp_path, capsys):
    """The JSON summary of ``--layout pacs``: n patients x n days scheduled scans, each a PET series on disk."""
    import os

    import pydicom

    out = tmp_path / "sim"
    code = main(["simulate", str(out), "--layout", "pacs", "--quick", "--patients", "1", "--days", "2,4", "--seed",
                 "3", "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["export"] == str(out / "dicom-export")
    assert summary["patients"] == 1 and summary["scans"] == 2
    series = {str(pydicom.dcmread(os.path.join(d, n), specific_tags=["SeriesInstanceUID"]).SeriesInstanceUID)
              for d, _, names in os.walk(out / "dicom-export") for n in names}
    truth = pd.read_csv(out / "truth" / "scans.csv")
    assert set(truth["pet_series_uid"]) <= series and truth["patient_id"].nunique() == summary["patients"]
