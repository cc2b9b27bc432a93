"""Statistical analyses of an immunoPET study (biodistribution, tumour uptake, outcome, biomarkers).

The core, :func:`analyze`, is pure: DataFrames in, :class:`AnalysisResult` out. :func:`analyze_study`
loads a study's results, runs it and writes ``analysis/analysis.json`` and CSV tables. The JSON
layout and the table names are documented in ``docs/analyses.md``.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "params": "AnalysisParams BIOMARKERS",
    "pipeline": "analyze",
    "result": "AnalysisResult",
    "study_io": "analyze_study",
    "survival": "cox_fit km_split",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
