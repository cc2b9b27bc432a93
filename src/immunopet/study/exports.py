"""The tidy files of ``results/``: measurements.csv/.parquet and patients.csv (atomic writes).

Text cells of the CSV files that a spreadsheet would run as a formula (starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return) are written with a leading apostrophe (OWASP, "CSV
Injection"); the Parquet file keeps the values as they are.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from immunopet.atomic import atomic_write, remove_stale_partials
from immunopet.study.manifest import Study
from immunopet.study.results import Results, read_results

RESULTS_DIR = "results"
#: First characters that make a spreadsheet evaluate a cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutral(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that starts like a formula prefixed by ``'`` (numbers untouched)."""
    text = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
    if not text:
        return frame
    return frame.assign(**{c: frame[c].map(_neutral) for c in text})


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as a spreadsheet-safe CSV through a temporary file (see module docstring)."""
    return atomic_write(path, lambda p: spreadsheet_safe(frame).to_csv(p, index=False))


def write_result_files(results: Results, folder: Path) -> list[Path]:
    """Write ``measurements.csv``, ``measurements.parquet`` and ``patients.csv`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(folder)
    written = [folder / "measurements.csv", folder / "measurements.parquet", folder / "patients.csv"]
    write_csv(results.measurements, written[0])
    atomic_write(written[1], lambda p: results.measurements.to_parquet(p, index=False))
    write_csv(results.patients, written[2])
    return written


def write_exports(study: Study, engine: Engine) -> Results:
    """Read the study's tables from the store, write them to ``STUDY/results/`` and return them."""
    results = read_results(engine, study.config, study.lesions)
    write_result_files(results, study.root / RESULTS_DIR)
    return results
