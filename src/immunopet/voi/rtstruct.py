"""VOIs from DICOM RTSTRUCT contours, rasterised on the PET grid in patient coordinates.

Rules:

- Each contour's points (LPS mm) are mapped to continuous PET indices. A contour's plane is the
  mean slice index of its points; a PET voxel is inside a polygon when its centre is
  (``skimage.draw.polygon``).
- Several contours on one plane combine by even-odd (XOR): a contour inside another is a hole,
  separate contours add.
- Planes are assigned to PET slices by nearest neighbour: PET slice ``k`` takes the plane nearest
  to it, if that plane lies within half the plane spacing (at least half a PET slice) of ``k``;
  beyond the first and last planes a slice must lie within half a PET slice, or strictly within
  half the plane spacing. So contours drawn every 2nd slice fill the slices between them (not one
  beyond the ends), and contours on a finer grid (e.g. CT slices) give each PET slice its nearest
  contour plane; shapes are not interpolated between planes.
- A contour whose points spread over more than half a PET slice (not parallel to the PET slices) is
  projected along the slice normal onto its mean plane, with a warning.
- Voxels of a contour falling outside the PET field of view are counted: warning with the fraction
  lost; a VOI with no voxel in the field of view raises :class:`VOIError`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.resample import check_frame_of_reference

log = logging.getLogger(__name__)


def read_rtstruct(path: str | Path):
    """The RTSTRUCT dataset (raises :class:`VOIError` if not readable or not an RTSTRUCT)."""
    import pydicom

    from immunopet.dicom.files import require_regular_file

    require_regular_file(path, error=VOIError)
    try:
        ds = pydicom.dcmread(str(path))
    except Exception as bad:
        raise VOIError(f"cannot read DICOM file ({bad})", file=path) from bad
    if getattr(ds, "Modality", None) != "RTSTRUCT":
        raise VOIError(f"not an RTSTRUCT (Modality {getattr(ds, 'Modality', None)!r})", file=path,
                       attribute="Modality (0008,0060)")
    if "StructureSetROISequence" not in ds:
        raise VOIError("RTSTRUCT has no ROIs", file=path, attribute="StructureSetROISequence (3006,0020)",
                       fix="export the structure set again with its ROIs")
    return ds


def roi_names(path: str | Path) -> list[str]:
    """The ROI names in an RTSTRUCT, in file order."""
    return [str(r.ROIName) for r in read_rtstruct(path).StructureSetROISequence]


def _planes(contours: list[np.ndarray], name: str) -> dict[float, list[np.ndarray]]:
    planes: dict[float, list[np.ndarray]] = {}
    for points in contours:
        k = points[:, 2]
        if np.ptp(k) > 0.5:
            log.warning("ROI %r: a contour is not parallel to the PET slices (spans %.1f slices); projected onto "
                        "its mean slice plane", name, np.ptp(k))
        planes.setdefault(round(float(k.mean()), 3), []).append(points[:, :2])
    return planes


def _raster_plane(polygons: list[np.ndarray], shape: tuple[int, int]) -> tuple[np.ndarray, int]:
    """XOR of polygons on an (I, J) slice; also the voxel count falling outside the slice."""
    from skimage.draw import polygon

    allpts = np.concatenate(polygons)
    lo = np.minimum(np.floor(allpts.min(axis=0)).astype(int) - 1, 0)
    hi = np.maximum(np.ceil(allpts.max(axis=0)).astype(int) + 1, np.asarray(shape) - 1)
    canvas = np.zeros(tuple(hi - lo + 1), dtype=bool)
    for pts in polygons:
        rr, cc = polygon(pts[:, 0] - lo[0], pts[:, 1] - lo[1], shape=canvas.shape)
        layer = np.zeros_like(canvas)
        layer[rr, cc] = True
        canvas ^= layer
    inside = canvas[-lo[0] : -lo[0] + shape[0], -lo[1] : -lo[1] + shape[1]]
    return inside, int(canvas.sum() - inside.sum())


def _rasterise(contours: list[np.ndarray], grid: Image, name: str) -> tuple[np.ndarray, float]:
    """Mask on ``grid`` and the fraction of voxels lost outside the field of view."""
    planes = _planes(contours, name)
    positions = np.array(sorted(planes))
    reach = max(0.5, float(np.median(np.diff(positions))) / 2.0) if len(positions) > 1 else 0.5
    mask = np.zeros(grid.shape, dtype=bool)
    rasters: dict[float, tuple[np.ndarray, int]] = {}
    kept = lost = 0
    for k in range(int(np.floor(positions[0] - reach)), int(np.ceil(positions[-1] + reach)) + 1):
        nearest = positions[np.argmin(np.abs(positions - k))]
        distance = abs(nearest - k)
        between = positions[0] <= k <= positions[-1]
        beyond_ends = distance > 0.5 + 1e-6 and distance >= reach - 1e-6
        if (between and distance > reach + 1e-6) or (not between and beyond_ends):
            continue
        if nearest not in rasters:
            rasters[nearest] = _raster_plane(planes[nearest], grid.shape[:2])
        raster, outside = rasters[nearest]
        if 0 <= k < grid.shape[2]:
            mask[:, :, k] = raster
            kept += int(raster.sum())
            lost += outside
        else:
            lost += int(raster.sum()) + outside
    total = kept + lost
    return mask, (lost / total if total else 1.0)


def masks_from_rtstruct(
    path: str | Path, grid: Image, *, roi_names: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """Boolean masks on ``grid`` for the ROIs of an RTSTRUCT (all with contours, or those named).

    ``roi_names`` None or empty means all ROIs.

    Names match exactly, else case-insensitively. ROIs without closed planar contours are left out
    with a warning (raise if named).
    """
    ds = read_rtstruct(path)
    by_number = {int(r.ROINumber): r for r in ds.StructureSetROISequence}
    contours_of = {int(rc.ReferencedROINumber): rc for rc in getattr(ds, "ROIContourSequence", [])}
    available = {str(r.ROIName): n for n, r in by_number.items()}
    if not roi_names:  # None or empty: every ROI in the file
        wanted, requested = list(available), False
    else:
        wanted, requested = [], True
        lower = {k.lower(): k for k in available}
        for name in roi_names:
            match = name if name in available else lower.get(name.lower())
            if match is None:
                raise VOIError(f"ROI {name!r} not in the RTSTRUCT (has: {', '.join(available)})", file=path,
                               attribute="ROIName (3006,0026)", fix="give one of the listed ROI names")
            wanted.append(match)
    masks: dict[str, np.ndarray] = {}
    for name in wanted:
        number = available[name]
        check_frame_of_reference(getattr(by_number[number], "ReferencedFrameOfReferenceUID", None), grid,
                                 what=f"ROI {name!r}", file=str(path))
        items = getattr(contours_of.get(number), "ContourSequence", None) or []
        contours = []
        for item in items:
            points = np.asarray(item.ContourData, dtype=float).reshape(-1, 3)
            if str(getattr(item, "ContourGeometricType", "CLOSED_PLANAR")) == "CLOSED_PLANAR" and len(points) >= 3:
                contours.append(grid.world_to_index(points))
        if not contours:
            if requested:
                raise VOIError(f"ROI {name!r} has no closed planar contour", file=path,
                               attribute="ContourSequence (3006,0040)")
            log.warning("%s: ROI %r has no closed planar contour; left out", path, name)
            continue
        mask, lost = _rasterise(contours, grid, name)
        if not mask.any():
            message = f"ROI {name!r} has no voxel inside the PET field of view" if lost >= 1.0 else (
                f"ROI {name!r} contains no PET voxel centre (smaller than a voxel?)")
            if requested:
                raise VOIError(message, file=path, fix="check that the RTSTRUCT belongs to this PET")
            log.warning("%s: %s; left out", path, message)
            continue
        if lost > 0.001:
            log.warning("%s: ROI %r: %.1f %% of its voxels lie outside the PET field of view", path, name, 100 * lost)
        masks[name] = mask
    return masks
