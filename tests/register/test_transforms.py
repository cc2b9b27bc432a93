"""Transform files and point mapping both ways."""

import numpy as np
import pytest
import SimpleITK as sitk
from hypothesis import example, given, settings
from hypothesis import strategies as st

from immunopet.errors import RegistrationError
from immunopet.register.transforms import exact_inverse, from_reference, read_transform, to_reference, write_transform
from support.moved_phantom import true_transform


def test_a_written_composite_transform_reads_back_identically(tmp_path, pair):
    path = write_transform(pair.truth, tmp_path / "sub" / "P01_D2.tfm")
    again = read_transform(path)
    points = pair.landmarks_moved
    assert np.allclose(to_reference(again, points), to_reference(pair.truth, points), atol=1e-6)
    assert [p.name for p in path.parent.iterdir()] == ["P01_D2.tfm"]  # no temporary file left


def test_from_reference_inverts_a_deformable_transform(pair):
    back = to_reference(pair.truth, from_reference(pair.truth, pair.landmarks_reference))
    assert np.abs(back - pair.landmarks_reference).max() < 0.02


@settings(max_examples=25, deadline=None)
@given(st.tuples(*[st.floats(-0.1, 0.1)] * 3), st.tuples(*[st.floats(-50, 50)] * 3))
@example((0.0, 0.0806058182072134, 2.2250738585e-313), (0.0, 0.0, 0.0))  # ITK's GetInverse gave NaN here
def test_rigid_inverse_is_exact(angles, shift):
    rigid = sitk.Euler3DTransform()
    rigid.SetRotation(*angles)
    rigid.SetTranslation(shift)
    points = np.array([[0.0, 0.0, 0.0], [100.0, -50.0, -700.0]])
    assert np.allclose(to_reference(rigid, from_reference(rigid, points)), points, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.tuples(*[st.floats(-0.1, 0.1)] * 3), st.tuples(*[st.floats(-50, 50)] * 3))
@example((0.0, 0.0, 2.2250738585072014e-308), (0.0, 0.0, 0.0))  # ITK's GetInverse of the composite gave NaN
def test_a_chain_of_linear_steps_has_an_exact_inverse(angles, shift):
    rigid = sitk.Euler3DTransform((0.0, 0.0, 0.0), *angles, shift)
    chain = sitk.CompositeTransform([sitk.TranslationTransform(3, (1.0, -2.0, 3.0)), rigid])
    points = np.array([[0.0, 0.0, 0.0], [100.0, -50.0, -700.0]])
    moved = to_reference(chain, points)
    assert np.allclose(to_reference(exact_inverse(chain), moved), points, atol=1e-6)
    deformable = sitk.CompositeTransform([rigid, sitk.BSplineTransform(3)])
    assert exact_inverse(deformable) is None


def test_missing_and_corrupt_transform_files_are_clear_errors(tmp_path):
    with pytest.raises(RegistrationError, match="not found"):
        read_transform(tmp_path / "none.tfm")
    bad = tmp_path / "bad.tfm"
    bad.write_text("not a transform")
    with pytest.raises(RegistrationError, match="not an ITK text transform file"):
        read_transform(bad)


def test_true_transform_helper_moves_points(pair):
    rigid = true_transform(pair.reference_ct, deformation_mm=0)
    assert np.linalg.norm(to_reference(rigid, pair.landmarks_reference) - pair.landmarks_reference, axis=1).min() > 5
