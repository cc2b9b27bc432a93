"""VOIs on the PET grid and their uptake metrics.

Mask sources (each maps its VOIs onto the PET grid through patient coordinates):
:func:`sphere_mask`, :func:`masks_from_nifti`, :func:`masks_from_rtstruct`, :func:`masks_from_seg`,
:func:`masks_from_segmenter`. Semi-automatic contours: :func:`delineate`. Metrics:
:func:`measure_masks` (definitions in docs/metrics.md); whole scans from files: :func:`measure_scan`.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "delineate": "delineate",
    "measure": "COLUMNS measure_masks",
    "nifti_masks": "masks_from_nifti read_label_table",
    "peak": "PEAK_DIAMETER_MM",
    "rtstruct": "masks_from_rtstruct",
    "scan": "measure_scan",
    "seg": "masks_from_seg",
    "segmenter": "masks_from_segmenter",
    "spheres": "BLOOD_POOL_ML BONE_MARROW_ML sphere_mask",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
