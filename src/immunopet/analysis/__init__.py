"""Statistical analyses of an immunoPET study (biodistribution, tumour uptake, outcome, biomarkers).

The core, :func:`analyze`, is pure: DataFrames in, :class:`AnalysisResult` out. :func:`analyze_study`
loads a study's results, runs it and writes ``analysis/analysis.json`` and CSV tables. The JSON
layout and the table names are documented in ``docs/analyses.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from immunopet.lazy_exports import lazy_exports

# Names are imported on first use (PEP 562), so `immunopet --help` stays fast.
_HOME = {
    "AnalysisParams": "params",
    "AnalysisResult": "result",
    "analyze": "pipeline",
    "analyze_study": "study_io",
    "BIOMARKERS": "params",
    "cox_fit": "survival",
    "km_split": "survival",
}

__all__ = sorted(_HOME)

if TYPE_CHECKING:
    from immunopet.analysis.params import BIOMARKERS, AnalysisParams
    from immunopet.analysis.pipeline import analyze
    from immunopet.analysis.result import AnalysisResult
    from immunopet.analysis.study_io import analyze_study
    from immunopet.analysis.survival import cox_fit, km_split


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())
