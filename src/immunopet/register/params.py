"""Parameters of the registration between the scans of one patient (``study.yaml`` ``registration:``).

Every value is stated here once with its meaning; ``docs/registration.md`` explains the choices.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class RegistrationParams:
    """How one scan is registered to the reference scan of its patient.

    Attributes
    ----------
    deformable
        Add a B-spline step after the rigid one.
    rigid_levels_mm
        Resolution levels of the rigid step: each entry is the voxel size (mm) the images are
        smoothed and shrunk to at that level (coarse to fine); a level never goes below the native
        voxel size.
    rigid_iterations
        Optimiser iterations per level (regular step gradient descent).
    sampling
        Share of the fixed image's voxels sampled for the metric (random, seeded: reproducible).
    histogram_bins
        Bins of the Mattes mutual-information metric.
    bspline_spacing_mm
        Control-point spacing of the B-spline grid.
    bspline_level_mm
        Voxel size (mm) the images are shrunk to for the B-spline step (a smooth deformation of a
        few mm needs no finer level).
    bspline_sampling
        Share of voxels sampled for the metric of the B-spline step.
    bspline_iterations
        L-BFGS-B iterations of the B-spline step.
    seed
        Seed of the metric's voxel sampling.
    ct_window_hu
        CT values are clipped to this window before registration (air to dense bone).
    """

    deformable: bool = False
    rigid_levels_mm: tuple[float, ...] = (16.0, 8.0)
    rigid_iterations: int = 120
    sampling: float = 0.2
    histogram_bins: int = 32
    bspline_spacing_mm: float = 100.0
    bspline_level_mm: float = 8.0
    bspline_sampling: float = 0.1
    bspline_iterations: int = 20
    seed: int = 20180613
    ct_window_hu: tuple[float, float] = (-1000.0, 1500.0)
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


@dataclass(frozen=True)
class QualityLimits:
    """When a registration is flagged as poor in the QA (each limit documented in docs/registration.md).

    Attributes
    ----------
    min_body_dice
        Dice overlap of the two body outlines after registration.
    min_nmi
        Normalised mutual information (Studholme, range 1..2) after registration.
    max_landmark_mm
        Mean landmark error, when landmarks are known (the simulator's truth).
    """

    min_body_dice: float = 0.93
    min_nmi: float = 1.25
    max_landmark_mm: float = 4.0
