"""``immunopet analyze`` end to end on a simulated study, and its error exit."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from immunopet.cli import EXIT_INPUT, EXIT_OK, main


@pytest.fixture(scope="module")
def measured_study(quick_study, tmp_path_factory):
    """The quick simulated study, copied and measured (`immunopet run`)."""
    from immunopet.study import run_study

    study = tmp_path_factory.mktemp("analyze") / "study"
    shutil.copytree(quick_study, study)
    run_study(study)
    return study


@pytest.mark.slow
def test_analyze_command_json_matches_the_study_results(measured_study, capsys):
    from immunopet.study import load_results

    code = main(["analyze", str(measured_study), "--n-boot", "200", "--seed", "3", "--json"])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    summary = json.loads(captured.out)
    assert summary == json.loads((measured_study / "analysis" / "analysis.json").read_text())
    assert summary["parameters"]["n_boot"] == 200 and summary["parameters"]["seed"] == 3
    results = load_results(measured_study)
    # the per-patient uptake agrees with the study store's own summary (same day and metric)
    ours = summary["tumour_uptake"]["patient_uptake"]
    theirs = results.patients["pet_uptake"].dropna()
    assert ours["n"] == len(theirs)
    assert ours["median"] == pytest.approx(float(np.median(theirs)))
    # five patients: small-sample warnings, and every test still states its n
    assert summary["warnings"]
    assert summary["outcome"]["response"]["kruskal_wallis"]["n"] == results.patients["best_response"].isin(
        ["CR", "PR", "SD", "PD"]).sum()
    assert (measured_study / "analysis" / "km_curves.csv").is_file()


@pytest.mark.slow
def test_analyze_command_prints_key_results(measured_study, tmp_path, capsys):
    code = main(["analyze", str(measured_study), "--n-boot", "200", "--day", "4", "--metric", "suv_peak",
                 "--at-risk", "0,2,4", "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert "Key results (day 4, suv_peak" in captured.err and "ROC AUC" in captured.err
    keys = {k["name"]: k for k in json.loads((tmp_path / "out" / "analysis.json").read_text())["key_results"]}
    half = keys["blood-pool half-time (all)"]  # the printed numbers are those written
    assert f"{half['estimate']:.3g}" in captured.err and f"{half['ci_low']:.3g} to" in captured.err
    if keys["PET: ROC AUC for response"]["estimate"] is None:
        assert "not run: " in captured.err
    written = json.loads((tmp_path / "out" / "analysis.json").read_text())
    assert written["parameters"]["day"] == 4.0 and written["parameters"]["at_risk_times"] == [0.0, 2.0, 4.0]
    assert written["outcome"]["survival"]["os"]["logrank"]["at_risk_times"] == [0.0, 2.0, 4.0]


def test_analyze_command_on_a_folder_without_a_study(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "nowhere")]) == EXIT_INPUT
    assert "not found" in capsys.readouterr().err


def test_analyze_command_rejects_bad_options(tmp_path, capsys):
    assert main(["analyze", str(tmp_path), "--at-risk", "0,six"]) == EXIT_INPUT
    assert "comma-separated" in capsys.readouterr().err
