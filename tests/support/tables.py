"""Editing copies of study tables in tests, and collecting what ``load_study`` refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest


def edit_table(path: Path, change: Callable[[pd.DataFrame], object]) -> None:
    """Read a study table as text, let ``change`` edit it in place, write it back."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(table)
    table.to_csv(path, index=False)


def set_cell(frame: pd.DataFrame, row: int, column: str, value: str) -> None:
    """Set the cell of spreadsheet row ``row`` (the header is row 1)."""
    frame.loc[row - 2, column] = value


def problems_of(study_dir: Path) -> list[tuple[str, int | None, str | None, str]]:
    """``(file, row, column, message)`` of every problem ``load_study`` finds (fails if none)."""
    from immunopet.study import StudyValidationError, load_study

    with pytest.raises(StudyValidationError) as raised:
        load_study(study_dir)
    return [(p.file, p.row, p.column, p.message) for p in raised.value.problems]
