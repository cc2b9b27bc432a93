"""Partial-volume fractions of the simulated lesions: fractions of analytic shapes, the label map and
the SUV map made from them, and the truth of a simulated study."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.simulate.anatomy import LESION_LABEL_OFFSET
from immunopet.simulate.partial_volume import fraction_labels, fraction_maps, fractional_suv, lesion_fractions

LABEL = LESION_LABEL_OFFSET + 1


class _Still:
    """A pose that does not move the patient: scan and phantom frames are one."""

    @staticmethod
    def to_phantom(x, y, z):
        return x, y, z


def _ball(centre, radius):
    def r2(x, y, z):
        return ((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2) / radius**2
    return r2


def _scene(centre, radius, voxel=4.0, n=16):
    affine = np.diag([voxel, voxel, voxel, 1.0])
    axes = np.arange(n) * voxel
    x, y, z = np.meshgrid(axes, axes, axes, indexing="ij")
    nearest = np.where(_ball(centre, radius)(x, y, z) <= 1.0, LABEL, 1).astype(np.uint8)
    tissue = np.ones(nearest.shape, dtype=np.uint8)
    return nearest, tissue, affine


@settings(max_examples=25, deadline=None)
@given(radius=st.floats(6.0, 18.0), shift=st.tuples(*[st.floats(-2.0, 2.0)] * 3))
def test_the_fractions_of_a_ball_hold_its_volume_and_lie_in_0_1(radius, shift):
    centre = np.add((30.0, 30.0, 30.0), shift)
    nearest, tissue, affine = _scene(centre, radius)
    (lesion,) = lesion_fractions(nearest, tissue, affine, _Still(), [(_ball(centre, radius), 0.0, 0.0, 0.15)])
    assert ((lesion.fraction >= 0) & (lesion.fraction <= 1)).all()
    volume = lesion.volume_voxels * 64.0  # mm3
    # 27 sub-points per 4 mm voxel: the sampled volume is within 6 % of the ball's
    assert volume == pytest.approx(4.0 / 3.0 * np.pi * radius**3, rel=0.06)
    full = np.zeros(nearest.shape, dtype=np.float32)
    full[lesion.box] = lesion.fraction
    assert (full[nearest == LABEL] > 0).all()  # every voxel whose centre is inside holds some of it


def test_the_label_map_takes_the_voxels_at_least_half_inside_and_the_suv_blends_by_fraction():
    centre, radius = (30.0, 30.0, 30.0), 10.0
    nearest, tissue, affine = _scene(centre, radius)
    fractions = lesion_fractions(nearest, tissue, affine, _Still(), [(_ball(centre, radius), 0.0, 0.0, 0.15)])
    (lesion,) = fractions
    labels = fraction_labels(tissue, fractions)
    full = np.zeros(nearest.shape, dtype=np.float32)
    full[lesion.box] = lesion.fraction
    assert np.array_equal(labels == LABEL, full >= 0.5)
    tissue_suv = np.full(nearest.shape, 2.0, dtype=np.float32)
    lesions = pd.DataFrame({"heterogeneity": [0.0], "necrotic_core": [0.0], "suv_max_day7": [10.0]})
    suv = fractional_suv(tissue_suv, fractions, lesions, 7.0)
    np.testing.assert_allclose(suv, 2.0 * (1 - full) + 10.0 * full, rtol=1e-6)  # uniform lesion of SUV 10
    total, index = fraction_maps(nearest.shape, fractions)
    np.testing.assert_allclose(total, full)
    assert np.array_equal(index == LABEL, full > 0)


def test_a_lesion_voxel_in_air_holds_no_lesion():
    centre, radius = (30.0, 30.0, 30.0), 10.0
    nearest, tissue, affine = _scene(centre, radius)
    tissue[:8] = 0  # air on one side
    (lesion,) = lesion_fractions(nearest, tissue, affine, _Still(), [(_ball(centre, radius), 0.0, 0.0, 0.15)])
    full = np.zeros(nearest.shape, dtype=np.float32)
    full[lesion.box] = lesion.fraction
    assert (full[:8] == 0).all() and (full[8:] > 0).any()


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from immunopet.simulate import simulate_study

    out = tmp_path_factory.mktemp("pv") / "study"
    simulate_study(out, patients=2, seed=3, days=(2, 7), params={"motion": {"enabled": True}})
    return out


def test_the_truth_volumes_are_the_analytic_volumes_of_the_ellipsoid_lesions(study):
    truth = pd.read_csv(study / "truth" / "truth.csv")
    lesions = pd.read_csv(study / "truth" / "lesions.csv")
    rows = truth[truth["kind"] == "lesion"].merge(lesions, on=["patient_id", "voi_id"])
    plain = rows[(rows["lobes"] == 0) & (rows["baseline_diameter_mm"] >= 12)]
    assert len(plain) >= 4
    radius = plain["baseline_diameter_mm"] / 2.0
    analytic = 4.0 / 3.0 * np.pi * radius**3 * plain["axis_ratio_2"] * plain["axis_ratio_3"] / 1000.0
    ratio = plain["fractional_volume_ml"] / analytic
    assert ratio.median() == pytest.approx(1.0, abs=0.03), ratio.round(3).tolist()
    assert ratio.between(0.85, 1.1).all(), ratio.round(3).tolist()


def test_the_fraction_maps_hold_the_truth_volumes(study):
    truth = pd.read_csv(study / "truth" / "truth.csv")
    scan = truth["scan_id"].iloc[0]
    total = nib.load(study / "truth" / "fractions" / f"{scan}_lesion_fraction.nii.gz")
    index = np.asarray(nib.load(study / "truth" / "fractions" / f"{scan}_lesion_index.nii.gz").dataobj)
    voxel_ml = float(np.prod(total.header.get_zooms())) / 1000.0
    values = np.asarray(total.dataobj)
    for row in truth[(truth["scan_id"] == scan) & (truth["kind"] == "lesion")].itertuples():
        assert values[index == row.label].sum() * voxel_ml == pytest.approx(row.fractional_volume_ml, rel=0.02)
