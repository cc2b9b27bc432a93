"""``immunopet simulate`` through the command line entry point."""

from __future__ import annotations

import json

import pandas as pd
import yaml

from immunopet.cli import main


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
    occupied = tmp_path / "c"
    occupied.mkdir()
    (occupied / "keep.txt").write_text("mine")
    assert main(["simulate", str(occupied), "--quick"]) == 3
    assert main(["simulate", str(tmp_path / "d"), "--quick", "--params", str(tmp_path / "missing.yaml")]) == 3


def test_help_has_an_example(capsys):
    assert main(["simulate", "--help"]) == 0
    assert "Example: immunopet simulate" in capsys.readouterr().out

