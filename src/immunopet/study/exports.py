"""The tidy files of ``results/``: measurements.csv/.parquet and patients.csv (atomic writes)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine

from immunopet.study.manifest import Study
from immunopet.study.results import Results, read_results

RESULTS_DIR = "results"


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_result_files(results: Results, folder: Path) -> list[Path]:
    """Write ``measurements.csv``, ``measurements.parquet`` and ``patients.csv`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / "measurements.csv", folder / "measurements.parquet", folder / "patients.csv"]
    _atomic(written[0], lambda p: results.measurements.to_csv(p, index=False))
    _atomic(written[1], lambda p: results.measurements.to_parquet(p, index=False))
    _atomic(written[2], lambda p: results.patients.to_csv(p, index=False))
    return written


def write_exports(study: Study, engine: Engine) -> list[Path]:
    """Read the study's tables from the store and write them to ``STUDY/results/``."""
    results = read_results(engine, study.config, study.lesions)
    return write_result_files(results, study.root / RESULTS_DIR)
