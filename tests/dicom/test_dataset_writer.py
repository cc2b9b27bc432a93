"""The dataset writer writes the bytes pydicom's ``save_as(..., enforce_file_format=True)`` writes."""

from __future__ import annotations

from io import BytesIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from immunopet.dicom.dataset_writer import encode_file

SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def pydicom_bytes(ds: Dataset) -> bytes:
    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def outcome(write, ds: Dataset):
    """The bytes written, or the kind of error raised."""
    try:
        return write(ds)
    except Exception as error:  # noqa: BLE001 - both writers must fail alike
        return type(error)


def _file(ds: Dataset, transfer_syntax: str = ExplicitVRLittleEndian) -> Dataset:
    ds.SOPClassUID, ds.SOPInstanceUID = SOP_CLASS, "1.2.3.4"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    return ds


TEXT = st.text(st.sampled_from("AZaz09 .-^_=*/\\ éßΩ日\t"), max_size=9)
ASCII = st.text(st.sampled_from("AZ09 ._^"), max_size=9)
# (tag, VR, value strategy): every VR family of the SEG and SR, plus the ones left to pydicom
ELEMENTS = [
    (0x00080060, "CS", ASCII),
    (0x00081030, "LO", TEXT),
    (0x00081090, "LO", st.lists(TEXT, max_size=3)),
    (0x00080100, "SH", TEXT),
    (0x00084000, "LT", TEXT),
    (0x0040A160, "UT", TEXT),
    (0x00081115, "ST", TEXT),
    (0x00080018, "UI", st.from_regex(r"1\.2(\.[1-9][0-9]{0,3}){0,4}", fullmatch=True)),
    (0x00080020, "DA", st.sampled_from(["", "20000101", "2000010"])),
    (0x00080030, "TM", st.sampled_from(["", "120000", "1200001"])),
    (0x0040A120, "DT", st.sampled_from(["20000101120000", "2000"])),
    (0x00100010, "PN", TEXT),
    (0x00280030, "DS", st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), max_size=3)),
    (0x00181242, "DS", st.sampled_from(["1.5", "-0.25", " 3 ", "1e3"])),
    (0x00200013, "IS", st.integers(-10**6, 10**6)),
    (0x00280010, "US", st.integers(0, 65535)),
    (0x00189518, "SS", st.integers(-32768, 32767)),
    (0x0040A30A, "DS", st.floats(-1e9, 1e9, allow_nan=False)),
    (0x00720074, "FD", st.lists(st.floats(allow_nan=False), max_size=3)),
    (0x00189219, "FL", st.floats(-1e6, 1e6, allow_nan=False, width=32)),
    (0x00280009, "AT", st.just(0x00181063)),
    (0x00209157, "UL", st.lists(st.integers(0, 2**32 - 1), max_size=4)),
    (0x00420011, "OB", st.binary(max_size=7)),
    (0x00660023, "OW", st.binary(max_size=4).map(lambda b: b + b"\0" * (len(b) % 2))),
]
SEQUENCE_TAGS = [0x00081115, 0x0040A730, 0x00209071]
CHARSETS = st.sampled_from([None, "", "ISO_IR 100", "ISO_IR 192", "ISO 2022 IR 87", ["ISO 2022 IR 6", "ISO 2022 IR 87"]])


@st.composite
def datasets(draw, depth: int = 0) -> Dataset:
    ds = Dataset()
    charset = draw(CHARSETS)
    if charset is not None:
        ds.SpecificCharacterSet = charset
    for tag, vr, values in draw(st.lists(st.sampled_from(ELEMENTS), max_size=6, unique_by=lambda e: e[0])):
        value = draw(st.one_of(values, st.none()))
        ds.add(DataElement(tag, vr, value))
    if depth < 3:
        for tag in draw(st.lists(st.sampled_from(SEQUENCE_TAGS[:2]), max_size=2, unique=True)):
            items = draw(st.lists(datasets(depth + 1), max_size=3))
            for item in items:
                item.is_undefined_length_sequence_item = draw(st.booleans())
            element = DataElement(tag, "SQ", Sequence(items))
            element.is_undefined_length = draw(st.booleans())
            ds.add(element)
    return ds


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom's value checks on the drawn values
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datasets())
def test_any_dataset_is_written_as_pydicom_writes_it(ds):
    _file(ds)
    assert outcome(encode_file, ds) == outcome(pydicom_bytes, ds)


def test_ambiguous_vrs_and_other_transfer_syntaxes_are_written_as_pydicom_writes_them():
    ds = _file(Dataset())
    ds.BitsAllocated, ds.PixelRepresentation = 16, 1
    ds.add(DataElement(0x00280106, "US or SS", 3))  # Smallest Image Pixel Value: SS for signed pixels
    ds.add(DataElement(0x7FE00010, "OB or OW", b"\x01\x02"))
    item = Dataset()
    item.add(DataElement(0x00280106, "US or SS", 3))
    ds.SharedFunctionalGroupsSequence = Sequence([item])
    assert encode_file(ds) == pydicom_bytes(ds)
    implicit = _file(Dataset(), ImplicitVRLittleEndian)
    implicit.Modality = "PT"
    assert encode_file(implicit) == pydicom_bytes(implicit)


def test_a_plain_nested_dataset_is_written_without_pydicom_writing_the_file(monkeypatch):
    from immunopet.dicom import dataset_writer

    ds = _file(Dataset())
    ds.SpecificCharacterSet = "ISO_IR 192"
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "123", "DCM", "Tumour"
    item.add(DataElement(0x0040A30A, "DS", [1.5, 2.0]))
    ds.ConceptNameCodeSequence = Sequence([item, item])
    reference = pydicom_bytes(ds)
    monkeypatch.setattr(dataset_writer, "_pydicom_bytes", None)  # the whole-file fallback would fail
    assert encode_file(ds) == reference


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("value", ["x" * 70000, ["1.2"] * 20000])
def test_a_value_too_long_for_its_length_field_is_written_as_pydicom_writes_it(value):
    ds = _file(Dataset())
    ds.add(DataElement(0x00081030, "LO", value))
    assert encode_file(ds) == pydicom_bytes(ds)
