"""How good a registration is: image similarity, body overlap and landmark error, and a verdict.

All measures are computed on the measured scan's grid binned to the registration's finest level
(:func:`immunopet.register.pair.binned`: the detail the registration saw; on a 1 mm CT 64 times
fewer voxels than the native grid), over the voxels that both scans cover (scans of different days
have different axial fields of view), after the binned reference image has been resampled through
the transform:

- normalised mutual information, ``NMI = (H(A) + H(B)) / H(A, B)`` (Studholme et al., Pattern
  Recognit 1999), 64 x 64 bins over the clipped CT window (or the log-compressed PET), from 1 (no
  shared information) to 2 (identical up to a one-to-one mapping of values);
- body Dice, ``2 |A n B| / (|A| + |B|)`` of the body outlines (CT above -500 HU; PET above 5 % of its
  99th percentile);
- landmark error, the mean and maximum distance (mm) between where the transform puts known
  landmarks and where they truly are (on the simulator, from its truth).

A registration is ``poor`` when a measure is beyond its limit in :class:`QualityLimits`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from immunopet.image import Image
from immunopet.register.params import QualityLimits, RegistrationParams

if TYPE_CHECKING:
    import SimpleITK

BINS = 64
BODY_HU = -500.0
BODY_PET_FRACTION = 0.05
_OUTSIDE = -1.0e9  # value of resampled points that fall outside the reference image


@dataclass
class Quality:
    """Quality measures of one transform (``before``: identity, ``after``: the transform)."""

    nmi_before: float
    nmi_after: float
    body_dice_before: float
    body_dice_after: float
    overlap_fraction: float
    landmark_mean_mm: float | None = None
    landmark_max_mm: float | None = None
    verdict: str = "good"
    reasons: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def bin_indices(values: np.ndarray, value_range: tuple[float, float], bins: int) -> np.ndarray:
    """The bin (0 .. bins-1) of each value among ``bins`` equal bins over ``value_range``; values at
    or beyond an end fall into the end bin (as :func:`numpy.histogram` puts the upper end in the last)."""
    low, high = value_range
    scaled = (np.asarray(values, dtype=np.float64).ravel() - low) * (bins / (high - low))
    return np.clip(np.floor(scaled), 0, bins - 1).astype(np.int64)


def nmi_of_bins(a: np.ndarray, b: np.ndarray, bins: int) -> float:
    """``(H(A) + H(B)) / H(A, B)`` from the bin indices of two equally long arrays."""
    if a.size == 0:
        return float("nan")
    joint = np.bincount(a * bins + b, minlength=bins * bins).reshape(bins, bins)
    p = joint / joint.sum()

    def entropy(q: np.ndarray) -> float:
        q = q[q > 0]
        return float(-(q * np.log(q)).sum())

    h_joint = entropy(p)
    return float((entropy(p.sum(axis=0)) + entropy(p.sum(axis=1))) / h_joint) if h_joint > 0 else 2.0


def normalised_mutual_information(a: np.ndarray, b: np.ndarray, *, bins: int = BINS,
                                  value_range: tuple[float, float] | None = None) -> float:
    """``(H(A) + H(B)) / H(A, B)`` of two equally long value arrays (Shannon entropies, natural log),
    ``bins`` equal bins over ``value_range`` (default: the range of both)."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    if a.size == 0:
        return float("nan")
    if value_range is None:
        value_range = (min(a.min(), b.min()), max(a.max(), b.max()))
    if value_range[1] <= value_range[0]:
        return float("nan")
    return nmi_of_bins(bin_indices(a, value_range, bins), bin_indices(b, value_range, bins), bins)


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice overlap ``2 |A n B| / (|A| + |B|)`` of two boolean arrays (1 when both are empty)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else float(2 * np.logical_and(a, b).sum() / total)


def body_mask(values: np.ndarray, modality: str) -> np.ndarray:
    """The body outline: CT above -500 HU, or PET above 5 % of its 99th percentile."""
    if modality == "CT":
        return values > BODY_HU
    positive = values[values > 0]
    level = BODY_PET_FRACTION * float(np.percentile(positive, 99)) if positive.size else np.inf
    return values > level


