"""analysis/*.csv and analysis.json: written whole through a rename, formulas neutralised."""

import json

import pandas as pd

from immunopet.analysis.result import AnalysisResult


def test_tables_are_spreadsheet_safe_and_nothing_partial_is_left(tmp_path):
    table = pd.DataFrame({"patient_id": ["P01", "=HYPERLINK(\"http://x\")"], "value": [-1.5, 2.0],
                          "note": ["+cmd", "@SUM(A1)"]})
    result = AnalysisResult(tables={"patients": table}, summary={"schema_version": 1, "n": float("nan")})
    path = result.write(tmp_path / "analysis")
    back = pd.read_csv(tmp_path / "analysis" / "patients.csv")
    assert list(back["patient_id"]) == ["P01", "'=HYPERLINK(\"http://x\")"]
    assert list(back["note"]) == ["'+cmd", "'@SUM(A1)"]
    assert list(back["value"]) == [-1.5, 2.0]  # numbers are not text: untouched
    assert json.loads(path.read_text()) == {"schema_version": 1, "n": None}
    assert sorted(p.name for p in (tmp_path / "analysis").iterdir()) == ["analysis.json", "patients.csv"]
