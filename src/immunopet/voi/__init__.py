"""VOIs on the PET grid and their uptake metrics.

Mask sources (each maps its VOIs onto the PET grid through patient coordinates):
:func:`sphere_mask`, :func:`masks_from_nifti`, :func:`masks_from_rtstruct`, :func:`masks_from_seg`,
:func:`masks_from_segmenter`. Semi-automatic contours: :func:`delineate`. Metrics:
:func:`measure_masks` (definitions in docs/metrics.md); whole scans from files: :func:`measure_scan`.

The names are loaded on first use (PEP 562), so ``immunopet --help`` does not import scipy/pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from immunopet.lazy_exports import lazy_exports

_PUBLIC = {
    "BLOOD_POOL_ML": "spheres",
    "BONE_MARROW_ML": "spheres",
    "COLUMNS": "measure",
    "PEAK_DIAMETER_MM": "peak",
    "delineate": "delineate",
    "masks_from_nifti": "nifti_masks",
    "masks_from_rtstruct": "rtstruct",
    "masks_from_seg": "seg",
    "masks_from_segmenter": "segmenter",
    "measure_masks": "measure",
    "measure_scan": "scan",
    "read_label_table": "nifti_masks",
    "sphere_mask": "spheres",
}

__all__ = sorted(_PUBLIC)

if TYPE_CHECKING:
    from immunopet.voi.delineate import delineate
    from immunopet.voi.measure import COLUMNS, measure_masks
    from immunopet.voi.nifti_masks import masks_from_nifti, read_label_table
    from immunopet.voi.peak import PEAK_DIAMETER_MM
    from immunopet.voi.rtstruct import masks_from_rtstruct
    from immunopet.voi.scan import measure_scan
    from immunopet.voi.seg import masks_from_seg
    from immunopet.voi.segmenter import masks_from_segmenter
    from immunopet.voi.spheres import BLOOD_POOL_ML, BONE_MARROW_ML, sphere_mask


__getattr__, __dir__ = lazy_exports(__name__, _PUBLIC, globals())
