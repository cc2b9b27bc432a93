"""The synthetic multi-day 89Zr-immunoPET trial: phantom, kinetics, scanner, DICOM writers, clinic.

Public API: :func:`simulate_study` writes a study folder (docs/study-format.md) with its ground
truth; :func:`draw_cohort` draws the clinical and uptake model alone, without images.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from immunopet.lazy_exports import lazy_exports

# Names are imported on first use (PEP 562), so `immunopet --help` stays fast.
_HOME = {
    "Cohort": "cohort",
    "default_params": "params",
    "draw_cohort": "cohort",
    "load_params": "params",
    "simulate_study": "study",
    "SimulationParamsError": "params",
}

__all__ = sorted(_HOME)

if TYPE_CHECKING:
    from immunopet.simulate.cohort import Cohort, draw_cohort
    from immunopet.simulate.params import SimulationParamsError, default_params, load_params
    from immunopet.simulate.study import simulate_study


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())
