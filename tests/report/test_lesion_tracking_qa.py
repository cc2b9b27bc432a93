"""The lesion-tracking block of the report's QA: new and vanished lesions listed, counts stated."""

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immunopet.report.lesion_tracking_qa import lesion_tracking_blocks

ROWS = [
    ("P01", "P01_D7", 7.0, "L1", "L1", "reference", None), ("P01", "P01_D7", 7.0, "L2", "L2", "reference", None),
    ("P01", "P01_D2", 2.0, "a", "L1", "matched", 1.5), ("P01", "P01_D2", 2.0, None, "L2", "vanished", None),
    ("P01", "P01_D2", 2.0, "b", "N1", "new", None), ("P01", "P01_D4", 4.0, "L1", "L1", "matched", 0.0),
    ("P01", "P01_D4", 4.0, "L2", "L2", "matched", 0.0),
]


def _write(study, rows):
    (study / "results").mkdir(parents=True)
    columns = ["patient_id", "scan_id", "day", "voi_id", "tracked_id", "status", "distance_mm"]
    pd.DataFrame(rows, columns=columns).to_csv(study / "results" / "lesion_tracking.csv", index=False)


def test_new_and_vanished_lesions_are_listed_with_the_counts(tmp_path):
    _write(tmp_path, ROWS)
    [block] = lesion_tracking_blocks(tmp_path)
    assert "3 matched, 1 new, 1 vanished" in block["note"]
    table = block["table"]
    assert table.columns == ["patient", "scan", "day", "status", "VOI that day", "lesion id over days"]
    assert [(r[1], r[3], r[5]) for r in table.rows] == [("P01_D2", "new", "N1"), ("P01_D2", "vanished", "L2")]


def test_no_block_without_tracked_lesions(tmp_path):
    assert lesion_tracking_blocks(tmp_path) == []
    _write(tmp_path, ROWS[:2])
    assert lesion_tracking_blocks(tmp_path) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode),
                 st.sampled_from([b"", b"patient_id,status\nP01,new\n", b"\xff\xfe\x00bad", b'"unclosed\n1,2'])))
def test_a_damaged_tracking_file_gives_no_block_never_an_error(tmp_path, data):
    (tmp_path / "results").mkdir(exist_ok=True)
    (tmp_path / "results" / "lesion_tracking.csv").write_bytes(data)
    blocks = lesion_tracking_blocks(tmp_path)
    assert blocks == [] or (len(blocks) == 1 and "matched" in blocks[0]["note"])
