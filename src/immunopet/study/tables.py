"""Reading one study table (CSV) and validating every row, collecting all problems."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ValidationError

from immunopet.study.problems import Problem

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


def read_table(
    root: Path, name: str, model: type[BaseModel], *, optional: bool = False
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

    Returns
    -------
    (pandas.DataFrame, list[Problem])
        The typed table (model columns first, then any extra columns as text, plus ``_row``, the
        spreadsheet row number) and the problems found. Rows with problems are left out (their raw
        cells are kept in ``table.attrs["rejected"]``).
    """
    fields = model.model_fields
    columns = [*fields, "_row"]
    path = root / name
    if not path.is_file():
        if optional:
            return pd.DataFrame(columns=columns), []
        return pd.DataFrame(columns=columns), [Problem(name, None, None, f"file not found in {root}")]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as bad:
        return pd.DataFrame(columns=columns), [
            Problem(name, None, None, f"not a readable UTF-8 CSV table with a header row ({bad})")
        ]
    raw.columns = [str(c).strip() for c in raw.columns]
    problems: list[Problem] = []
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
        record.update({c: raw.at[offset, c] for c in extras})
        record["_row"] = row_number
        records.append(record)
    table = pd.DataFrame.from_records(records, columns=[*fields, *extras, "_row"])
    table.attrs["rejected"] = rejected  # raw cells of invalid rows: their ids still count as known
    return table, problems
