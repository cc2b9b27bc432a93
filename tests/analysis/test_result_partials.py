"""analysis/ after a killed write: the next write leaves no temporary file behind."""

import subprocess
import sys

import pandas as pd

from immunopet.analysis.result import AnalysisResult


def test_partial_files_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    out = tmp_path / "analysis"
    out.mkdir()
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True).stdout)
    (out / f".analysis.json.{dead}.partial").write_text('{"half')
    (out / f".patients.csv.{dead}.partial").write_text("patient_id\nP0")
    AnalysisResult(tables={"patients": pd.DataFrame({"patient_id": ["P01"]})}, summary={"n": 1}).write(out)
    assert sorted(p.name for p in out.iterdir()) == ["analysis.json", "patients.csv"]
