"""The study report: publication figures (matplotlib) and one self-contained HTML file (Jinja2).

Public API (see docs/report.md and docs/methods.md):

- :func:`build_report` -> path of ``report/report.html``; :func:`write_report` -> :class:`ReportSummary`
  (figures, failure counts, exit code);
- :func:`run_demo`: simulate -> run -> analyze -> report (``immunopet demo``);
- pure figure functions (arrays / DataFrames in, :class:`matplotlib.figure.Figure` out):
  :func:`mip_grid_figure`, :func:`fusion_figure`, :func:`biodistribution_figure`,
  :func:`heterogeneity_figure`, :func:`response_figure`, :func:`waterfall_figure`,
  :func:`km_figure`, :func:`roc_figure`; display geometry: :func:`projections`, :func:`fusion_slice`;
- :func:`methods_parameters` / :func:`methods_text` (the generated methods), :func:`qa_findings`.
"""

from __future__ import annotations

from immunopet.lazy_exports import lazy_exports

# Names are imported on first use (PEP 562) so that ``immunopet --help`` does not load matplotlib.
_HOME = {
    "ReportSummary": "build", "build_report": "build", "write_report": "build",
    "DemoSummary": "demo", "run_demo": "demo",
    "fusion_figure": "fig_images", "mip_grid_figure": "fig_images",
    "km_figure": "fig_outcome", "roc_figure": "fig_outcome",
    "biodistribution_figure": "fig_uptake", "heterogeneity_figure": "fig_uptake",
    "response_figure": "fig_uptake", "waterfall_figure": "fig_uptake",
    "SavedFigure": "figio", "save_figure": "figio",
    "MethodsParameters": "methods", "methods_parameters": "methods", "methods_text": "methods",
    "FusionSlice": "projection", "Projections": "projection", "canonical_lps": "projection",
    "fusion_slice": "projection", "projections": "projection",
    "QAFindings": "qa", "qa_findings": "qa",
}


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())

__all__ = [
    "DemoSummary",
    "FusionSlice",
    "MethodsParameters",
    "Projections",
    "QAFindings",
    "ReportSummary",
    "SavedFigure",
    "biodistribution_figure",
    "build_report",
    "canonical_lps",
    "fusion_figure",
    "fusion_slice",
    "heterogeneity_figure",
    "km_figure",
    "methods_parameters",
    "methods_text",
    "mip_grid_figure",
    "projections",
    "qa_findings",
    "response_figure",
    "roc_figure",
    "run_demo",
    "save_figure",
    "waterfall_figure",
    "write_report",
]
