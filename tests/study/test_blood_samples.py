"""blood.csv: validated blood samples, plasma converted with the haematocrit, clear errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import StudyError
from immunopet.study.blood_samples import read_blood_samples


def test_whole_blood_and_plasma(tmp_path):
    path = tmp_path / "blood.csv"
    path.write_text("patient_id,sample_datetime,whole_blood_bqml,plasma_bqml,haematocrit\n"
                    "P01,2017-01-09T11:00:00,5000,,\nP01,2017-01-11T10:00:00,,4000,0.4\n", encoding="utf-8")
    samples = read_blood_samples(path)
    assert samples["whole_blood_bqml"].tolist() == [5000.0, pytest.approx(2400.0)]
    assert samples["sample_datetime"].iloc[1] == dt.datetime(2017, 1, 11, 10)


@pytest.mark.parametrize("line, message", [
    ("P01,yesterday,5000,,", "row 2, column sample_datetime"),
    ("P01,2017-01-09T11:00,,4000,", "plasma only, without haematocrit"),
    ("P01,2017-01-09T11:00,,4000,42", "not a fraction"),
    ("P01,2017-01-09T11:00,abc,,", "row 2, column whole_blood_bqml: not a number"),
    (",2017-01-09T11:00,5000,,", "column patient_id: empty"),
    ("P01,2017-01-09T11:00,-5,,", "must be positive"),
    ("P01,2017-01-09T11:00,,,", "neither whole_blood_bqml nor plasma_bqml"),
])
def test_errors_name_row_and_column(tmp_path, line, message):
    path = tmp_path / "blood.csv"
    path.write_text("patient_id,sample_datetime,whole_blood_bqml,plasma_bqml,haematocrit\n" + line + "\n",
                    encoding="utf-8")
    with pytest.raises(StudyError, match=message) as error:
        read_blood_samples(path)
    assert error.value.file == str(path) and error.value.fix


def test_missing_column_and_unreadable_file(tmp_path):
    path = tmp_path / "blood.csv"
    path.write_text("patient_id,whole_blood_bqml\nP01,3\n", encoding="utf-8")
    with pytest.raises(StudyError, match="no column 'sample_datetime'"):
        read_blood_samples(path)
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(StudyError):
        read_blood_samples(path)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), min_size=5, max_size=5), min_size=1, max_size=4))
def test_any_cells_give_samples_or_a_study_error(tmp_path_factory, cells):
    import csv

    path = tmp_path_factory.mktemp("blood") / "blood.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "sample_datetime", "whole_blood_bqml", "plasma_bqml", "haematocrit"])
        writer.writerows(cells)
    try:
        samples = read_blood_samples(path)
    except StudyError:
        return
    assert (samples["whole_blood_bqml"] > 0).all()
