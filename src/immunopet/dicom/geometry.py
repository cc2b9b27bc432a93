"""Slice geometry: sort slices along the slice normal, check the grid, build the LPS affine.

Slices are ordered by their position projected on the normal ``row x column`` of
ImageOrientationPatient, never by InstanceNumber. Problems that make a regular grid impossible
(mixed orientations or matrix sizes, duplicate positions, missing or irregular slices) raise
:class:`~immunopet.errors.GeometryError` naming the file and attribute; a gantry tilt keeps the
volume usable (the affine is sheared to follow the slices) and is returned as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from pydicom.dataset import Dataset

from immunopet.errors import GeometryError

IPP = "ImagePositionPatient (0020,0032)"
IOP = "ImageOrientationPatient (0020,0037)"
PIXEL_SPACING = "PixelSpacing (0028,0030)"
#: Slice steps may differ from the median by 10 % (GE writes 3.19-3.29 mm for a 3.27 mm grid) before
#: the spacing is called irregular; deviations above 5 % of the spacing from the regular grid are
#: logged. Absolute tolerances: positions (mm) and direction cosines.
STEP_RTOL, STEP_WARN, POSITION_ATOL_MM, ORIENTATION_ATOL = 0.10, 0.05, 0.01, 1e-4


@dataclass(frozen=True, eq=False)
class Frame:
    """One 2-D image: a single-frame file, or one frame of a multi-frame (enhanced) file."""

    file: str
    index: int | None  # frame index in a multi-frame file; None for a single-frame file
    ds: Dataset
    position: np.ndarray
    orientation: np.ndarray
    pixel_spacing: tuple[float, float]  # (between rows, between columns), mm
    rows: int
    columns: int
    slope: float | None  # RescaleSlope; None when the attribute is absent
    intercept: float
    acquisition: datetime | None = None
    duration_ms: float | None = None
    frame_reference_ms: float | None = None

    @property
    def where(self) -> str:
        return self.file if self.index is None else f"{self.file} (frame {self.index + 1})"


@dataclass(frozen=True)
class Grid:
    """Sorted frames and the affine (voxel index -> LPS mm) of the volume they make."""

    frames: list[Frame]
    affine: np.ndarray
    warnings: list[str]

    @property
    def shape(self) -> tuple[int, int, int]:
        first = self.frames[0]
        return (first.columns, first.rows, len(self.frames))


def _check_same(frames: list[Frame]) -> None:
    """Refuse, naming the first differing slice, frames of mixed orientation, matrix or pixel spacing."""
    first = frames[0]
    orientation = np.array([f.orientation for f in frames], dtype=float)
    spacing = np.array([f.pixel_spacing for f in frames], dtype=float)
    sizes = np.array([(f.rows, f.columns) for f in frames])
    # _check_frame's tests for all frames at once (np.isclose row by row is np.allclose per frame)
    same = (np.isclose(orientation, orientation[0], atol=ORIENTATION_ATOL).all(axis=1)
            & np.isclose(spacing, spacing[0], rtol=1e-4, atol=1e-4).all(axis=1) & (sizes == sizes[0]).all(axis=1))
    for index in np.flatnonzero(~same[1:]) + 1:  # the first differing frame raises, naming itself
        _check_frame(frames[int(index)], first)


def _check_frame(frame: Frame, first: Frame) -> None:
    if not np.allclose(frame.orientation, first.orientation, atol=ORIENTATION_ATOL):
        raise GeometryError(
            f"mixed slice orientations: {np.round(frame.orientation, 4).tolist()} here, "
            f"{np.round(first.orientation, 4).tolist()} in {first.where}",
            file=frame.where, attribute=IOP,
            fix="load the slices of one orientation only (e.g. pick the series with --series)",
        )
    if (frame.rows, frame.columns) != (first.rows, first.columns):
        raise GeometryError(
            f"matrix {frame.rows}x{frame.columns} differs from {first.rows}x{first.columns} "
            f"in {first.where}", file=frame.where, attribute="Rows/Columns (0028,0010/0011)",
            fix="load the slices of one reconstruction only",
        )
    if not np.allclose(frame.pixel_spacing, first.pixel_spacing, rtol=1e-4, atol=1e-4):
        raise GeometryError(
            f"pixel spacing {frame.pixel_spacing} differs from {first.pixel_spacing} in "
            f"{first.where}", file=frame.where, attribute=PIXEL_SPACING,
            fix="load the slices of one reconstruction only",
        )


def _single_slice_step(frame: Frame, normal: np.ndarray, warnings: list[str]) -> np.ndarray:
    for keyword in ("SpacingBetweenSlices", "SliceThickness"):
        value = frame.ds.get(keyword)
        if value not in (None, "") and float(value) > 0:
            return normal * float(value)
    warnings.append(f"{frame.where}: single slice without SliceThickness; 1 mm assumed for k")
    return normal


def build_grid(frames: list[Frame]) -> Grid:
    """Sort ``frames`` along the slice normal, check them and compute the affine."""
    if not frames:
        raise GeometryError("no image slices to assemble")
    _check_same(frames)
    first = frames[0]
    row_dir, col_dir = first.orientation[:3], first.orientation[3:]
    normal = np.cross(row_dir, col_dir)
    if np.linalg.norm(normal) < 0.5:
        raise GeometryError("row and column directions are parallel", file=first.where, attribute=IOP)
    normal = normal / np.linalg.norm(normal)
    positions = np.array([f.position for f in frames])
    depth = positions @ normal
    order = np.argsort(depth, kind="stable")
    frames = [frames[i] for i in order]
    positions, depth = positions[order], depth[order]
    warnings: list[str] = []

    if len(frames) == 1:
        step = _single_slice_step(first, normal, warnings)
    else:
        steps = np.diff(depth)
        dup = np.flatnonzero(steps < POSITION_ATOL_MM)
        if dup.size:
            a, b = frames[dup[0]], frames[dup[0] + 1]
            raise GeometryError(
                f"{dup.size + 1} slices share a position; e.g. {a.where} and {b.where} are both at "
                f"{np.round(a.position, 3).tolist()}", file=b.where, attribute=IPP,
                fix="the folder holds duplicates or several time frames: remove duplicate files or "
                "load the files of one frame",
            )
        spacing = float(np.median(steps))
        smallest = float(steps.min())
        bad = np.flatnonzero(np.abs(steps - spacing) > STEP_RTOL * spacing)
        if bad.size:
            i = int(bad[0])
            ratio = steps[i] / smallest
            kind = "missing slice(s)" if ratio > 1.5 and abs(ratio - round(ratio)) < 0.05 else "irregular spacing"
            raise GeometryError(
                f"{kind}: {steps[i]:.3f} mm between {frames[i].where} and {frames[i + 1].where}, "
                f"{spacing:.3f} mm elsewhere ({bad.size} irregular gap(s))",
                file=frames[i + 1].where, attribute=IPP,
                fix="supply the complete series (all slices), or resample it before loading",
            )
        step = (positions[-1] - positions[0]) / (len(frames) - 1)
        fitted = positions[0] + np.outer(np.arange(len(frames)), step)
        off = np.linalg.norm(positions - fitted, axis=1)
        if off.max() > max(POSITION_ATOL_MM, STEP_RTOL * spacing):
            i = int(off.argmax())
            raise GeometryError(
                f"slice positions do not lie on a regular grid ({off.max():.3f} mm off)",
                file=frames[i].where, attribute=IPP, fix="supply the complete, unmodified series",
            )
        if off.max() > max(POSITION_ATOL_MM, STEP_WARN * spacing):
            i = int(off.argmax())
            warnings.append(
                f"{frames[i].where}: slice positions deviate up to {off.max():.3f} mm from a regular "
                f"{np.linalg.norm(step):.4f} mm grid (steps {steps.min():.3f}-{steps.max():.3f} mm); "
                "the regular grid is used"
            )
        in_plane = step - (step @ normal) * normal
        if np.linalg.norm(in_plane) > 1e-3 * abs(step @ normal):
            angle = float(np.degrees(np.arctan2(np.linalg.norm(in_plane), abs(step @ normal))))
            tilt = first.ds.get("GantryDetectorTilt")
            warnings.append(
                f"{first.where}: gantry tilt of {angle:.2f} deg (GantryDetectorTilt {tilt}); the "
                "volume keeps the tilted (sheared) geometry: viewers that ignore shear will show it "
                "shifted"
            )
    affine = np.eye(4)
    affine[:3, 0] = row_dir * first.pixel_spacing[1]
    affine[:3, 1] = col_dir * first.pixel_spacing[0]
    affine[:3, 2] = step
    affine[:3, 3] = positions[0]
    return Grid(frames, affine, warnings)
