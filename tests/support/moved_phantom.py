"""Test scans of one patient on two days: the simulator's phantom, and the same body moved.

The reference day is the phantom itself; the other day is the phantom pulled through a known
transform (rigid pose + a smooth B-spline deformation of a few mm) onto a grid with another axial
field of view, with its own CT noise. ``truth`` maps the moved day's frame to the reference frame,
the convention of :mod:`immunopet.register.pair`, so landmark errors and true masks are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from immunopet.image import Image
from immunopet.register.transforms import from_reference
from immunopet.simulate.anatomy import LABELS, LESION_LABEL_OFFSET
from immunopet.simulate.cohort import draw_cohort
from immunopet.simulate.params import load_params
from immunopet.simulate.phantom import Phantom, build_phantom

LANDMARKS = ("aortic_arch", "lumbar_marrow", "liver", "lung_1", "lung_-1", "bladder", "thoracic_spine")
#: SUV per tissue of the test PET (lesions: 8).
SUV = {"liver": 4.0, "spleen": 6.0, "kidneys": 3.5, "lungs": 0.6, "brain": 0.4, "muscle": 0.8,
       "blood_pool": 5.0, "bone_marrow": 2.5}


@dataclass
class MovedPair:
    phantom: Phantom
    reference_ct: Image
    moved_ct: Image
    reference_labels: Image
    moved_labels: Image
    reference_pet: Image
    moved_pet: Image
    truth: sitk.Transform
    landmarks_reference: np.ndarray
    landmarks_moved: np.ndarray


def phantom_of(patient: int = 0, *, quick: bool = True, n: int = 2) -> Phantom:
    params = load_params(None)
    cohort = draw_cohort(n, 0, params=params)
    subject = cohort.subjects.iloc[patient]
    lesions = cohort.lesions[cohort.lesions.patient_id == subject.patient_id]
    return build_phantom(subject, lesions, params, quick=quick, rng=np.random.default_rng(patient))


def suv_of(labels: np.ndarray) -> np.ndarray:
    lut = np.full(256, 1.0, dtype=np.float32)
    lut[0] = 0.0
    for name, value in SUV.items():
        lut[LABELS[name]] = value
    lut[LESION_LABEL_OFFSET + 1:] = 8.0
    return lut[labels]


def true_transform(reference: Image, *, angles_deg=(4.0, -3.0, 5.0), shift_mm=(12.0, -8.0, 30.0),
                   deformation_mm: float = 2.0, seed: int = 1) -> sitk.Transform:
    rigid = sitk.Euler3DTransform()
    rigid.SetCenter(reference.index_to_world(np.array(reference.shape) / 2).tolist())
    rigid.SetRotation(*np.deg2rad(angles_deg))
    rigid.SetTranslation(tuple(float(v) for v in shift_mm))
    if not deformation_mm:
        return rigid
    bspline = sitk.BSplineTransformInitializer(reference.to_sitk(), [3, 3, 6], 3)
    displacement = np.random.default_rng(seed).normal(0, deformation_mm, len(bspline.GetParameters()))
    bspline.SetParameters(displacement.tolist())
    return sitk.CompositeTransform([rigid, bspline])


def moved_pair(*, patient: int = 0, deformation_mm: float = 2.0, noise_hu: float = 20.0,
               pet_noise: float = 0.05) -> MovedPair:
    phantom = phantom_of(patient)
    rng = np.random.default_rng(7)
    reference_ct = Image(phantom.hu, phantom.affine, "HU")
    reference_labels = Image(phantom.labels, phantom.affine, "label")
    truth = true_transform(reference_ct, deformation_mm=deformation_mm)
    affine = phantom.affine.copy()
    affine[2, 3] += 40.0  # another axial field of view: 40 mm higher, 10 slices fewer
    grid = Image(np.zeros(phantom.labels.shape[:2] + (phantom.labels.shape[2] - 10,), np.float32), affine)
    clean_hu = Image(np.where(phantom.labels > 0, phantom.hu, -1000.0).astype(np.float32), phantom.affine, "HU")
    moved_hu = Image.from_sitk(sitk.Resample(clean_hu.to_sitk(), grid.to_sitk(), truth, sitk.sitkLinear, -1000.0))
    moved_ct = Image(moved_hu.array + rng.normal(0, noise_hu, grid.shape).astype(np.float32), affine, "HU")
    labels_sitk = sitk.Resample(reference_labels.to_sitk(), grid.to_sitk(), truth, sitk.sitkNearestNeighbor, 0)
    moved_labels = Image(Image.from_sitk(labels_sitk).array, affine, "label")

    def pet(labels: Image) -> Image:
        clean = suv_of(labels.array)
        return Image((clean * (1 + rng.normal(0, pet_noise, clean.shape))).astype(np.float32), labels.affine, "SUVbw")

    points = np.array([phantom.body.landmarks[k] for k in LANDMARKS] + list(phantom.lesion_centres), dtype=float)
    return MovedPair(phantom, reference_ct, moved_ct, reference_labels, moved_labels, pet(reference_labels),
                     pet(moved_labels), truth, points, from_reference(truth, points))
