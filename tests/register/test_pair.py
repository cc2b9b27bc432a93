"""Registration of a moved body: the known transform is recovered; wrong transforms are flagged."""

import numpy as np
import pytest
import SimpleITK as sitk

from immunopet.errors import RegistrationError
from immunopet.image import Image
from immunopet.register.pair import register_pair
from immunopet.register.params import RegistrationParams
from immunopet.register.quality import assess
from support.moved_phantom import phantom_of


def test_rigid_registration_recovers_the_pose_within_half_a_pet_voxel(pair, registered):
    quality = assess(pair.moved_ct, pair.reference_ct, registered.transform,
                     landmarks=(pair.landmarks_moved, pair.landmarks_reference))
    voxel = float(pair.moved_ct.spacing[0])  # 8 mm: the PET voxel of the quick grid
    assert quality.landmark_mean_mm < 0.5 * voxel
    assert quality.landmark_max_mm < voxel
    assert quality.body_dice_after > 0.97 > quality.body_dice_before
    assert quality.nmi_after > quality.nmi_before
    assert quality.verdict == "good", quality.reasons


def test_the_same_images_and_seed_give_the_same_transform(pair, registered):
    again = register_pair(pair.moved_ct, pair.reference_ct)
    assert np.allclose(again.transform.GetParameters(), registered.transform.GetParameters())


def test_a_scan_registered_to_another_patient_is_flagged_poor(pair):
    other = phantom_of(1)
    other_ct = Image(other.hu, other.affine, "HU")
    result = register_pair(pair.moved_ct, other_ct)
    quality = assess(pair.moved_ct, other_ct, result.transform)
    assert quality.verdict == "poor"
    assert "body Dice" in quality.reasons


def test_a_wrong_transform_is_flagged_poor(pair):
    wrong = sitk.Euler3DTransform()
    wrong.SetTranslation((0.0, 0.0, 60.0))
    quality = assess(pair.moved_ct, pair.reference_ct, wrong,
                     landmarks=(pair.landmarks_moved, pair.landmarks_reference))
    assert quality.verdict == "poor"
    assert quality.landmark_mean_mm > 20


def test_pet_to_pet_fallback_recovers_the_pose(pair):
    result = register_pair(pair.moved_pet, pair.reference_pet, modality="PT")
    quality = assess(pair.moved_pet, pair.reference_pet, result.transform, modality="PT",
                     landmarks=(pair.landmarks_moved, pair.landmarks_reference))
    assert quality.landmark_mean_mm < float(pair.moved_pet.spacing[0])


def test_deformable_step_gives_a_composite_that_keeps_landmarks_within_a_voxel(pair):
    params = RegistrationParams(deformable=True, bspline_iterations=5, bspline_level_mm=16.0)
    result = register_pair(pair.moved_ct, pair.reference_ct, params=params)
    assert isinstance(result.transform, sitk.CompositeTransform)
    quality = assess(pair.moved_ct, pair.reference_ct, result.transform,
                     landmarks=(pair.landmarks_moved, pair.landmarks_reference))
    assert quality.landmark_mean_mm < float(pair.moved_ct.spacing[0])


def test_a_constant_image_is_a_clear_error(pair):
    blank = pair.moved_ct.with_array(np.zeros(pair.moved_ct.shape, np.float32))
    with pytest.raises(RegistrationError, match="constant"):
        register_pair(blank, pair.reference_ct)


def test_unknown_modality_is_a_clear_error(pair):
    with pytest.raises(RegistrationError, match="modality"):
        register_pair(pair.moved_ct, pair.reference_ct, modality="MR")
