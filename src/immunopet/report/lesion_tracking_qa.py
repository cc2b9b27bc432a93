"""The lesion-tracking part of the report's QA: the lesions new or vanished on a day.

Read from ``STUDY/results/lesion_tracking.csv`` (written by ``immunopet run`` for the patients whose
scans are registered; columns and matching in docs/study-format.md, "Lesions over days"). Nothing is
shown when the file is missing or lists no lesion.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

log = logging.getLogger(__name__)

COLUMNS = {"patient_id": "patient", "scan_id": "scan", "day": "day", "status": "status",
           "voi_id": "VOI that day", "tracked_id": "lesion id over days"}


def lesion_tracking_blocks(study_dir: Path) -> list[dict[str, Any]]:
    """One QA block (title, note, table) listing the new and vanished lesions, or none."""
    from immunopet.report.html import table_from_frame
    from immunopet.study.exports import RESULTS_DIR
    from immunopet.study.lesion_tracking import COLUMNS as FILE_COLUMNS
    from immunopet.study.lesion_tracking import FILE, TrackingCounts

    path = Path(study_dir) / RESULTS_DIR / FILE
    if not path.is_file():
        return []
    try:
        table = pd.read_csv(path, dtype={"patient_id": str, "scan_id": str, "voi_id": str, "tracked_id": str})
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError) as error:  # EmptyDataError is a ValueError
        log.warning("%s: not shown (%s); run `immunopet run` again to rewrite it", path, error)
        return []
    if not set(FILE_COLUMNS) <= set(table.columns):
        log.warning("%s: not shown (columns %s expected); run `immunopet run` again to rewrite it", path,
                    ", ".join(FILE_COLUMNS))
        return []
    days = table[table["status"] != "reference"]
    if days.empty:
        return []
    counts = TrackingCounts.of(days)
    listed = days[days["status"].isin(["new", "vanished"])].sort_values(["patient_id", "day", "scan_id", "status"])
    note = (f"Lesions of the other days matched to the reference scan's by registered position: "
            f"{counts.matched} matched, {counts.new} new, {counts.vanished} vanished (results/{FILE}).")
    return [{"title": "Lesions new or vanished over days", "note": note,
             "table": table_from_frame(listed, columns=COLUMNS, empty_text="Every lesion was found on every day.")}]
