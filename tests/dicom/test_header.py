"""DICOM date/time parsing and elapsed-time arithmetic on full date-times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immunopet.dicom.header import combine, latest_before, parse_da, parse_dt, parse_tm, seconds_between
from immunopet.dicom.radionuclide import identify_nuclide


def test_parse_forms():
    assert parse_da("20240304") == date(2024, 3, 4)
    assert parse_da("2024.03.04") == date(2024, 3, 4)
    assert parse_da("") is None and parse_da("2024") is None
    assert parse_tm("1417") == time(14, 17)
    assert parse_tm("141700.5") == time(14, 17, 0, 500000)
    assert parse_tm("14:17:00") == time(14, 17)
    assert parse_tm("152316.921000") == time(15, 23, 16, 921000)
    assert parse_tm("25") is None
    assert parse_dt("20240304091500.00") == datetime(2024, 3, 4, 9, 15)
    assert parse_dt("20240304091500+0100") == datetime(2024, 3, 4, 9, 15)
    assert parse_dt("2024") == datetime(2024, 1, 1)
    assert parse_dt("garbage") is None


moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1))


@given(injection=moments, gap=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=14)))
def test_elapsed_seconds_of_full_date_times(injection, gap):
    """Injection and scan written as DA + TM on different days give the full elapsed seconds."""
    injection = injection.replace(microsecond=0)
    scan = injection + gap
    da_i, tm_i = injection.strftime("%Y%m%d"), injection.strftime("%H%M%S")
    da_s, tm_s = scan.strftime("%Y%m%d"), scan.strftime("%H%M%S.%f")
    elapsed = seconds_between(combine(parse_da(da_i), parse_tm(tm_i)), combine(parse_da(da_s), parse_tm(tm_s)))
    assert elapsed == pytest.approx(gap.total_seconds(), abs=1e-6)
    assert seconds_between(parse_dt(injection.strftime("%Y%m%d%H%M%S")), parse_dt(scan.strftime("%Y%m%d%H%M%S.%f"))) == pytest.approx(
        gap.total_seconds(), abs=1e-6)


@pytest.mark.parametrize(
    ("text", "name"),
    [("C-111A1", "F-18"), ("F^18^[^18^Fluorine]", "F-18"), ("18F", "F-18"), ("^89^Zirconium", "Zr-89"),
     ("Zr-89", "Zr-89"), ("^68^Gallium", "Ga-68"), ("64Cu", "Cu-64"), ("^124^Iodine", "I-124"), ("^11^Carbon", "C-11")],
)
def test_identify_nuclide(text, name):
    assert identify_nuclide(text).name == name


def test_unknown_nuclide_is_none():
    assert identify_nuclide("^99m^Technetium", None) is None


@given(scan=moments, uptake=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=23, minutes=59)))
def test_time_only_injection_before_scan_across_midnight(scan, uptake):
    """A time-of-day injection less than a day before the scan gets the right date (day before
    the scan when it crosses midnight), so the elapsed seconds are those of the full date-times."""
    scan = scan.replace(microsecond=0)
    injection = scan - uptake
    placed = latest_before(injection.time(), scan)
    assert placed == injection
    assert seconds_between(placed, scan) == pytest.approx(uptake.total_seconds())
