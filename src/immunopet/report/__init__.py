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

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "build": "build_report ReportSummary write_report",
    "demo": "DemoSummary run_demo",
    "fig_images": "fusion_figure mip_grid_figure",
    "fig_outcome": "cutoff_figure km_figure roc_figure",
    "fig_uptake": "biodistribution_figure heterogeneity_figure response_figure waterfall_figure",
    "figio": "save_figure SavedFigure",
    "methods": "methods_parameters methods_text MethodsParameters",
    "projection": "canonical_lps fusion_slice FusionSlice Projections projections",
    "qa": "qa_findings QAFindings",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
