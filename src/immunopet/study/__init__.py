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

from __future__ import annotations

from typing import TYPE_CHECKING

from immunopet.lazy_exports import lazy_exports

# Names are imported on first use (PEP 562), so `immunopet --help` stays fast.
_HOME = {
    "build_scan_masks": "masks",
    "load_results": "results",
    "load_study": "manifest",
    "MEASUREMENT_COLUMNS": "results",
    "Outcome": "summary",
    "patient_summary": "results",
    "Problem": "problems",
    "Results": "results",
    "run_study": "run",
    "RunSummary": "summary",
    "Study": "manifest",
    "StudyConfig": "config",
    "StudyValidationError": "problems",
}

__all__ = sorted(_HOME)

if TYPE_CHECKING:
    from immunopet.study.config import StudyConfig
    from immunopet.study.manifest import Study, load_study
    from immunopet.study.masks import build_scan_masks
    from immunopet.study.problems import Problem, StudyValidationError
    from immunopet.study.results import MEASUREMENT_COLUMNS, Results, load_results, patient_summary
    from immunopet.study.run import run_study
    from immunopet.study.summary import Outcome, RunSummary


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())
