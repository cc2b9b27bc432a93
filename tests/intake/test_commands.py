"""``immunopet init`` on the command line: clear errors, exit codes, the JSON summary."""

from __future__ import annotations

import json

import pytest

from immunopet.cli import main


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())  # the console wraps long lines


@pytest.mark.parametrize("argv, words", [
    (["init", "S"], "exactly one of --dicom"),
    (["init", "S", "--dicom", "nowhere"], "does not exist"),
    (["init", "S", "--dicom", ".", "--days", "2,x"], "--days"),
    (["init", "S", "--dicom", ".", "--nuclide", "Xx-1"], "Xx-1"),
    (["init", "S", "--dicom", ".", "--patient", "12"], "--patient works with --pacs only"),
    (["init", "S", "--dicom", ".", "--tolerance", "0"], "--tolerance"),
    (["init", "S", "--dicom", ".", "--tolerance", "nan"], "--tolerance"),
])
def test_bad_input_is_a_clear_error(argv, words, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, text = _run(argv, capsys)
    assert code == 3 and words in text and "Traceback" not in text


def test_a_folder_without_dicom(tmp_path, capsys):
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "notes.txt").write_text("no images here")
    code, text = _run(["init", str(tmp_path / "s"), "--dicom", str(tmp_path / "export")], capsys)
    assert code == 3 and "no DICOM series" in text and "1 file(s) unreadable" in text


def test_json_summary_and_printed_table(pacs_export_small, tmp_path, capsys):
    code, text = _run(["init", str(tmp_path / "s"), "--dicom", str(pacs_export_small / "dicom-export"), "--json"], capsys)
    assert code == 0
    summary, _ = json.JSONDecoder().raw_decode(text[text.index('{"patients"'):])
    scans = (pacs_export_small / "truth" / "scans.csv").read_text().strip().splitlines()[1:]
    decoys = (pacs_export_small / "truth" / "decoys.csv").read_text().strip().splitlines()[1:]
    assert summary["scans"] == len(scans) and summary["left_out"] == len(decoys) and summary["patients"] == 2
    assert "day 0.04" in text and "scout / localizer" in text and "identifiers.csv" in text


def test_printed_counts_match_the_truth(pacs_export_small, tmp_path, capsys):
    """The summary's numbers: left-out series per reason, scans per patient and day, new rows, changes."""
    import re
    from collections import Counter

    from tests.intake.conftest import EXPECTED_REASON, read

    study, export = tmp_path / "s", str(pacs_export_small / "dicom-export")
    code, text = _run(["init", str(study), "--dicom", export, "--json"], capsys)
    assert code == 0
    decoys, truth = read(pacs_export_small / "truth" / "decoys.csv"), read(pacs_export_small / "truth" / "scans.csv")
    printed = {reason.strip(): int(n) for n, reason in re.findall(r"│ (\d+) │ ([^│]+?) │", text)}
    assert printed == dict(Counter(EXPECTED_REASON[kind] for kind in decoys["kind"]))
    grid = re.findall(r"│ (P\d+(?:i\d+)?) │((?: (?:x(?: \(no CT\))?|-) │)+)", text)
    assert sorted(row.count("x") for _, row in grid) == sorted(truth.groupby("patient_id").size())
    assert f"{len(truth)} new row(s) in scans.csv, 2 new row(s) in patients.csv" in text
    summary, _ = json.JSONDecoder().raw_decode(text[text.index('{"patients"'):])
    assert summary["unreadable"] == 0 and summary["changes"] == 0

    scans = read(study / "scans.csv")
    scans.loc[0, "hours_pi"] = "1"
    scans.to_csv(study / "scans.csv", index=False)
    code, text = _run(["init", str(study), "--dicom", export, "--json"], capsys)
    summary, _ = json.JSONDecoder().raw_decode(text[text.index('{"patients"'):])
    assert code == 0 and summary["changes"] == 1 and "0 new row(s) in scans.csv" in text
    assert f"would change scans.csv pet_series_uid={scans.loc[0, 'pet_series_uid']} hours_pi: '1' ->" in text
