"""The viewer's CT helper process: the same CT as reading it in-process, and no lost CT when it dies."""

from __future__ import annotations

import os
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pandas as pd
import pytest

from immunopet.dicom import load_image_series
from immunopet.view.ct_reader import CTReader


@pytest.fixture(scope="module")
def ct_path(quick_study):
    scans = pd.read_csv(quick_study / "scans.csv")
    return str(quick_study / scans["ct"].dropna().iloc[0])


@pytest.fixture()
def reader():
    helper = CTReader()
    yield helper
    helper.close()


def test_the_helper_reads_the_same_ct_as_this_process(reader, ct_path):
    future = reader.submit(ct_path)
    assert future is not None
    got, want = reader.result(future, ct_path), load_image_series(ct_path)
    np.testing.assert_array_equal(got.array, want.array)
    np.testing.assert_array_equal(got.affine, want.affine)
    assert got.units == want.units == "HU"


def test_a_dead_helper_is_replaced_and_its_ct_read_here(reader, ct_path):
    killed = reader._started().submit(os._exit, 1)
    assert isinstance(killed.exception(timeout=60), BrokenProcessPool)
    assert reader.submit(ct_path) is None  # the broken helper is dropped: the caller reads the CT itself
    again = reader.submit(ct_path)  # and the next scan gets a new helper
    assert again is not None
    np.testing.assert_array_equal(reader.result(again, ct_path).array, load_image_series(ct_path).array)
    broken: Future = Future()
    broken.set_exception(BrokenProcessPool("helper stopped"))
    np.testing.assert_array_equal(reader.result(broken, ct_path).array, load_image_series(ct_path).array)


def test_a_damaged_ct_raises_its_own_error_through_the_helper(reader, tmp_path):
    from immunopet.errors import ImmunoPETError

    (tmp_path / "CT").mkdir()
    (tmp_path / "CT" / "1.dcm").write_bytes(b"DICM is not here")
    future = reader.submit(str(tmp_path / "CT"))
    with pytest.raises(ImmunoPETError):
        reader.result(future, str(tmp_path / "CT"))


def test_a_closed_reader_starts_no_helper(ct_path):
    helper = CTReader()
    helper.close()
    assert helper.submit(ct_path) is None
