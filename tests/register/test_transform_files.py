"""A transform file of any content is read or refused with a RegistrationError naming it."""

import pytest
import SimpleITK as sitk
from hypothesis import example, given, settings
from hypothesis import strategies as st

from immunopet.errors import RegistrationError
from immunopet.register.transforms import read_transform, write_transform

HEADER = "#Insight Transform File V1.0\n#Transform 0\n"
lines = st.lists(st.sampled_from(["Transform: Euler3DTransform_double_3_3", "Transform: AffineTransform_double_2_2",
                                  "Parameters: 0 0 0 1 2 3", "Parameters: nan x", "FixedParameters: 0 0 0",
                                  "FixedParameters:", "Transform: NoSuchTransform"]), max_size=4)


CRASHED_ITK = [  # each of these made SimpleITK's reader crash the process (SIGSEGV) or read a wrong transform
    "Transform: Euler3DTransform_double_3_3\nParameters: nan x\nFixedParameters: 0 0 0\n",
    "Transform: Euler3DTransform_double_3_3\nParameters: a b c d e f\nFixedParameters: 0 0 0\n",
    "Transform: Euler3DTransform_double_3_3\nParameters: nan 0 0 1 2 3\nFixedParameters: 0 0 0\n",
    "Transform: Euler3DTransform_double_3_3\nParameters: 0 0\nFixedParameters: 0 0 0\n",
    "Transform: Euler3DTransform_double_3_3\nFixedParameters: 0 0 0\n",
]


@settings(max_examples=40, deadline=None)
@example(HEADER + CRASHED_ITK[0])
@example(HEADER + CRASHED_ITK[1])
@given(st.one_of(st.text(max_size=60), lines.map(lambda ls: HEADER + "\n".join(ls) + "\n")))
def test_any_content_reads_as_a_3d_transform_or_is_a_registration_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("tfm") / "scan.tfm"
    path.write_text(text, encoding="utf-8")
    try:
        transform = read_transform(path)
    except RegistrationError as refused:
        assert refused.file == str(path)
    else:
        assert transform.GetDimension() == 3


def test_a_2d_transform_file_is_refused(tmp_path):
    path = write_transform(sitk.Euler2DTransform(), tmp_path / "flat.tfm")
    with pytest.raises(RegistrationError, match="3-D") as refused:
        read_transform(path)
    assert refused.value.file == str(path)


@pytest.mark.parametrize("body", CRASHED_ITK)
def test_damaged_parameters_are_refused_before_itk_reads_them(tmp_path, body):
    path = tmp_path / "scan.tfm"
    path.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(RegistrationError, match="line 4|line 3") as refused:
        read_transform(path)
    assert refused.value.file == str(path)


@pytest.mark.parametrize("make", [
    lambda: sitk.Euler3DTransform((1, 2, 3), 0.1, -0.2, 0.3, (4, 5, 6)),
    lambda: sitk.VersorRigid3DTransform((0, 0, 0.1, 0.995), (1, 2, 3)),
    lambda: sitk.Similarity3DTransform(1.1, (0, 0, 0.0998, 0.995), (1, 2, 3)),
    lambda: sitk.AffineTransform((1.1, 0, 0, 0, 0.9, 0, 0, 0, 1), (1, 2, 3), (4, 5, 6)),
    lambda: sitk.TranslationTransform(3, (1, 2, 3)),
    lambda: sitk.CompositeTransform([sitk.Euler3DTransform((0, 0, 0), 0.1, 0, 0, (1, 2, 3)),
                                     sitk.BSplineTransformInitializer(sitk.Image([8, 8, 8], sitk.sitkFloat32),
                                                                      [2, 3, 4])]),
])
def test_every_transform_itk_writes_passes_the_check_and_reads_back(tmp_path, make):
    transform = make()
    path = write_transform(transform, tmp_path / "scan.tfm")
    back = read_transform(path)
    point = (10.0, -20.0, 30.0)
    assert back.TransformPoint(point) == pytest.approx(transform.TransformPoint(point), abs=1e-9)
