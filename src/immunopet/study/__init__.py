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

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "config": "StudyConfig",
    "manifest": "load_study Study",
    "masks": "build_scan_masks",
    "problems": "Problem StudyValidationError",
    "results": "load_results MEASUREMENT_COLUMNS patient_summary Results",
    "run": "run_study",
    "summary": "Outcome RunSummary",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
