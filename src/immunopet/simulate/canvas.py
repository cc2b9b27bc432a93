"""A label volume painted with analytic shapes, each evaluated only inside its bounding box.

Shapes are described in phantom millimetres (x to the patient's left, y posterior, z superior, the
DICOM LPS axes) and tested on voxel centres with numpy broadcasting; there is no per-voxel loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Inside = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Shape:
    """A solid: an inside test on broadcast coordinates plus its bounding box (mm)."""

    inside: Inside
    low: tuple[float, float, float]
    high: tuple[float, float, float]


def ellipsoid(centre: Sequence[float], semi: Sequence[float]) -> Shape:
    """An axis-aligned ellipsoid with ``centre`` and semi-axes ``semi`` (mm)."""
    cx, cy, cz = centre
    ax, ay, az = semi

    def inside(x, y, z):
        return ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 + ((z - cz) / az) ** 2 <= 1.0

    return Shape(inside, (cx - ax, cy - ay, cz - az), (cx + ax, cy + ay, cz + az))


def z_cylinder(centre_xy: Sequence[float], semi_xy: Sequence[float], z_low: float, z_high: float) -> Shape:
    """An elliptic cylinder along z between ``z_low`` and ``z_high``."""
    cx, cy = centre_xy
    ax, ay = semi_xy

    def inside(x, y, z):
        return (((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2 <= 1.0) & (z >= z_low) & (z <= z_high)

    return Shape(inside, (cx - ax, cy - ay, z_low), (cx + ax, cy + ay, z_high))


def capsule(start: Sequence[float], end: Sequence[float], radius: float) -> Shape:
    """All points within ``radius`` of the segment from ``start`` to ``end`` (a rounded tube)."""
    p0 = np.asarray(start, dtype=np.float64)
    d = np.asarray(end, dtype=np.float64) - p0
    length2 = float(d @ d) or 1.0

    def inside(x, y, z):
        rx, ry, rz = x - p0[0], y - p0[1], z - p0[2]
        t = np.clip((rx * d[0] + ry * d[1] + rz * d[2]) / length2, 0.0, 1.0)
        return (rx - t * d[0]) ** 2 + (ry - t * d[1]) ** 2 + (rz - t * d[2]) ** 2 <= radius * radius

    low = tuple(np.minimum(p0, p0 + d) - radius)
    high = tuple(np.maximum(p0, p0 + d) + radius)
    return Shape(inside, low, high)  # type: ignore[arg-type]


class Canvas:
    """A ``uint8`` label volume on a regular grid aligned with the phantom axes.

    Parameters
    ----------
    shape
        ``(I, J, K)`` voxels along x, y, z.
    spacing
        Voxel size (mm), the same along every axis.
    origin
        Phantom coordinates (mm) of the centre of voxel ``(0, 0, 0)``.
    """

    def __init__(self, shape: tuple[int, int, int], spacing: float, origin: Sequence[float]) -> None:
        self.spacing = float(spacing)
        self.origin = np.asarray(origin, dtype=np.float64)
        self.axes = [self.origin[d] + self.spacing * np.arange(shape[d]) for d in range(3)]
        self.labels = np.zeros(shape, dtype=np.uint8)

    def box(self, low: Sequence[float], high: Sequence[float]) -> tuple[slice, slice, slice]:
        """Index slices of the voxels whose centres lie in ``[low, high]`` (mm)."""
        return tuple(
            slice(int(np.searchsorted(a, lo, "left")), int(np.searchsorted(a, hi, "right")))
            for a, lo, hi in zip(self.axes, low, high)
        )  # type: ignore[return-value]

    def coordinates(self, box: tuple[slice, slice, slice]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Voxel-centre coordinates (mm) of ``box``, shaped to broadcast to ``(i, j, k)``."""
        x, y, z = (a[s] for a, s in zip(self.axes, box))
        return x[:, None, None], y[None, :, None], z[None, None, :]

    def paint(self, label: int, shape: Shape, *, only: Sequence[int] | None = None,
              keep: Sequence[int] | None = None) -> int:
        """Set ``label`` on the voxels inside ``shape``; returns how many were set.

        ``only`` restricts painting to voxels currently holding one of these labels; ``keep``
        protects voxels holding these labels.
        """
        box = self.box(shape.low, shape.high)
        sub = self.labels[box]
        if sub.size == 0:
            return 0
        mask = np.broadcast_to(shape.inside(*self.coordinates(box)), sub.shape).copy()
        if only is not None:
            mask &= np.isin(sub, only)
        if keep is not None:
            mask &= ~np.isin(sub, keep)
        sub[mask] = label
        return int(mask.sum())

    def index_of(self, point: Sequence[float]) -> tuple[int, int, int]:
        """Nearest voxel to a point (mm), clipped to the grid."""
        return tuple(
            int(np.clip(round((p - o) / self.spacing), 0, len(a) - 1))
            for p, o, a in zip(point, self.origin, self.axes)
        )  # type: ignore[return-value]


def grown_box(box: Sequence[slice], margin: int, shape: Sequence[int]) -> tuple[slice, ...]:
    """``box`` (index slices) widened by ``margin`` voxels on every side, within an array of ``shape``."""
    return tuple(slice(max(0, b.start - margin), min(int(n), b.stop + margin)) for b, n in zip(box, shape))
