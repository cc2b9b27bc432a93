"""Registration between the scans of one patient (SimpleITK): rigid, optional B-spline, quality.

:func:`register_pair` registers a scan (fixed) to its reference scan (moving) and returns the
transform from the scan's patient frame to the reference frame; :func:`assess` measures its quality;
:mod:`immunopet.register.transforms` maps points and masks through it. Details and defaults:
docs/registration.md.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "pair": "PairResult register_pair",
    "params": "QualityLimits RegistrationParams",
    "quality": "Quality assess dice normalised_mutual_information",
    "transforms": "from_reference read_transform resample_to_scan to_reference write_transform",
    "job": "run_pair",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
