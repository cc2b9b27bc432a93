"""Register one scan to its patient's reference scan (SimpleITK): rigid, then optionally B-spline.

Convention (used by every consumer of a transform): the *fixed* image is the scan being measured,
the *moving* image the reference scan. The resulting transform maps a point of the measured scan's
patient frame (LPS mm) to the reference scan's patient frame, so a mask drawn on the reference is
brought onto the measured scan's grid by ordinary (pull) resampling, and a point drawn on the
reference (a sphere centre, a seed) is mapped by the inverse (:func:`immunopet.register.transforms.map_points_from_reference`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from immunopet.errors import RegistrationError
from immunopet.image import Image
from immunopet.register.params import RegistrationParams

if TYPE_CHECKING:
    import SimpleITK

log = logging.getLogger(__name__)

#: Modalities and how their values are prepared before registration.
MODALITIES = ("CT", "PT")


@dataclass
class PairResult:
    """The outcome of one registration.

    Attributes
    ----------
    transform
        SimpleITK transform from the fixed (measured) scan's frame to the moving (reference) frame.
    modality
        ``"CT"`` (CT to CT) or ``"PT"`` (PET to PET, when a scan has no CT).
    metric_rigid, metric_final
        Final Mattes mutual-information value of each step (negative: lower is better).
    seconds
        Wall time of the registration.
    stop
        The optimiser's stopping condition of the last step.
    """

    transform: SimpleITK.Transform
    modality: str
    metric_rigid: float
    metric_final: float
    seconds: float
    stop: str
    details: dict[str, Any] = field(default_factory=dict)


def prepare(image: Image, modality: str, params: RegistrationParams) -> SimpleITK.Image:
    """The image as SimpleITK float32, CT clipped to the window, PET log-compressed (SUV-like scale)."""
    if modality not in MODALITIES:
        raise RegistrationError(f"unknown modality {modality!r}; expected CT or PT", attribute="modality")
    values = np.asarray(image.array, dtype=np.float32)
    if modality == "CT":
        low, high = params.ct_window_hu
        values = np.clip(values, low, high)
    else:  # PET: uptake spans orders of magnitude; log keeps organs and lesions comparable
        positive = values[values > 0]
        scale = float(np.percentile(positive, 99)) if positive.size else 1.0
        values = np.log1p(np.clip(values, 0, None) / max(scale, 1e-12) * 100.0)
    if not np.isfinite(values).all() or float(values.max() - values.min()) == 0.0:
        raise RegistrationError("the image is constant or not finite: nothing to register on",
                                file=image.meta.get("source"), fix="check the series")
    return image.with_array(values.astype(np.float32)).to_sitk()


def coarsest_needed(spacing: np.ndarray, params: RegistrationParams) -> list[int]:
    """Per axis, the whole factor by which an image can be binned before registration: the finest level
    any step works at (rigid levels, the B-spline level) over the voxel size, rounded down."""
    finest = min(params.rigid_levels_mm)
    if params.deformable:
        finest = min(finest, params.bspline_level_mm)
    return [max(1, int(np.floor(finest / s + 1e-6))) for s in spacing]


def binned(image: SimpleITK.Image, factors: list[int]) -> SimpleITK.Image:
    """``image`` averaged over blocks of ``factors`` voxels (SimpleITK ``BinShrink``).

    The registration never looks finer than its finest level, so it runs on the binned image: the
    same samples as on the native grid after smoothing, without smoothing and shrinking the native
    image at every level (most of a rigid step's time at 4 mm). The image is first extended by its
    edge values to whole blocks, so the binned image covers the native one (a B-spline grid set on
    it reaches every native voxel). A factor is never larger than the image along its axis: a header
    with a tiny voxel size must not make the padding, and the memory, grow with the factor.
    """
    import SimpleITK as sitk

    size = image.GetSize()
    factors = [max(1, min(int(k), int(n))) for k, n in zip(factors, size, strict=True)]
    if all(k == 1 for k in factors):
        return image
    extra = [(-n) % k for n, k in zip(size, factors, strict=True)]
    if any(extra):
        image = sitk.ZeroFluxNeumannPad(image, [0, 0, 0], extra)
    return sitk.BinShrink(image, factors)


def _levels(spacing: np.ndarray, levels_mm: tuple[float, ...]) -> tuple[list[int], list[float]]:
    """Shrink factors and smoothing sigmas (mm) of each resolution level."""
    finest = float(np.min(spacing))
    shrink = [max(1, int(round(mm / finest))) for mm in levels_mm]
    sigmas = [max(0.0, (f - 1) * finest / 2.0) for f in shrink]
    return shrink, sigmas


def _method(params: RegistrationParams, spacing: np.ndarray, levels_mm: tuple[float, ...]) -> SimpleITK.ImageRegistrationMethod:
    import SimpleITK as sitk

    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=params.histogram_bins)
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(params.sampling, params.seed)
    method.SetInterpolator(sitk.sitkLinear)
    shrink, sigmas = _levels(spacing, levels_mm)
    method.SetShrinkFactorsPerLevel(shrink)
    method.SetSmoothingSigmasPerLevel(sigmas)
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    return method


def _initial_rigid(fixed: SimpleITK.Image, moving: SimpleITK.Image) -> SimpleITK.Euler3DTransform:
    """Rigid start: the centres of the body (values above the window's low end) put on each other."""
    import SimpleITK as sitk

    def body_centre(image: SimpleITK.Image) -> np.ndarray:
        array = sitk.GetArrayFromImage(image)
        threshold = array.min() + 0.25 * (np.percentile(array, 99.5) - array.min())
        kji = np.argwhere(array > threshold)
        if kji.size == 0:
            raise RegistrationError("no body found in the image: nothing to register on")
        return np.asarray(image.TransformContinuousIndexToPhysicalPoint(kji.mean(axis=0)[::-1].tolist()))

    transform = sitk.Euler3DTransform()
    fixed_centre = body_centre(fixed)
    transform.SetCenter(fixed_centre.tolist())
    transform.SetTranslation((body_centre(moving) - fixed_centre).tolist())
    return transform


def register_pair(fixed: Image, moving: Image, *, modality: str = "CT",
                  params: RegistrationParams | None = None) -> PairResult:
    """Register ``fixed`` (the scan to measure) to ``moving`` (the reference scan).

    Parameters
    ----------
    fixed, moving
        Images of the same modality, each on its own grid in its own patient frame (LPS mm).
    modality
        ``"CT"`` or ``"PT"``: how values are prepared (:func:`prepare`).
    params
        Registration settings (defaults: :class:`RegistrationParams`).

    Returns
    -------
    PairResult
        The transform fixed -> moving frame, with the metric values and timing.

    Raises
    ------
    RegistrationError
        When the images hold nothing to register on or the optimiser fails.
    """
    import SimpleITK as sitk

    params = params or RegistrationParams()
    start = time.perf_counter()
    f, m = prepare(fixed, modality, params), prepare(moving, modality, params)
    f = binned(f, coarsest_needed(np.asarray(f.GetSpacing()), params))
    m = binned(m, coarsest_needed(np.asarray(m.GetSpacing()), params))
    spacing = np.asarray(f.GetSpacing())
    rigid_method = _method(params, spacing, params.rigid_levels_mm)
    rigid_method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=4.0, minStep=0.01, numberOfIterations=params.rigid_iterations,
        relaxationFactor=0.6, gradientMagnitudeTolerance=1e-8)
    rigid_method.SetOptimizerScalesFromPhysicalShift()
    rigid = _initial_rigid(f, m)
    rigid_method.SetInitialTransform(rigid, inPlace=True)
    try:
        rigid_method.Execute(f, m)
    except RuntimeError as failed:  # ITK: too few samples in the overlap and the like
        raise RegistrationError(f"rigid registration failed: {str(failed).splitlines()[-1]}",
                                fix="check that both scans show the same body region") from failed
    rigid_value = float(rigid_method.GetMetricValue())
    stop = rigid_method.GetOptimizerStopConditionDescription()
    final_value, transform = rigid_value, sitk.Euler3DTransform(rigid)
    details: dict[str, Any] = {"rigid_parameters": list(rigid.GetParameters()),
                               "rigid_center": list(rigid.GetCenter())}
    if params.deformable:
        transform, final_value, stop = _bspline(f, m, rigid, params)
    return PairResult(transform, modality, rigid_value, final_value, time.perf_counter() - start, stop, details)


def _bspline(f: SimpleITK.Image, m: SimpleITK.Image, rigid: SimpleITK.Transform,
             params: RegistrationParams) -> tuple[SimpleITK.Transform, float, str]:
    """The B-spline step on top of the rigid transform; returns the composite (rigid o B-spline)."""
    import SimpleITK as sitk

    size_mm = np.asarray(f.GetSize()) * np.asarray(f.GetSpacing())
    mesh = [max(1, int(round(s / params.bspline_spacing_mm))) for s in size_mm]
    bspline = sitk.BSplineTransformInitializer(f, mesh, order=3)
    method = _method(params, np.asarray(f.GetSpacing()), (params.bspline_level_mm,))
    method.SetMetricSamplingPercentage(params.bspline_sampling, params.seed)
    method.SetOptimizerAsLBFGSB(gradientConvergenceTolerance=1e-5, numberOfIterations=params.bspline_iterations,
                                maximumNumberOfCorrections=5, maximumNumberOfFunctionEvaluations=4 * params.bspline_iterations)
    method.SetMovingInitialTransform(rigid)
    method.SetInitialTransform(bspline, inPlace=True)
    try:
        method.Execute(f, m)
    except RuntimeError as failed:
        raise RegistrationError(f"deformable registration failed: {str(failed).splitlines()[-1]}",
                                fix="register rigidly only (registration: deformable: false)") from failed
    composite = sitk.CompositeTransform([sitk.Euler3DTransform(rigid), bspline])
    return composite, float(method.GetMetricValue()), method.GetOptimizerStopConditionDescription()
