"""VOIs drawn on the reference day measured on a moved day: the issue's accuracy checks."""

import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import example, given, settings
from hypothesis import strategies as st

from immunopet.errors import RegistrationError
from immunopet.image import Image
from immunopet.register.pair import register_pair
from immunopet.simulate.anatomy import LABELS, LESION_LABEL_OFFSET
from immunopet.voi.propagate import map_centre, map_mask
from immunopet.voi.spheres import sphere_mask
from support.moved_phantom import moved_pair

IDENTITY = sitk.Transform(3, sitk.sitkIdentity)
ORGANS = ("liver", "spleen", "kidneys", "lungs", "brain", "muscle")


@pytest.fixture(scope="module")
def case():
    pair = moved_pair()
    return pair, register_pair(pair.moved_ct, pair.reference_ct).transform


def _dice(a, b):
    return 2 * np.logical_and(a, b).sum() / (a.sum() + b.sum())


def _eroded(mask, image, margin_mm):
    from immunopet.voi.organ_rules import erode_mm

    return erode_mm(mask, image.spacing, margin_mm)


def test_organ_suvmean_on_the_moved_day_within_3_percent_of_the_true_voi(case):
    """Organ VOIs eroded by the organ rules' margins (docs/study-format.md), drawn on the reference day."""
    from immunopet.voi.organ_rules import OrganRules

    pair, transform = case
    margins = OrganRules().margins_mm
    for organ in ORGANS:
        reference = pair.reference_labels
        drawn = reference.with_array(_eroded(reference.array == LABELS[organ], reference, margins[organ]))
        mapped = map_mask(drawn, pair.moved_pet, drawn=IDENTITY, target=transform)
        truth = _eroded(pair.moved_labels.array == LABELS[organ], pair.moved_labels, margins[organ])
        measured = pair.moved_pet.array[mapped.array].mean()
        true = pair.moved_pet.array[truth].mean()
        assert abs(measured / true - 1) < 0.03, organ


def test_propagated_lesion_masks_have_dice_of_at_least_0_8(case):
    pair, transform = case
    scores = []
    for label in range(LESION_LABEL_OFFSET + 1, LESION_LABEL_OFFSET + 1 + len(pair.phantom.lesion_centres)):
        truth = pair.moved_labels.array == label
        if truth.sum() < 8:  # lesions of a voxel or two on the 8 mm grid: Dice is not defined usefully
            continue
        drawn = pair.reference_labels.with_array(pair.reference_labels.array == label)
        scores.append(_dice(map_mask(drawn, pair.moved_pet, drawn=IDENTITY, target=transform).array, truth))
    assert scores and np.mean(scores) >= 0.8


def test_a_sphere_keeps_its_volume_and_lands_on_the_moved_landmark(case):
    pair, transform = case
    arch = pair.landmarks_reference[0]
    centre = map_centre(arch, drawn=IDENTITY, target=transform)
    assert np.linalg.norm(np.asarray(centre) - pair.landmarks_moved[0]) < float(pair.moved_ct.spacing[0]) / 2
    fine = Image(np.zeros((40, 40, 40), np.float32), np.diag([1.0, 1, 1, 1]) @ _shift(np.asarray(centre) - 20))
    mask = sphere_mask(fine, centre, volume_ml=2.9)
    assert mask.sum() * fine.voxel_volume_ml == pytest.approx(2.9, rel=0.03)


def _shift(offset):
    matrix = np.eye(4)
    matrix[:3, 3] = offset
    return matrix


def test_a_point_drawn_on_a_non_reference_day_reaches_the_reference_and_back(case):
    pair, transform = case
    on_moved = pair.landmarks_moved[1]
    on_reference = map_centre(on_moved, drawn=transform, target=IDENTITY)
    assert np.linalg.norm(np.asarray(on_reference) - pair.landmarks_reference[1]) < 4.0
    back = map_centre(on_reference, drawn=IDENTITY, target=transform)
    assert np.allclose(back, on_moved, atol=0.05)


def test_fractional_mapping_keeps_the_organ_volume(case):
    pair, transform = case
    drawn = pair.reference_labels.with_array(pair.reference_labels.array == LABELS["liver"])
    fractions = map_mask(drawn, pair.moved_pet, drawn=IDENTITY, target=transform, fractional=True)
    assert fractions.array.dtype == np.float32 and 0 <= fractions.array.min() and fractions.array.max() <= 1
    assert fractions.array.sum() == pytest.approx(drawn.array.sum(), rel=0.03)