def _on_fixed_grid(fixed: SimpleITK.Image, moving: SimpleITK.Image, transform: SimpleITK.Transform) -> np.ndarray:
    import SimpleITK as sitk

    out = sitk.Resample(moving, fixed, transform, sitk.sitkLinear, _OUTSIDE, sitk.sitkFloat32)
    return sitk.GetArrayFromImage(out).transpose(2, 1, 0)


def _binned(image: Image, params: RegistrationParams) -> SimpleITK.Image:
    """The image (float32) binned to the registration's finest level."""
    from immunopet.register.pair import binned, coarsest_needed

    as_sitk = image.with_array(np.asarray(image.array, dtype=np.float32)).to_sitk()
    return binned(as_sitk, coarsest_needed(np.asarray(as_sitk.GetSpacing()), params))


def _compressed(values: np.ndarray, modality: str, params: RegistrationParams) -> tuple[np.ndarray, tuple[float, float]]:
    if modality == "CT":
        low, high = params.ct_window_hu
        return np.clip(values, low, high), (low, high)
    compressed = np.log1p(np.clip(values, 0, None))
    return compressed, (0.0, float(compressed.max()) or 1.0)


def assess(fixed: Image, moving: Image, transform: SimpleITK.Transform, *, modality: str = "CT",
           landmarks: tuple[np.ndarray, np.ndarray] | None = None, limits: QualityLimits | None = None,
           params: RegistrationParams | None = None) -> Quality:
    """Quality of ``transform`` (fixed -> moving frame, see :mod:`immunopet.register.pair`).

    Parameters
    ----------
    fixed, moving
        The measured scan and the reference scan (same modality).
    landmarks
        Optional ``(points_in_fixed, same_points_in_moving)``, each ``(N, 3)`` LPS mm.
    """
    import SimpleITK as sitk

    from immunopet.register.transforms import to_reference

    limits, params = limits or QualityLimits(), params or RegistrationParams()
    values: dict[str, tuple[float, float, float]] = {}
    fixed_grid, moving_image = _binned(fixed, params), _binned(moving, params)  # once, for both transforms
    fixed_values = sitk.GetArrayFromImage(fixed_grid).transpose(2, 1, 0)
    compressed, value_range = _compressed(fixed_values, modality, params)
    fixed_bins = bin_indices(compressed, value_range, BINS).reshape(fixed_values.shape)  # once, for both
    fixed_body = body_mask(fixed_values, modality)
    for name, tx in (("before", sitk.Transform(3, sitk.sitkIdentity)), ("after", transform)):
        resampled = _on_fixed_grid(fixed_grid, moving_image, tx)
        valid = resampled > _OUTSIDE / 2
        b, _ = _compressed(resampled[valid], modality, params)
        nmi = nmi_of_bins(fixed_bins[valid], bin_indices(b, value_range, BINS), BINS) if valid.any() else float("nan")
        body = dice(fixed_body[valid], body_mask(resampled[valid], modality))
        values[name] = (nmi, body if valid.any() else 0.0, float(valid.mean()))
    quality = Quality(values["before"][0], values["after"][0], values["before"][1], values["after"][1],
                      values["after"][2])
    if landmarks is not None:
        in_fixed, in_moving = (np.atleast_2d(np.asarray(p, dtype=np.float64)) for p in landmarks)
        errors = np.linalg.norm(to_reference(transform, in_fixed) - in_moving, axis=1)
        quality.landmark_mean_mm, quality.landmark_max_mm = float(errors.mean()), float(errors.max())
    return judge(quality, limits)


def judge(quality: Quality, limits: QualityLimits) -> Quality:
    """Set ``verdict`` (``good`` / ``poor``) and the reasons from the limits."""
    reasons = []
    if not quality.body_dice_after >= limits.min_body_dice:
        reasons.append(f"body Dice {quality.body_dice_after:.3f} < {limits.min_body_dice}")
    if not quality.nmi_after >= limits.min_nmi:
        reasons.append(f"NMI {quality.nmi_after:.3f} < {limits.min_nmi}")
    if quality.landmark_mean_mm is not None and quality.landmark_mean_mm > limits.max_landmark_mm:
        reasons.append(f"landmark error {quality.landmark_mean_mm:.1f} mm > {limits.max_landmark_mm} mm")
    quality.verdict = "poor" if reasons else "good"
    quality.reasons = "; ".join(reasons)
    return quality
