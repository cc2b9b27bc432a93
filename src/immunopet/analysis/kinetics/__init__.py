"""Kinetics over the scan days: time-activity curves, blood input, Patlak Ki / V_T, TIAC.

Pure functions on the measurements table (``docs/kinetics.md``): :func:`kinetics` returns the
``kinetics`` block of ``analysis.json`` and the tables ``time_activity``, ``blood_input``,
``patlak``, ``tiac``, ``to_blood_by_day`` and ``median_curves``.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "blood": "BloodInput blood_input",
    "params": "KineticsParams",
    "patlak": "PatlakFit patlak_fit",
    "study_kinetics": "kinetics",
    "tiac": "TiacResult",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
