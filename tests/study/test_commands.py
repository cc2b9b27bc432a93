"""The `immunopet run` and `immunopet validate` commands: output, JSON and exit codes."""

from __future__ import annotations

import json

import pandas as pd

from immunopet.cli import main


def test_run_prints_a_json_summary_and_exits_0(analytic_study, capsys):
    assert main(["run", str(analytic_study), "--workers", "1", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["exit_code"] == 0 and summary["status"] == "done"
    assert sorted(d["id"] for d in summary["done"]) == ["P01_D2", "P01_D7", "P02_D2", "P02_D7", "P03_D2", "P03_D7"]
    assert summary["n_vois_measured"] == 18
    assert "6 done, 0 skipped, 0 failed" in captured.err
    assert main(["run", str(analytic_study), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["done"] == [] and len(again["skipped"]) == 6


def test_invalid_study_prints_a_problem_table_and_exits_3(analytic_study, capsys):
    scans = pd.read_csv(analytic_study / "scans.csv", dtype=str, keep_default_na=False)
    scans.loc[2, "patient_id"] = "P42"
    scans.loc[4, "day"] = "-3"
    scans.to_csv(analytic_study / "scans.csv", index=False)
    for command in ("validate", "run"):
        assert main([command, str(analytic_study)]) == 3
        err = capsys.readouterr().err
        assert "2 problem(s)" in err
        assert "scans.csv" in err and "P42" in err and "greater than or equal to 0" in err
    assert not (analytic_study / "results" / "immunopet.sqlite").exists()  # nothing was run


def test_validate_reports_a_good_study(analytic_study, capsys):
    assert main(["validate", str(analytic_study)]) == 0
    assert "3 patients, 6 scans, 18 VOIs, 3 lesions: no problems found" in capsys.readouterr().err


def test_validate_checks_blood_csv(analytic_study, capsys, tmp_path):
    import os

    blood = analytic_study / "blood.csv"
    header = "patient_id,sample_datetime,whole_blood_bqml\n"
    blood.write_text(header + "P01,2017-01-09T12:30:00,1000\n")
    assert main(["validate", str(analytic_study)]) == 0
    for text, expected in ((header + "P77,2017-01-09T12:30:00,1000\n", "patient 'P77' is not in patients.csv"),
                           (header + "P01,tomorrow,1000\n", "row 2, column sample_datetime"),
                           ("who,when\n", "no column 'patient_id'")):
        blood.write_text(text)
        assert main(["validate", str(analytic_study)]) == 3
        err = " ".join(capsys.readouterr().err.split())
        assert "blood.csv" in err and expected in err, err
    blood.unlink()
    os.mkfifo(blood)  # a FIFO would hang a reader: refused before it is opened
    assert main(["validate", str(analytic_study)]) == 3
    assert "special file" in " ".join(capsys.readouterr().err.split())
    blood.unlink()
    outside = tmp_path / "elsewhere.csv"
    outside.write_text(header + "P01,2017-01-09T12:30:00,1000\n")
    blood.symlink_to(outside)
    assert main(["validate", str(analytic_study)]) == 3
    assert "outside the study folder" in " ".join(capsys.readouterr().err.split())
    blood.unlink()
