"""The demo's drawn-once path on a raw export: init, VOIs drawn once from the truth, run registers and
measures every scan."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import ImmunoPETError
from immunopet.simulate.drawn_once import RULE_ORGANS
from immunopet.simulate.pacs_truth import annotate_from_truth


@pytest.fixture(scope="module")
def drawn_once_export(tmp_path_factory):
    from immunopet.intake import init_study
    from immunopet.simulate.pacs_export import EXPORT_FOLDER, simulate_pacs_export
    from immunopet.simulate.pacs_truth import annotate_from_truth
    from immunopet.study import run_study

    out = simulate_pacs_export(tmp_path_factory.mktemp("pacs-once") / "sim", patients=2, quick=True, seed=4)
    init_study(out, out / EXPORT_FOLDER, days=(0.04, 2, 4, 7))
    annotate_from_truth(out, out, vois_layout="drawn-once")
    summary = run_study(out, workers=1)
    return out, summary


def test_every_scan_measures_the_rule_organs_and_the_lesions_drawn_once(drawn_once_export):
    study, summary = drawn_once_export
    assert summary.exit_code == 0
    vois = pd.read_csv(study / "vois.csv")
    once = vois[vois["drawn_on"].notna()]
    assert len(once) > 0 and once["scan_id"].isna().all()
    for drawn_on in once["drawn_on"].unique():
        assert (study / "segmentations" / drawn_on).is_dir()  # the segmenter folder of that CT
    measured = pd.read_csv(study / "results" / "measurements.csv")
    scans = pd.read_csv(study / "scans.csv")
    for scan in scans.itertuples():
        got = set(measured.loc[measured["scan_id"] == scan.scan_id, "voi_id"])
        wanted = set(once.loc[once["patient_id"] == scan.patient_id, "voi_id"])
        assert wanted <= got, (scan.scan_id, wanted - got)
        assert set(RULE_ORGANS) <= got


def test_the_mapped_liver_reads_the_true_liver_on_every_day(drawn_once_export):
    study, _ = drawn_once_export
    measured = pd.read_csv(study / "results" / "measurements.csv")
    truth = pd.read_csv(study / "truth" / "truth.csv")
    liver = measured[measured["voi_id"] == "liver"].merge(
        truth[truth["voi_id"] == "liver"][["scan_id", "true_suv_mean"]], on="scan_id")
    assert len(liver) == len(pd.read_csv(study / "scans.csv"))
    ratio = liver["suv_mean"] / liver["true_suv_mean"]
    assert ratio.between(0.9, 1.1).all(), ratio.round(3).tolist()


def test_an_unknown_layout_is_refused(tmp_path):
    from immunopet.simulate.pacs_truth import annotate_from_truth

    with pytest.raises(ImmunoPETError, match="unknown VOI layout"):
        annotate_from_truth(tmp_path, tmp_path, vois_layout="sometimes")


def test_demo_refuses_an_unknown_layout_before_anything_is_written(tmp_path, capsys):
    from immunopet.cli import main

    assert main(["demo", str(tmp_path / "d"), "--quick", "--vois", "all"]) == 3
    assert "--vois" in capsys.readouterr().err and not (tmp_path / "d").exists()


@settings(max_examples=30, deadline=None)
@given(st.text(max_size=20).filter(lambda t: t not in ("per-day", "drawn-once")))
def test_any_other_demo_layout_is_refused(tmp_path_factory, text):
    from immunopet.report.demo import run_demo

    out = tmp_path_factory.mktemp("demo-layout") / "d"
    with pytest.raises(ImmunoPETError, match="--vois"):
        run_demo(out, quick=True, vois=text)
    assert not out.exists()


@settings(max_examples=30, deadline=None)
@given(st.one_of(st.text(max_size=20), st.none(), st.integers()).filter(lambda t: t not in ("per-day", "drawn-once")))
def test_annotate_refuses_any_other_layout_before_reading_the_study(tmp_path_factory, value):
    from immunopet.simulate.pacs_truth import annotate_from_truth

    folder = tmp_path_factory.mktemp("annotate")
    with pytest.raises(ImmunoPETError, match="--vois"):
        annotate_from_truth(folder, folder, vois_layout=value)
    assert not any(folder.iterdir())


def test_without_segmenter_folders_drawn_once_is_refused_and_the_tables_stay(drawn_once_export, tmp_path):
    import shutil

    study, _ = drawn_once_export
    copy = tmp_path / "study"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("results", "registration", "dicom-export"))
    shutil.rmtree(copy / "truth" / "study" / "segmentations")
    before = {name: (copy / name).read_bytes() for name in ("patients.csv", "vois.csv", "lesions.csv")}
    with pytest.raises(ImmunoPETError, match="segmenter folder"):
        annotate_from_truth(copy, copy, vois_layout="drawn-once")
    assert before == {name: (copy / name).read_bytes() for name in before}
