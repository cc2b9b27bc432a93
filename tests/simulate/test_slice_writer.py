"""The fast slice writer writes exactly what pydicom.dcmwrite writes."""

from __future__ import annotations

import io

import numpy as np
import pydicom

from immunopet.simulate.slice_writer import SliceWriter
from support.tiny_slice import tiny_pet_slice


def test_bytes_equal_pydicom_dcmwrite():
    ds, info = tiny_pet_slice(rows=3, columns=4, sex="M", description="d")
    ds.RescaleIntercept, ds.ImageIndex, ds.InstanceNumber = "0", 1, 1
    ds.ImagePositionPatient, ds.RescaleSlope, ds.PixelData = [0, 0, 0], "1", b""
    writer = SliceWriter(ds, ["SOPInstanceUID", "InstanceNumber", "ImagePositionPatient", "RescaleSlope",
                              "ImageIndex", "PixelData"])
    values = {"SOPInstanceUID": info.uid("pet", 5), "InstanceNumber": 6, "ImageIndex": 6,
              "ImagePositionPatient": ["-10.5000", "3.2500", "-700.0000"], "RescaleSlope": "0.0123456789",
              "PixelData": np.arange(12, dtype=np.int16).tobytes()}
    fast = writer.encode(values)
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    ds.file_meta.MediaStorageSOPInstanceUID = values["SOPInstanceUID"]
    reference = io.BytesIO()
    pydicom.dcmwrite(reference, ds, enforce_file_format=True)
    assert fast == reference.getvalue()
    back = pydicom.dcmread(io.BytesIO(fast))
    assert back.InstanceNumber == 6 and np.array_equal(back.pixel_array.ravel(), np.arange(12))


def test_directly_encoded_values_equal_pydicom_encoding():
    """The values the writer encodes itself (text, integers, bytes, DS read from a file) and those it
    hands to pydicom (floats, odd lengths, multi-valued text) all come out as pydicom writes them."""
    from pydicom.dataelem import DataElement
    from pydicom.valuerep import DSfloat

    from immunopet.simulate.slice_writer import _encode_element, _encoder

    from_file = pydicom.dcmread(io.BytesIO(_dataset_bytes(["-10.50", "3.25 ", "-700.0"])), force=True)
    cases = [
        (0x00080018, "UI", "1.2.3.4"), (0x00080018, "UI", "1.2.3.45"),
        (0x00200013, "IS", 7), (0x00200013, "IS", 123456), (0x00200013, "IS", "12"),
        (0x00281053, "DS", "0.0123456789"), (0x00281053, "DS", " 1 "), (0x00281053, "DS", 2.5),
        (0x00281053, "DS", 3), (0x00281053, "DS", DSfloat("4.50")), (0x00281053, "DS", "1\\2"),
        (0x00200032, "DS", ["-10.5000", "3.2500", "-700.0000"]), (0x00200032, "DS", [1.5, 2.0, 3.0]),
        (0x00200032, "DS", from_file.ImagePositionPatient),
        (0x00541330, "US", 9), (0x7FE00010, "OW", b"\x01\x02\x03\x04"), (0x7FE00010, "OB", b"\x01\x02\x03"),
    ]
    for tag, vr, value in cases:
        reference = _encode_element(DataElement(tag, vr, value, validation_mode=pydicom.config.IGNORE))
        assert _encoder(tag, vr)(value) == reference, (vr, value)


def _dataset_bytes(position: list[str]) -> bytes:
    ds = pydicom.Dataset()
    ds.ImagePositionPatient = position
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    out = io.BytesIO()
    ds.save_as(out, implicit_vr=False, little_endian=True)
    return out.getvalue()
