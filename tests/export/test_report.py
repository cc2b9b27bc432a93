"""What `immunopet export` prints: the counts of exported scans, objects, scans left out and objects stored."""

from __future__ import annotations

from pathlib import Path

from immunopet.export.job import ExportResult
from immunopet.export.pipeline import ExportSummary
from immunopet.export.push import Sent
from immunopet.export.report import print_pushed, print_summary
from immunopet.logging_setup import console


def _printed(call) -> tuple[str, object]:
    with console.capture() as captured:
        value = call()
    return " ".join(captured.get().split()), value


def test_summary_counts_scans_objects_and_scans_left_out(tmp_path):
    done = [ExportResult(f"P0{k}_D2", "done", files={"seg": "s", "sr": "r"}) for k in range(3)]
    summary = ExportSummary(tmp_path, done=done, failed=[("P04_D2", "results out of date"), ("P05_D7", "failed")],
                            seconds=12.34)
    text, _ = _printed(lambda: print_summary(summary))
    assert "exported 3 scan(s) (6 objects: SEG + SR)" in text and "; 2 left out (12.3 s)" in text, text
    assert "not exported: P04_D2: results out of date" in text and "not exported: P05_D7: failed" in text
    assert summary.exit_code == 1 and len(summary.files()) == 6


def test_pushed_counts_the_stored_objects_and_names_each_refused_one():
    sent = [Sent(str(Path("out", "P01_D2", name)), ok, detail) for name, ok, detail in
            [("seg.dcm", True, "stored"), ("sr.dcm", False, "refused, status 0xA700"), ("seg.dcm", True, "stored")]]
    text, code = _printed(lambda: print_pushed(sent, "C-STORE PACS@pacs:104"))
    assert "C-STORE PACS@pacs:104: 2 of 3 object(s) stored" in text and code == 1, text
    assert "not stored: P01_D2/sr.dcm: refused, status 0xA700" in text and text.count("not stored") == 1
    text, code = _printed(lambda: print_pushed(sent[:1], "STOW-RS url"))
    assert "STOW-RS url: 1 of 1 object(s) stored" in text and code == 0, text