def test_a_mask_drawn_on_a_deformably_registered_day_is_refused(case):
    pair, _ = case
    drawn = pair.moved_labels.with_array(pair.moved_labels.array == LABELS["liver"])
    with pytest.raises(RegistrationError, match="draw the mask on the reference scan"):
        map_mask(drawn, pair.reference_pet, drawn=pair.truth, target=IDENTITY)


def _grid(shape=(24, 24, 24), spacing=4.0, origin=(-48.0, -48.0, -48.0)) -> Image:
    affine = np.diag([spacing, spacing, spacing, 1.0])
    affine[:3, 3] = origin
    return Image(np.zeros(shape, dtype=np.float32), affine, "SUVbw")


def _ball(grid: Image, centre, radius) -> np.ndarray:
    return np.linalg.norm(grid.voxel_centres() - np.asarray(centre), axis=-1) <= radius


def test_a_whole_voxel_shift_moves_the_mask_exactly_and_empty_or_edge_masks_map():
    grid = _grid()
    drawn = _ball(grid, (0, 0, 0), 13.0)
    shift = sitk.TranslationTransform(3, (8.0, -4.0, 12.0))  # target point -> drawn frame: pulls (2, -1, 3) voxels
    mapped = map_mask(grid.with_array(drawn), grid, drawn=IDENTITY, target=shift).array
    assert np.array_equal(mapped, _ball(grid, (-8.0, 4.0, -12.0), 13.0))
    assert not map_mask(grid.with_array(np.zeros(grid.shape, bool)), grid, drawn=IDENTITY, target=shift).array.any()
    edge = np.zeros(grid.shape, bool)
    edge[:3, :3, :3] = True  # at the grid's corner: the signed distance's box lies partly beyond the grid
    assert np.array_equal(map_mask(grid.with_array(edge), grid, drawn=IDENTITY, target=IDENTITY).array, edge)


def test_signed_distance_mapping_follows_the_true_boundary_better_than_nearest_neighbour():
    """A 20 mm ball drawn on a 4 mm grid, rotated 4 degrees and moved by fractions of a voxel: the mapped
    mask against the ball drawn directly on the target grid. Nearest neighbour puts the boundary on the
    drawn grid's steps a second time; the signed distance's boundary lies between them."""
    from immunopet.register.transforms import resample_to_scan

    grid = _grid()
    rotation = sitk.Euler3DTransform((0.0, 0.0, 0.0), np.radians(4.0), np.radians(-3.0), np.radians(2.0),
                                     (1.3, -0.7, 2.1))
    centre = np.asarray((2.2, -1.1, 0.6))
    drawn = _ball(grid, centre, 20.0)
    # the ball's centre on the target grid: the point the pull transform maps onto the drawn centre
    truth = _ball(grid, rotation.GetInverse().TransformPoint(centre.tolist()), 20.0)
    mapped = map_mask(grid.with_array(drawn), grid, drawn=IDENTITY, target=rotation).array
    nearest = resample_to_scan(grid.with_array(drawn), grid, rotation, interpolation="nearest").array
    assert _dice(mapped, truth) >= 0.95
    assert np.logical_xor(mapped, truth).sum() < np.logical_xor(nearest, truth).sum()
    assert mapped.sum() == drawn.sum()  # a rigid map keeps the drawn volume (same voxel size here)
    half = map_mask(grid.with_array(drawn), _grid(shape=(48, 48, 48), spacing=2.0), drawn=IDENTITY, target=rotation)
    assert half.array.sum() == drawn.sum() * 8  # ... on a finer grid too (in mL)


