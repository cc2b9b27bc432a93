"""``blood.csv``: optional blood samples of a study (the input of the kinetic analyses, docs/kinetics.md).

Columns: ``patient_id``, ``sample_datetime`` (ISO 8601 local time, like ``injection_datetime``),
``whole_blood_bqml`` and/or ``plasma_bqml`` (activity concentration counted and decay corrected to the
sample time), ``haematocrit`` (fraction 0-1; needed when only plasma is given). One row per sample.
"""

from __future__ import annotations

import datetime as dt
import os
import math
from pathlib import Path

import pandas as pd

from immunopet.errors import StudyError

COLUMNS = ("patient_id", "sample_datetime", "whole_blood_bqml", "plasma_bqml", "haematocrit")


def _number(text: object, *, where: str, path: Path) -> float | None:
    if text is None or (isinstance(text, float) and math.isnan(text)) or str(text).strip() == "":
        return None
    try:
        value = float(str(text).strip().replace(",", "."))
    except ValueError:
        raise StudyError(f"{where}: not a number ({str(text)[:40]!r})", file=path, fix="give a plain number") from None
    if not math.isfinite(value):
        raise StudyError(f"{where}: not a finite number", file=path, fix="give a plain number")
    return value


def read_blood_samples(path: str | Path) -> pd.DataFrame:
    """The validated samples: ``patient_id, sample_datetime (datetime), whole_blood_bqml`` (plasma
    converted with ``whole = plasma x (1 - haematocrit)``: an antibody stays out of the blood cells).

    Raises
    ------
    StudyError
        Naming the file, the row (as a spreadsheet numbers it) and the column, with the fix.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise StudyError(f"cannot read blood samples ({error.__class__.__name__})", file=path,
                         fix="give a CSV with the columns " + ", ".join(COLUMNS)) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    for column in ("patient_id", "sample_datetime"):
        if column not in raw.columns:
            raise StudyError(f"blood.csv has no column {column!r}", file=path, attribute=column,
                             fix="columns: " + ", ".join(COLUMNS))
    rows = []
    for index, row in raw.iterrows():
        where = f"row {index + 2}"
        pid = str(row["patient_id"]).strip()
        if not pid:
            raise StudyError(f"{where}, column patient_id: empty", file=path, fix="give the patient's id")
        try:
            when = dt.datetime.fromisoformat(str(row["sample_datetime"]).strip())
        except ValueError:
            raise StudyError(f"{where}, column sample_datetime: not an ISO date-time "
                             f"({str(row['sample_datetime'])[:40]!r})", file=path,
                             fix="e.g. 2017-01-09T11:05:00 (local time, as injection_datetime)") from None
        whole = _number(row.get("whole_blood_bqml"), where=f"{where}, column whole_blood_bqml", path=path)
        plasma = _number(row.get("plasma_bqml"), where=f"{where}, column plasma_bqml", path=path)
        hct = _number(row.get("haematocrit"), where=f"{where}, column haematocrit", path=path)
        if hct is not None and not 0.0 < hct < 1.0:
            raise StudyError(f"{where}, column haematocrit: {hct:g} is not a fraction between 0 and 1", file=path,
                             fix="give the haematocrit as a fraction, e.g. 0.42 (not 42 %)")
        if whole is None:
            if plasma is None:
                raise StudyError(f"{where}: neither whole_blood_bqml nor plasma_bqml given", file=path,
                                 fix="give the whole-blood or the plasma concentration (Bq/mL)")
            if hct is None:
                raise StudyError(f"{where}: plasma only, without haematocrit", file=path, attribute="haematocrit",
                                 fix="give the haematocrit (whole blood = plasma x (1 - haematocrit))")
            whole = plasma * (1.0 - hct)
        if not whole > 0:
            raise StudyError(f"{where}: the blood concentration must be positive", file=path,
                             fix="give Bq/mL > 0 (or leave the sample out)")
        rows.append({"patient_id": pid, "sample_datetime": when, "whole_blood_bqml": whole})
    return pd.DataFrame(rows, columns=["patient_id", "sample_datetime", "whole_blood_bqml"])


#: The file's name in the study folder.
BLOOD_FILE = "blood.csv"


def blood_problems(root: Path, policy, known_patients: set[str] | None) -> list:  # noqa: ANN001 - a PathPolicy
    """Problems of ``STUDY/blood.csv`` when there is one (validate, run and analyze all check it):
    not a readable regular file inside the study, a bad row, or a patient not in patients.csv."""
    from immunopet.study.problems import Problem

    path = Path(root) / BLOOD_FILE
    if not os.path.lexists(path):
        return []
    where = policy.problem(BLOOD_FILE, folder_ok=False)
    if where is not None:
        return [Problem(BLOOD_FILE, None, None, where)]
    try:
        samples = read_blood_samples(path)
    except StudyError as bad:
        return [Problem(BLOOD_FILE, None, bad.attribute, bad.message + (f" (fix: {bad.fix})" if bad.fix else ""))]
    if known_patients is None:
        return []
    unknown = sorted(set(samples["patient_id"]) - set(known_patients))
    return [Problem(BLOOD_FILE, None, "patient_id", f"patient {pid!r} is not in patients.csv") for pid in unknown[:20]]
