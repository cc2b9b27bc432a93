"""Property: whatever a cell holds, ``validate`` accepts a study that then runs, or lists problems
naming file, row and column; it never raises anything else."""

from __future__ import annotations


import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.tables import copy_patients

from immunopet.study import StudyValidationError, load_results, load_study, run_study

TABLES = ("patients.csv", "scans.csv", "vois.csv", "lesions.csv")
SPECIAL = ["", " ", "inf", "-inf", "nan", "NaN", "1e400", "-0", "1.0", "2", "-1", "yes", " PR ", "9" * 40,
           "[/x]", "[bold]", "=1+1", "@SUM(A1)", "../outside", "/", "/dev/zero", "/etc/passwd", "dicom",
           "masks", "x" * 300, "é" * 130, "a/../../b", "P01", "L1", "2017-01-09T10:12:00", "2017-13-45",
           "\u202e", "\t", "\x00", "\ufeff", "a\nb", "P01,P02"]
CELL = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=20),
                 st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers().map(str))


@pytest.fixture(scope="module")
def small_study(quick_study, tmp_path_factory):
    """One patient, two scans: small enough to run on every accepted example (the store is kept, so
    only scans an example changed are measured again)."""
    study = copy_patients(quick_study, tmp_path_factory.mktemp("property") / "study", [0])
    scans = pd.read_csv(study / "scans.csv", dtype=str, keep_default_na=False).iloc[:2]
    scans.to_csv(study / "scans.csv", index=False)
    vois = pd.read_csv(study / "vois.csv", dtype=str, keep_default_na=False)
    vois[vois["scan_id"].isin(scans["scan_id"])].to_csv(study / "vois.csv", index=False)
    originals = {name: (study / name).read_bytes() for name in TABLES}
    return study, originals


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(TABLES), st.integers(0, 30), st.integers(0, 20), CELL),
                      min_size=1, max_size=3))
def test_validate_accepts_a_runnable_study_or_lists_problems(small_study, edits):
    study, originals = small_study
    for name, content in originals.items():
        (study / name).write_bytes(content)
    for name, row, column, value in edits:
        table = pd.read_csv(study / name, dtype=str, keep_default_na=False)
        table.iat[row % len(table), column % len(table.columns)] = value
        table.to_csv(study / name, index=False)
    try:
        loaded = load_study(study)
    except StudyValidationError as invalid:
        assert invalid.problems
        for problem in invalid.problems:
            assert problem.file in (*TABLES, "study.yaml") and problem.message
            assert problem.row is None or problem.row >= 1
        return
    summary = run_study(loaded.root, workers=1, progress=False)
    assert summary.exit_code in (0, 1)
    assert all(outcome.reason for outcome in summary.failed)
    results = load_results(study)
    assert set(results.scans["scan_id"]) == set(loaded.scans["scan_id"])