@settings(max_examples=40, deadline=None)
@given(bits=st.binary(min_size=8 * 8 * 8 // 8, max_size=8 * 8 * 8 // 8), spacing=st.sampled_from([1.0, 2.5, 4.0]),
       shift=st.tuples(*[st.floats(-6.0, 6.0)] * 3), angle=st.floats(-6.0, 6.0))
@example(bits=bytes(63) + b"\x01", spacing=1.0, shift=(0.0, 0.0, 0.0), angle=2.2250738585072014e-308)  # ITK's
# inverse of a denormal rotation is NaN: the window of the target grid was lost with it
def test_any_drawn_mask_maps_to_a_mask_of_the_target_grid(bits, spacing, shift, angle):
    """Any drawn voxels (scattered, single, at the grid's faces, none) map without error to a boolean
    mask of the target grid; wholly inside it, a rigid map keeps the drawn volume to the voxel."""
    grid = _grid(shape=(8, 8, 8), spacing=spacing, origin=(-4 * spacing,) * 3)
    drawn = np.unpackbits(np.frombuffer(bits, dtype=np.uint8)).astype(bool).reshape(8, 8, 8)
    target = _grid(shape=(24, 24, 24), spacing=spacing, origin=(-12 * spacing,) * 3)
    rigid = sitk.Euler3DTransform((0.0, 0.0, 0.0), 0.0, 0.0, np.radians(angle), shift)
    mapped = map_mask(grid.with_array(drawn), target, drawn=IDENTITY, target=rigid).array
    assert mapped.dtype == np.bool_ and mapped.shape == target.shape
    assert mapped.sum() == drawn.sum()  # the 8-voxel cube moved by <= 6 mm stays inside the 24-voxel grid


def test_a_deformable_step_keeps_the_drawn_volume():
    """Under rigid + B-spline (a smooth 3 mm bulge) the mapped ball keeps the drawn voxel count and
    overlaps the ball moved by the transform; the zero level alone would change its volume."""
    grid = _grid()
    drawn = _ball(grid, (0, 0, 0), 14.0)
    bspline = sitk.BSplineTransformInitializer(grid.to_sitk(), [3, 3, 3])
    params = np.zeros(len(bspline.GetParameters()))
    params[: len(params) // 3] = np.where(np.arange(len(params) // 3) % 7 == 3, 3.0, 0.0)  # x shifts of some nodes
    bspline.SetParameters(params.tolist())
    composite = sitk.CompositeTransform([sitk.TranslationTransform(3, (4.0, 0.0, -2.0)), bspline])
    mapped = map_mask(grid.with_array(drawn), grid, drawn=IDENTITY, target=composite).array
    assert mapped.dtype == bool and int(mapped.sum()) == int(drawn.sum())
    moved = np.array([composite.TransformPoint(tuple(map(float, p))) for p in grid.voxel_centres()[drawn]])
    assert np.abs(moved - grid.voxel_centres()[drawn]).max() > 4.5  # the deformation did act
    pulled = np.array([composite.TransformPoint(tuple(map(float, p))) for p in grid.voxel_centres()[mapped]])
    assert (np.linalg.norm(pulled, axis=1) <= 14.0 + 4.0).mean() > 0.97  # mapped voxels pull back into the ball


@settings(max_examples=40, deadline=None)
@given(centre=st.tuples(*(st.floats(-60, 60),) * 3), radius=st.floats(3, 30),
       angles=st.tuples(*(st.floats(-0.3, 0.3),) * 3), shift=st.tuples(*(st.floats(-40, 40),) * 3),
       fractional=st.booleans())
@example(centre=(0.0, 0.0, 0.0), radius=29.25, angles=(0.0, 0.0, 0.0), shift=(0.0, 0.0, 0.0), fractional=False)  # ties
def test_resampling_only_the_window_the_mask_can_reach_gives_the_whole_grids_result(
        centre, radius, angles, shift, fractional):
    """A ball drawn anywhere (also cut by either field of view) and any rigid transform: mapped on the
    window of the target grid it can reach, exactly as when the whole grid is resampled."""
    import immunopet.voi.propagate as propagate

    drawn_grid = Image(np.zeros((30, 26, 34), dtype=np.float32), _grid_affine((4.0, 4.0, 4.0), -60.0), "")
    target_grid = Image(np.zeros((28, 30, 25), dtype=np.float32), _grid_affine((4.0, 3.5, 5.0), -55.0), "")
    mask = drawn_grid.with_array(np.linalg.norm(drawn_grid.voxel_centres() - np.asarray(centre), axis=-1) <= radius)
    transform = sitk.Euler3DTransform((0.0, 0.0, 0.0), *angles, shift)
    windowed = map_mask(mask, target_grid, drawn=IDENTITY, target=transform, fractional=fractional).array
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(propagate, "target_window", lambda source, grid, chain: tuple(slice(0, n) for n in grid.shape))
        whole = map_mask(mask, target_grid, drawn=IDENTITY, target=transform, fractional=fractional).array
    assert windowed.dtype == whole.dtype
    np.testing.assert_array_equal(windowed, whole)


def _grid_affine(spacing_mm, origin_mm):
    affine = np.diag([*spacing_mm, 1.0])
    affine[:3, 3] = origin_mm
    return affine
