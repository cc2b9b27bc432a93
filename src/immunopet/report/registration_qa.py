"""The registration part of the report's QA: one row per registered scan, poor and failed ones flagged.

Read from ``STUDY/registration/registration.json`` (written by ``immunopet register`` or by ``run``
when VOIs are drawn once); nothing is shown when the study was not registered. Measures and limits
are defined in docs/registration.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

COLUMNS = {"scan_id": "scan", "reference_scan_id": "reference", "modality": "modality", "status": "status",
           "nmi_before": "NMI before", "nmi_after": "NMI after", "body_dice_before": "body Dice before",
           "body_dice_after": "body Dice after", "landmark_mean_mm": "landmark error (mm)",
           "verdict": "verdict", "reasons": "reason"}


def registration_table(study_dir: Path, records: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Registered scans (reference scans left out), with ``reasons`` holding the error of a failed one.
    ``records``: registration.json's records when already read (else read here)."""
    from immunopet.study.registration_store import read_records

    if records is None:
        records = read_records(Path(study_dir))
    rows = [r if r.get("status") != "failed" else {**r, "verdict": "failed", "reasons": r.get("error")}
            for r in records.values() if r.get("status") != "reference"]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def registration_blocks(study_dir: Path, settings: Mapping[str, Any] | None = None, *,
                        records: Mapping[str, Mapping[str, Any]] | None = None) -> tuple[list[dict[str, Any]], int]:
    """QA blocks (title, note, table) of the study's registrations (none when there are none), and
    the number of registrations that were poor or failed. ``settings``: study.yaml's ``registration``
    block, whose quality limits (if set) are the ones the note states; ``records`` as in
    :func:`registration_table`."""
    from immunopet.register.params import split_settings
    from immunopet.report.html import table_from_frame

    frame = registration_table(study_dir, records)
    if frame.empty:
        return [], 0
    flagged = frame[frame["verdict"].isin(["poor", "failed"])]
    note = (f"{len(flagged)} of {len(frame)} registrations poor or failed: check them before trusting VOIs drawn "
            "on another day." if len(flagged) else f"All {len(frame)} registrations are within the limits.")
    limits = split_settings(settings or {})[1]
    note += (f" Poor: body Dice < {limits.min_body_dice:g}, NMI < {limits.min_nmi:g} or landmark error > "
             f"{limits.max_landmark_mm:g} mm (docs/registration.md).")
    return [{"title": "Registration to the reference scan", "note": note,
             "table": table_from_frame(frame, columns=COLUMNS, empty_text="No scan was registered.")}], len(flagged)
