"""A transform file of any content is read or refused with a RegistrationError naming it."""

import pytest
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import RegistrationError
from immunopet.register.transforms import read_transform, write_transform

HEADER = "#Insight Transform File V1.0\n#Transform 0\n"
lines = st.lists(st.sampled_from(["Transform: Euler3DTransform_double_3_3", "Transform: AffineTransform_double_2_2",
                                  "Parameters: 0 0 0 1 2 3", "Parameters: nan x", "FixedParameters: 0 0 0",
                                  "FixedParameters:", "Transform: NoSuchTransform"]), max_size=4)


@settings(max_examples=40, deadline=None)
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
