"""The simulator's TotalSegmentator-shaped organ masks agree with the phantom's labels."""

import numpy as np

from immunopet.image import Image
from immunopet.simulate.anatomy import LABELS
from immunopet.simulate.segmenter_output import organ_masks, write_segmenter_output
from immunopet.voi.resample import resample_nearest
from support.moved_phantom import phantom_of


def test_masks_are_cut_from_the_right_tissues():
    phantom = phantom_of(0)
    masks = organ_masks(phantom)
    assert np.all(phantom.labels[masks["aorta"]] == LABELS["blood_pool"])
    assert masks["aorta"].sum() < (phantom.labels == LABELS["blood_pool"]).sum()  # the heart is left out
    for n in range(1, 6):
        vertebra = masks[f"vertebrae_L{n}"]
        assert vertebra.any() and np.all(np.isin(phantom.labels[vertebra], [LABELS["bone"], LABELS["bone_marrow"]]))
    x = Image(phantom.labels, phantom.affine).voxel_centres()[..., 0]
    assert np.all(x[masks["kidney_left"]] > 0) and np.all(x[masks["kidney_right"]] < 0)
    assert (masks["kidney_left"] | masks["kidney_right"]).sum() == (phantom.labels == LABELS["kidneys"]).sum()


def test_written_files_map_back_onto_the_scan_grid(tmp_path):
    phantom = phantom_of(0)
    affine = phantom.affine.copy()
    affine[:3, 3] += [5.0, -3.0, 40.0]  # the scan's table position
    files = write_segmenter_output(tmp_path, phantom, affine)
    assert {f.name for f in files} >= {"aorta.nii.gz", "vertebrae_L3.nii.gz", "liver.nii.gz", "lung_left.nii.gz"}
    liver = Image.from_nifti(str(tmp_path / "liver.nii.gz"), dtype=None)
    grid = Image(phantom.labels, affine, "label")
    back = resample_nearest(liver, grid) > 0
    assert np.array_equal(back, phantom.labels == LABELS["liver"])
