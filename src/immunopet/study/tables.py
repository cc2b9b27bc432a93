"""Reading one study table (CSV) and validating every row, collecting all problems."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ValidationError

from immunopet.study.paths import PathPolicy
from immunopet.study.problems import Problem
from immunopet.study.rows import RowRule

#: Spreadsheet row of the first data row (the header is row 1).
FIRST_DATA_ROW = 2


def _describe(error: dict) -> str:
    """A pydantic error as a sentence that says what is expected, with the value found."""
    found = error.get("input")
    message = error["msg"]
    if error["type"] == "missing":
        return "required value is empty"
    if isinstance(found, str):
        return f"{message} (found {found!r})"
    return message


def _read_raw(path: Path) -> pd.DataFrame:
    """Every cell as text; the header is the first row as written (pandas would rename a repeated
    column ``height_cm.1``, hiding the repetition)."""
    raw = pd.read_csv(path, dtype=str, header=None, keep_default_na=False, encoding="utf-8-sig",
                      skipinitialspace=True)
    if raw.empty:
        raise pd.errors.EmptyDataError("no header row")
    header = [str(c).strip() for c in raw.iloc[0]]
    body = raw.iloc[1:].reset_index(drop=True)
    body.columns = header
    return body


def read_table(
    root: Path, name: str, model: type[BaseModel], *, optional: bool = False, rules: Sequence[RowRule] = (),
    policy: PathPolicy | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Read ``root / name`` and validate each row against ``model``.

    Parameters
    ----------
    root
        The study folder.
    name
        File name relative to ``root``.
    model
        The row model; its fields without a default are the required columns.
    optional
        When true, a missing file gives an empty table instead of a problem.
    rules
        Checks over several cells of a row (:data:`immunopet.study.rows.ROW_RULES`).
    policy
        Where the table may lie (default: inside ``root``).

    Returns
    -------
    (pandas.DataFrame, list[Problem])
        The typed table (model columns first, then any extra columns as text, plus ``_row``, the
        spreadsheet row number) and the problems found. Rows with problems are left out (their raw
        cells are kept in ``table.attrs["rejected"]``).
    """
    fields = model.model_fields
    columns = [*fields, "_row"]
    policy = policy or PathPolicy.for_study(root)
    empty = pd.DataFrame(columns=columns)
    path = policy.absolute(name)
    if optional and not os.path.lexists(path):
        return empty, []
    wrong = policy.problem(name, folder_ok=False)
    if wrong is not None:
        return empty, [Problem(name, None, None, wrong if os.path.lexists(path) else f"file not found in {root}")]
    try:
        raw = _read_raw(path)
    except (ValueError, UnicodeDecodeError, OSError) as bad:  # pandas' ParserError and EmptyDataError are ValueErrors
        return empty, [Problem(name, None, None, f"not a readable UTF-8 CSV table with a header row ({bad})")]
    problems: list[Problem] = []
    raw = raw.loc[:, raw.columns != ""]  # columns without a header (trailing commas of a spreadsheet)
    duplicated = raw.columns[raw.columns.duplicated()]
    for column in dict.fromkeys(duplicated):
        problems.append(Problem(name, 1, column, "column appears more than once in the header"))
    raw = raw.loc[:, ~raw.columns.duplicated()]
    missing = [f for f, info in fields.items() if info.is_required() and f not in raw.columns]
    for column in missing:
        problems.append(Problem(name, 1, column, "required column is missing from the header"))
    if missing:
        return pd.DataFrame(columns=columns), problems

    extras = [c for c in raw.columns if c not in fields]
    known = [c for c in raw.columns if c in fields]
    records, rejected = [], []
    for offset, cells in enumerate(raw[known].to_dict("records")):
        row_number = offset + FIRST_DATA_ROW
        values = {k: (v.strip() or None) for k, v in cells.items()}
        if all(v is None for v in values.values()):
            continue  # a blank line a spreadsheet left at the end
        try:
            record = model.model_validate(values).model_dump()
        except ValidationError as invalid:
            for error in invalid.errors():
                column = str(error["loc"][0]) if error["loc"] else None
                problems.append(Problem(name, row_number, column, _describe(error)))
            rejected.append(values)
            continue
        broken = [(column, message) for rule in rules for column, message in rule(record)]
        if broken:
            problems += [Problem(name, row_number, column, message) for column, message in broken]
            rejected.append(values)
            continue
        record.update({c: raw.at[offset, c] for c in extras})
        record["_row"] = row_number
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=[*fields, *extras, "_row"])
    table.attrs["rejected"] = rejected  # raw cells of invalid rows: their ids still count as known
    return table, problems
