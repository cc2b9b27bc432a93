"""The lesion-tracking part of the report's QA: the lesions new or vanished on a day.

Read from ``STUDY/results/lesion_tracking.csv`` (written by ``immunopet run`` for the patients whose
scans are registered; columns and matching in docs/study-format.md, "Lesions over days"). Nothing is
shown when the file is missing or lists no lesion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

COLUMNS = {"patient_id": "patient", "scan_id": "scan", "day": "day", "status": "status",
           "voi_id": "VOI that day", "tracked_id": "lesion id over days"}


def lesion_tracking_blocks(study_dir: Path) -> list[dict[str, Any]]:
    """One QA block (title, note, table) listing the new and vanished lesions, or none."""
    from immunopet.report.html import table_from_frame
    from immunopet.study.exports import RESULTS_DIR
    from immunopet.study.lesion_tracking import FILE

    path = Path(study_dir) / RESULTS_DIR / FILE
    if not path.is_file():
        return []
    table = pd.read_csv(path, dtype={"patient_id": str, "scan_id": str, "voi_id": str, "tracked_id": str})
    days = table[table["status"] != "reference"]
    if days.empty:
        return []
    counts = days["status"].value_counts()
    listed = days[days["status"].isin(["new", "vanished"])].sort_values(["patient_id", "day", "scan_id", "status"])
    note = (f"Lesions of the other days matched to the reference scan's by registered position: "
            f"{counts.get('matched', 0)} matched, {counts.get('new', 0)} new, {counts.get('vanished', 0)} vanished "
            "(results/lesion_tracking.csv).")
    return [{"title": "Lesions new or vanished over days", "note": note,
             "table": table_from_frame(listed, columns=COLUMNS, empty_text="Every lesion was found on every day.")}]
