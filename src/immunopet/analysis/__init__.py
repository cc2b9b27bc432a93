"""Statistical analyses of an immunoPET study (biodistribution, tumour uptake, outcome, biomarkers).

The core, :func:`analyze`, is pure: DataFrames in, :class:`AnalysisResult` out. :func:`analyze_study`
loads a study's results, runs it and writes ``analysis/analysis.json`` and CSV tables. The JSON
layout and the table names are documented in ``docs/analyses.md``.
"""

from immunopet.analysis.params import BIOMARKERS, AnalysisParams
from immunopet.analysis.pipeline import analyze
from immunopet.analysis.result import AnalysisResult
from immunopet.analysis.study_io import analyze_study
from immunopet.analysis.survival import cox_fit, km_split

__all__ = ["BIOMARKERS", "AnalysisParams", "AnalysisResult", "analyze", "analyze_study", "cox_fit", "km_split"]
