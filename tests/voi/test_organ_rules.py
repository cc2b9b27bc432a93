"""Organ VOIs from a TotalSegmentator-shaped folder of the simulator: the 89Zr conventions hold."""

import shutil

import numpy as np
import pytest

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.simulate.anatomy import LABELS
from immunopet.simulate.segmenter_output import write_segmenter_output
from immunopet.voi.organ_rules import OrganRules, erode_mm, organ_vois
from immunopet.voi.resample import resample_nearest
from immunopet.voi.spheres import sphere_mask
from support.moved_phantom import phantom_of


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    phantom = phantom_of(0, quick=False)  # the demo's 4 mm grid
    folder = tmp_path_factory.mktemp("seg") / "P01_D7"
    write_segmenter_output(folder, phantom, phantom.affine)
    return phantom, folder, {v.voi_id: v for v in organ_vois(folder)}


def test_the_standard_organs_are_derived(segmented):
    _, _, vois = segmented
    assert set(vois) == {"blood_pool", "bone_marrow", "liver", "spleen", "kidneys", "lungs", "brain", "muscle"}


def test_blood_pool_sphere_is_2_9_ml_and_lies_inside_the_true_aorta(segmented):
    phantom, _, vois = segmented
    voi = vois["blood_pool"]
    assert voi.kind == "sphere" and voi.volume_ml == 2.9
    grid = Image(phantom.labels, phantom.affine, "label")
    mask = sphere_mask(grid, voi.centres_lps[0], volume_ml=2.9)
    assert np.all(phantom.labels[mask] == LABELS["blood_pool"])
    # the arch, not the heart: at the height of the phantom's arch landmark (within 2 voxels)
    assert abs(voi.centres_lps[0][2] - phantom.body.landmarks["aortic_arch"][2]) <= 8.0


def test_marrow_voi_is_8_6_ml_in_three_lumbar_vertebrae_and_inside_the_true_bone(segmented):
    phantom, _, vois = segmented
    voi = vois["bone_marrow"]
    assert len(voi.centres_lps) == 3 and voi.volume_ml == 8.6
    on_phantom = resample_nearest(voi.image.with_array(voi.image.array.astype(np.uint8)),
                                  Image(phantom.labels, phantom.affine, "label")) > 0
    assert on_phantom.any()
    assert np.all(np.isin(phantom.labels[on_phantom], [LABELS["bone_marrow"], LABELS["bone"]]))
    z = [c[2] for c in voi.centres_lps]
    assert np.all(np.diff(z) < 0)  # L3 above L4 above L5
    # the three spheres hold 8.6 mL (voxelised on the 4 mm grid: within 30 %)
    assert voi.image.array.sum() * voi.image.voxel_volume_ml == pytest.approx(8.6, rel=0.3)


def test_eroded_organs_lie_inside_the_organ_by_their_margin(segmented):
    phantom, _, vois = segmented
    grid = Image(phantom.labels, phantom.affine, "label")
    for organ in ("liver", "spleen", "kidneys", "lungs", "brain"):
        mask = resample_nearest(vois[organ].image.with_array(vois[organ].image.array.astype(np.uint8)), grid) > 0
        truth = phantom.labels == LABELS[organ]
        assert np.all(truth[mask]), organ
        assert 0.2 * truth.sum() < mask.sum() < truth.sum(), organ


def test_erode_mm_analytic():
    mask = np.zeros((11, 11, 11), bool)
    mask[1:10, 1:10, 1:10] = True  # 9 voxels of 2 mm: surface 9 mm from the centre
    kept = erode_mm(mask, np.array([2.0, 2.0, 2.0]), 4.0)
    assert kept.sum() == 5**3  # centres at least 4 mm inside: the middle 5 voxels per axis


def test_missing_aorta_and_over_erosion_are_clear_errors(segmented, tmp_path):
    _, folder, _ = segmented
    copy = tmp_path / "seg"
    shutil.copytree(folder, copy)
    with pytest.raises(VOIError, match="nothing is left after eroding"):
        organ_vois(copy, OrganRules(margins_mm={"spleen": 200.0}))
    (copy / "aorta.nii.gz").unlink()
    with pytest.raises(VOIError, match="no aorta mask"):
        organ_vois(copy)
    with pytest.raises(VOIError, match="not found"):
        organ_vois(tmp_path / "none")


def test_rules_from_study_yaml_keep_the_defaults_they_do_not_name():
    rules = OrganRules.from_mapping({"cortex_mm": 3, "margins_mm": {"liver": 15}})
    default = OrganRules()
    assert rules.cortex_mm == 3.0 and rules.blood_pool_ml == default.blood_pool_ml
    assert rules.margins_mm == {**default.margins_mm, "liver": 15.0}
    assert OrganRules.from_mapping(None) == default == OrganRules.from_mapping({})


def test_a_wider_liver_margin_gives_a_smaller_liver_and_leaves_the_others(segmented):
    _, folder, vois = segmented
    wider = {v.voi_id: v for v in organ_vois(folder, OrganRules.from_mapping({"margins_mm": {"liver": 20}}))}
    assert 0 < wider["liver"].image.array.sum() < vois["liver"].image.array.sum()
    assert np.array_equal(wider["spleen"].image.array, vois["spleen"].image.array)
    assert wider["blood_pool"].centres_lps == vois["blood_pool"].centres_lps
