"""Parameters of the registration between the scans of one patient (``study.yaml`` ``registration:``).

Every value is stated here once with its meaning; ``docs/registration.md`` explains the choices.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from immunopet.errors import RegistrationError


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check(name: str, ok: bool, expected: str, value: Any) -> None:
    if not ok:
        raise RegistrationError(f"registration setting {name} must be {expected}, got {value!r}",
                                attribute=f"registration.{name}", fix=f"give {name} as {expected}")


def _positive_int(name: str, value: Any) -> None:
    _check(name, isinstance(value, int) and not isinstance(value, bool) and value > 0, "a positive whole number",
           value)


def _share(name: str, value: Any) -> None:
    _check(name, _number(value) and 0 < value <= 1, "a share in (0, 1]", value)


def _positive_mm(name: str, value: Any) -> None:
    _check(name, _number(value) and value > 0, "a positive number (mm)", value)


def _from_mapping(cls: type, data: Mapping[str, Any]) -> Any:
    """``cls(**data)`` with YAML/JSON lists turned back into tuples; unknown keys are an error."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise RegistrationError(f"unknown registration setting(s) {unknown}", attribute="registration",
                                fix=f"use {', '.join(sorted(names))}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


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

    def __post_init__(self) -> None:
        _check("deformable", isinstance(self.deformable, bool), "true or false", self.deformable)
        levels = self.rigid_levels_mm
        _check("rigid_levels_mm", isinstance(levels, tuple) and len(levels) > 0
               and all(_number(v) and v > 0 for v in levels), "a list of positive numbers (mm)", levels)
        for name in ("rigid_iterations", "histogram_bins", "bspline_iterations"):
            _positive_int(name, getattr(self, name))
        _share("sampling", self.sampling)
        _share("bspline_sampling", self.bspline_sampling)
        _positive_mm("bspline_spacing_mm", self.bspline_spacing_mm)
        _positive_mm("bspline_level_mm", self.bspline_level_mm)
        _check("seed", isinstance(self.seed, int) and not isinstance(self.seed, bool) and self.seed >= 0,
               "a whole number >= 0", self.seed)
        window = self.ct_window_hu
        _check("ct_window_hu", isinstance(window, tuple) and len(window) == 2 and all(map(_number, window))
               and window[0] < window[1], "[low, high] HU with low < high", window)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RegistrationParams:
        """From :meth:`as_dict` or study.yaml values (lists for the tuples); validated."""
        return _from_mapping(cls, data)

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


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

    def __post_init__(self) -> None:
        _check("min_body_dice", _number(self.min_body_dice) and 0 <= self.min_body_dice <= 1,
               "a number in [0, 1]", self.min_body_dice)
        _check("min_nmi", _number(self.min_nmi) and 1 <= self.min_nmi <= 2, "a number in [1, 2]", self.min_nmi)
        _positive_mm("max_landmark_mm", self.max_landmark_mm)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QualityLimits:
        """From :meth:`as_dict` or study.yaml values; validated."""
        return _from_mapping(cls, data)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def setting_names() -> tuple[set[str], set[str]]:
    """The keys study.yaml's ``registration:`` block may hold: RegistrationParams', QualityLimits'."""
    return {f.name for f in fields(RegistrationParams)}, {f.name for f in fields(QualityLimits)}


def split_settings(given: Mapping[str, Any]) -> tuple[RegistrationParams, QualityLimits]:
    """study.yaml's ``registration:`` block as its two parts (validated; other keys are not looked at)."""
    params, limits = setting_names()
    return (RegistrationParams.from_dict({k: v for k, v in given.items() if k in params}),
            QualityLimits.from_dict({k: v for k, v in given.items() if k in limits}))
