"""VOIs on the PET grid and their uptake metrics.

Mask sources (each maps its VOIs onto the PET grid through patient coordinates):
:func:`sphere_mask`, :func:`masks_from_nifti`, :func:`masks_from_rtstruct`, :func:`masks_from_seg`,
:func:`masks_from_segmenter`. Semi-automatic contours: :func:`delineate`. Metrics:
:func:`measure_masks` (definitions in docs/metrics.md); whole scans from files: :func:`measure_scan`.
"""

from immunopet.voi.delineate import delineate
from immunopet.voi.measure import COLUMNS, measure_masks
from immunopet.voi.nifti_masks import masks_from_nifti, read_label_table
from immunopet.voi.peak import PEAK_DIAMETER_MM
from immunopet.voi.rtstruct import masks_from_rtstruct
from immunopet.voi.scan import measure_scan
from immunopet.voi.seg import masks_from_seg
from immunopet.voi.segmenter import masks_from_segmenter
from immunopet.voi.spheres import BLOOD_POOL_ML, BONE_MARROW_ML, sphere_mask

__all__ = [
    "BLOOD_POOL_ML",
    "BONE_MARROW_ML",
    "COLUMNS",
    "PEAK_DIAMETER_MM",
    "delineate",
    "masks_from_nifti",
    "masks_from_rtstruct",
    "masks_from_seg",
    "masks_from_segmenter",
    "measure_masks",
    "measure_scan",
    "read_label_table",
    "sphere_mask",
]
