"""The synthetic multi-day 89Zr-immunoPET trial: phantom, kinetics, scanner, DICOM writers, clinic.

Public API: :func:`simulate_study` writes a study folder (docs/study-format.md) with its ground
truth; :func:`draw_cohort` draws the clinical and uptake model alone, without images.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "cohort": "Cohort draw_cohort",
    "params": "default_params load_params SimulationParamsError",
    "study": "simulate_study",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
