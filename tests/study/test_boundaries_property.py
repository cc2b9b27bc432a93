"""Properties of the input boundaries that take any text: a path from a table, an id that becomes a
file name, a cell written to a spreadsheet-safe CSV."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.report.figio import safe_file_stem
from immunopet.study.exports import FORMULA_STARTS, spreadsheet_safe
from immunopet.study.limits import ID_LENGTH, ID_PATTERN, is_identifier
from immunopet.study.paths import PathPolicy

_PARTS = st.sampled_from(["..", ".", "", "dicom", "masks", "x" * 300, "é" * 130, "\x00", "/", "//", "~",
                          "study", "a b", "\u202e"])
_PATHS = st.one_of(st.text(max_size=40), st.lists(st.one_of(_PARTS, st.text(max_size=8)), max_size=6).map("/".join))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """A study folder with a file, a folder, a FIFO and links leading in and out; a folder beside it."""
    base = tmp_path_factory.mktemp("policy")
    root, outside = base / "study", base / "outside"
    (root / "dicom").mkdir(parents=True)
    (root / "masks.nii.gz").write_bytes(b"x")
    outside.mkdir()
    (outside / "secret.txt").write_text("x")
    os.mkfifo(root / "pipe")
    (root / "out").symlink_to(outside)
    (root / "in").symlink_to(root / "dicom")
    return PathPolicy.for_study(root), root


@settings(max_examples=100, deadline=None)
@given(value=_PATHS)
def test_a_path_is_refused_or_names_a_file_or_folder_inside_the_study(tree, value):
    policy, root = tree
    problem = policy.problem(value)
    assert problem is None or (isinstance(problem, str) and problem)
    if problem is None:
        resolved = Path(os.path.realpath(policy.absolute(value)))
        assert resolved == root or resolved.is_relative_to(root)
        assert resolved.is_dir() or resolved.is_file()


@pytest.mark.parametrize(("value", "expected"), [
    ("masks.nii.gz", None), ("dicom", None), ("in", None), ("./dicom/../masks.nii.gz", None),
    ("out/secret.txt", "is outside the study folder"), ("../outside/secret.txt", "is outside the study folder"),
    ("pipe", "special file"), ("nothing", "does not exist"), ("a\x00b", "NUL character"),
])
def test_the_policy_names_each_kind_of_wrong_path(tree, value, expected):
    problem = tree[0].problem(value)
    assert problem is None if expected is None else expected in problem


@settings(max_examples=200, deadline=None)
@given(name=st.text(max_size=200))
def test_any_name_becomes_one_plain_file_name(name):
    stem = safe_file_stem(name)
    assert 1 <= len(stem) <= 120 and not stem.startswith(".")
    assert "/" not in stem and "\\" not in stem and "\x00" not in stem
    assert stem.isascii() and Path(stem).name == stem
    assert safe_file_stem(stem) == stem  # a stem that is already safe stays as it is


@settings(max_examples=100, deadline=None)
@given(text=st.one_of(st.from_regex(ID_PATTERN, fullmatch=True), st.text(max_size=80)))
def test_an_id_the_tables_accept_is_its_own_file_name(text):
    if is_identifier(text):  # what validate lets through names mip_{id}.png exactly
        assert len(text) <= ID_LENGTH and safe_file_stem(text) == text


@settings(max_examples=60, deadline=None)
@given(cells=st.lists(st.one_of(st.none(), st.text(max_size=10), st.sampled_from(["=1+1", "@SUM(A1)", "-2", "+x"])),
                      min_size=1, max_size=8),
       numbers=st.lists(st.floats(allow_nan=False), min_size=8, max_size=8))
def test_no_text_cell_starts_like_a_formula_and_nothing_else_changes(cells, numbers):
    frame = pd.DataFrame({"text": pd.Series(cells, dtype=object), "number": numbers[:len(cells)]})
    safe = spreadsheet_safe(frame)
    for before, after in zip(frame["text"], safe["text"], strict=True):
        if isinstance(before, str) and before.startswith(FORMULA_STARTS):
            assert after == "'" + before
        else:
            assert after is before or after == before
    assert safe["number"].equals(frame["number"])
