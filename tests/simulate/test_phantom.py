"""The phantom: organ volumes of a plausible adult, lesions of the drawn size, landmarks in place."""

from __future__ import annotations

import numpy as np
import pytest

from immunopet.simulate import draw_cohort
from immunopet.simulate.anatomy import LABELS, LESION_LABEL_OFFSET
from immunopet.simulate.cohort import STREAM_IMAGE, patient_rng
from immunopet.simulate.phantom import build_phantom


@pytest.fixture(scope="module")
def phantoms():
    cohort = draw_cohort(6, 3)
    out = []
    for index, subject in cohort.subjects.iterrows():
        lesions = cohort.lesions[cohort.lesions.patient_id == subject.patient_id]
        out.append((subject, lesions, build_phantom(subject, lesions, cohort.params, quick=False,
                                                    rng=patient_rng(3, index, STREAM_IMAGE))))
    return out


def _ml(phantom, name):
    return float((phantom.labels == LABELS[name]).sum() * phantom.affine[0, 0] ** 3 / 1000.0)


def test_grid_is_the_clinical_pet_grid(phantoms):
    for subject, _, phantom in phantoms:
        assert phantom.labels.shape[:2] == (128, 96)
        assert np.allclose(np.diag(phantom.affine)[:3], 4.0)
        extent_mm = phantom.labels.shape[2] * 4.0
        assert 0.5 * subject.height_cm * 10 < extent_mm < 0.62 * subject.height_cm * 10


def test_every_tissue_is_present_with_a_plausible_volume(phantoms):
    ranges = {"liver": (900, 2500), "spleen": (120, 400), "kidneys": (180, 500), "brain": (900, 2000),
              "lungs": (2000, 6000), "blood_pool": (150, 600)}
    for _, _, phantom in phantoms:
        for name in LABELS:
            assert (phantom.labels == LABELS[name]).any(), name
        for name, (low, high) in ranges.items():
            assert low < _ml(phantom, name) < high, (name, _ml(phantom, name))


def test_larger_bmi_gives_more_fat(phantoms):
    bmi = [s.bmi for s, _, _ in phantoms]
    fat = [_ml(p, "fat") / _ml(p, "liver") for _, _, p in phantoms]
    assert np.corrcoef(bmi, fat)[0, 1] > 0.5


def test_lesions_have_their_drawn_size_shape_and_uptake_profile(phantoms):
    shapes = set()
    for _, lesions, phantom in phantoms:
        for n, row in enumerate(lesions.itertuples()):
            inside = phantom.labels == LESION_LABEL_OFFSET + n + 1
            volume = inside.sum() * 0.064
            ellipsoid = np.pi / 6.0 * row.baseline_diameter_mm**3 * row.axis_ratio_2 * row.axis_ratio_3 / 1000.0
            lobes = row.lobes * np.pi / 6.0 * (0.55 * row.baseline_diameter_mm) ** 3 / 1000.0
            assert ellipsoid * 0.65 - 0.2 <= volume <= (ellipsoid + lobes) * 1.35 + 0.2, (n, volume, ellipsoid)
            assert phantom.profile[inside].max() <= 1.0
            lowest = min(1.0 - row.heterogeneity, 0.15 if row.necrotic_core > 0 else 1.0)
            assert phantom.profile[inside].min() >= lowest - 1e-6
            if row.necrotic_core > 0 and inside.sum() > 200:  # a cold core the size of a few voxels
                assert (phantom.profile[inside] == np.float32(0.15)).sum() >= 1
            shapes.add("lobulated" if row.lobes else "necrotic" if row.necrotic_core else "ellipsoid")
        assert np.all(phantom.profile[phantom.labels < LESION_LABEL_OFFSET] == 1.0)
    assert {"lobulated", "ellipsoid"} <= shapes


def test_landmarks_of_the_sphere_vois_lie_in_their_tissue(phantoms):
    for _, _, phantom in phantoms:
        inverse = np.linalg.inv(phantom.affine)
        for landmark, tissue in (("aortic_arch", "blood_pool"), ("lumbar_marrow", "bone_marrow")):
            ijk = np.rint(inverse[:3, :3] @ phantom.body.landmarks[landmark] + inverse[:3, 3]).astype(int)
            assert phantom.labels[tuple(ijk)] == LABELS[tissue]


def test_ct_numbers_follow_the_tissues(phantoms):
    _, _, phantom = phantoms[0]
    for name, low, high in (("lungs", -900, -800), ("liver", 50, 70), ("bone", 650, 750), ("fat", -120, -80)):
        assert low < phantom.hu[phantom.labels == LABELS[name]].mean() < high
    assert phantom.hu[phantom.labels == 0].mean() < -990
