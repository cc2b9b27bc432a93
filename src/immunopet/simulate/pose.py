"""How the patient lies on each scan day: rigid pose, smooth deformation and axial field of view.

A scan's patient frame (the DICOM LPS coordinates of its images) is the phantom frame moved by

    y = R (x - c) + c + t + u(y),

``R`` a rotation (``rot_x``, ``rot_y``, ``rot_z`` degrees about the patient axes, applied in that
order), ``c`` the rotation centre (mid-trunk), ``t`` a translation (mm) and ``u`` a smooth
displacement field: a sum of Gaussian bumps ``a_k exp(-|y - b_k|^2 / (2 s^2))`` of a few mm (soft
tissue that settles differently, the abdomen). The phantom (labels, lesion profile, CT) is resampled
onto each scan grid by nearest neighbour through the inverse map ``x = R^T (y - c - t - u(y)) + c``,
so the truth of a scan is exact on its own grid. ``truth/poses.csv`` keeps every number of the pose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from immunopet.simulate.anatomy import Body


@dataclass(frozen=True)
class Pose:
    """One scan's pose. ``bumps``: rows ``(bx, by, bz, ax, ay, az)`` (mm); ``sigma_mm`` their width."""

    rotation_deg: tuple[float, float, float]
    translation_mm: tuple[float, float, float]
    centre_mm: tuple[float, float, float]
    bumps: np.ndarray
    sigma_mm: float
    fov_top_mm: float
    fov_bottom_mm: float

    @property
    def rotation(self) -> np.ndarray:
        """The 3 x 3 rotation ``R = Rz Ry Rx``."""
        ax, ay, az = np.radians(self.rotation_deg)
        rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
        ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
        rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
        return rz @ ry @ rx

    def rigid_matrix(self) -> np.ndarray:
        """4 x 4 homogeneous matrix of the rigid part, phantom mm -> scan LPS mm."""
        m = np.eye(4)
        r = self.rotation
        c = np.asarray(self.centre_mm)
        m[:3, :3] = r
        m[:3, 3] = c - r @ c + np.asarray(self.translation_mm)
        return m

    def displacement(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
        """``u`` at scan points (arrays that broadcast); separable Gaussians, so cheap on a grid."""
        shape = np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(z))
        out = [np.zeros(shape, dtype=np.float32) for _ in range(3)]
        k = -0.5 / self.sigma_mm**2
        for bx, by, bz, *amp in self.bumps:
            g = (np.exp(k * (x - bx) ** 2) * np.exp(k * (y - by) ** 2) * np.exp(k * (z - bz) ** 2)).astype(np.float32)
            for d in range(3):
                out[d] += np.float32(amp[d]) * g
        return tuple(out)

    def to_scan(self, points: np.ndarray) -> np.ndarray:
        """Phantom points ``(n, 3)`` -> scan LPS mm (the fixed point of ``y = rigid(x) + u(y)``)."""
        pts = np.atleast_2d(np.asarray(points, dtype=np.float64))
        m = self.rigid_matrix()
        rigid = pts @ m[:3, :3].T + m[:3, 3]
        y = rigid.copy()
        for _ in range(6):
            y = rigid + np.stack(self.displacement(y[:, 0], y[:, 1], y[:, 2]), axis=1)
        return y

    def to_phantom(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
        """Scan points (broadcasting arrays) -> phantom mm, the inverse map used for resampling."""
        u = self.displacement(x, y, z)
        m = self.rigid_matrix()
        r_t, shift = m[:3, :3].T, m[:3, 3]
        q = [x - shift[0] - u[0], y - shift[1] - u[1], z - shift[2] - u[2]]
        return tuple((r_t[d, 0] * q[0] + r_t[d, 1] * q[1] + r_t[d, 2] * q[2]).astype(np.float32) for d in range(3))

    def row(self) -> dict[str, Any]:
        """The pose as one row of ``truth/poses.csv`` (rigid matrix flattened as ``m00`` ... ``m23``)."""
        m = self.rigid_matrix()
        out: dict[str, Any] = {"rot_x_deg": self.rotation_deg[0], "rot_y_deg": self.rotation_deg[1],
                               "rot_z_deg": self.rotation_deg[2], "tx_mm": self.translation_mm[0],
                               "ty_mm": self.translation_mm[1], "tz_mm": self.translation_mm[2],
                               "centre_x_mm": self.centre_mm[0], "centre_y_mm": self.centre_mm[1],
                               "centre_z_mm": self.centre_mm[2], "deformation_sigma_mm": self.sigma_mm,
                               "fov_top_mm": self.fov_top_mm, "fov_bottom_mm": self.fov_bottom_mm}
        out.update({f"m{i}{j}": float(m[i, j]) for i in range(3) for j in range(4)})
        for k, (bx, by, bz, ax, ay, az) in enumerate(self.bumps):
            out.update({f"bump{k + 1}_x_mm": bx, f"bump{k + 1}_y_mm": by, f"bump{k + 1}_z_mm": bz,
                        f"bump{k + 1}_dx_mm": ax, f"bump{k + 1}_dy_mm": ay, f"bump{k + 1}_dz_mm": az})
        return {k: (round(float(v), 4) if isinstance(v, (float, np.floating)) else v) for k, v in out.items()}


def still_pose(body: Body) -> Pose:
    """No motion: the phantom frame is the scan frame."""
    return Pose((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, body.z(0.3)), np.zeros((0, 6)), 50.0, 0.0, 0.0)


def draw_pose(rng: np.random.Generator, mp: dict[str, Any], body: Body) -> Pose:
    """A random pose from the ``motion`` parameters (uniform within the stated limits)."""
    rot = tuple(float(v) for v in rng.uniform(-1, 1, 3) * np.asarray(mp["rotation_deg"], dtype=float))
    shift = tuple(float(v) for v in rng.uniform(-1, 1, 3) * np.asarray(mp["translation_mm"], dtype=float))
    n = int(mp["deformation_bumps"])
    centres = np.column_stack([rng.uniform(-0.6, 0.6, n) * body.a, rng.uniform(-0.6, 0.6, n) * body.b,
                               body.z(rng.uniform(0.2, 0.48, n))])
    directions = rng.normal(size=(n, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    amplitudes = directions * rng.uniform(0.5, 1.0, (n, 1)) * float(mp["deformation_mm"])
    low, high = mp["fov_top_mm"]
    top = float(rng.uniform(low, high))
    low, high = mp["fov_bottom_mm"]
    bottom = float(rng.uniform(low, high))
    bumps = np.column_stack([centres, amplitudes])
    bumps[:, :3] += np.asarray(shift)  # bumps live in the scan frame, around the moved body
    return Pose(rot, shift, (0.0, 0.0, body.z(0.3)), bumps, float(mp["deformation_sigma_mm"]), top, bottom)
