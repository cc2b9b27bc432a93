"""The synthetic multi-day 89Zr-immunoPET trial: phantom, kinetics, scanner, DICOM writers, clinic.

Public API: :func:`simulate_study` writes a study folder (docs/study-format.md) with its ground
truth; :func:`draw_cohort` draws the clinical and uptake model alone, without images.
"""

from immunopet.simulate.cohort import Cohort, draw_cohort
from immunopet.simulate.params import SimulationParamsError, default_params, load_params
from immunopet.simulate.study import simulate_study

__all__ = ["Cohort", "SimulationParamsError", "default_params", "draw_cohort", "load_params", "simulate_study"]
