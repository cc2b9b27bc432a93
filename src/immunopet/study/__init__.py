"""The trial as data: study manifest, results store and incremental runs.

- :func:`load_study` -> :class:`Study`: ``study.yaml`` + CSV tables, validated (all problems at once,
  as a :class:`StudyValidationError`);
- :func:`run_study` -> :class:`RunSummary`: measures new or changed scans (process pool or Dask) into
  the results store (SQLite in the study folder, or any SQLAlchemy URL) and writes the tidy exports;
- :func:`load_results` -> :class:`Results`: tidy measurements, patients (with ``pet_uptake``), lesions
  and scans tables;
- :func:`build_scan_masks`: the VOI masks of one scan on its PET grid.

The format is documented in ``docs/study-format.md``.
"""

from immunopet.study.config import StudyConfig
from immunopet.study.manifest import Study, load_study
from immunopet.study.masks import build_scan_masks
from immunopet.study.problems import Problem, StudyValidationError
from immunopet.study.results import MEASUREMENT_COLUMNS, Results, load_results, patient_summary
from immunopet.study.run import run_study
from immunopet.study.summary import Outcome, RunSummary

__all__ = [
    "MEASUREMENT_COLUMNS",
    "Outcome",
    "Problem",
    "Results",
    "RunSummary",
    "Study",
    "StudyConfig",
    "StudyValidationError",
    "build_scan_masks",
    "load_results",
    "load_study",
    "patient_summary",
    "run_study",
]
