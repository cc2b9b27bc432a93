"""Fast writing of many single-slice DICOM files that differ in a few attributes.

pydicom encodes the template once, split at the attributes that change per slice; each file is then
the concatenation of the cached static encodings and pydicom's encoding of the changing elements
(a DICOM data set is the sequence of its elements in ascending tag order, so this is exactly what
``pydicom.dcmwrite(..., enforce_file_format=True)`` writes; a test checks byte equality). The changing
elements are made by pydicom from the given values (validation skipped: the values are the
simulator's own) and packed by :func:`immunopet.dicom.dataset_writer.encode_element`, which writes
what pydicom writes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydicom import config
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info

from immunopet.dicom.dataset_writer import encode_element

MEDIA_SOP_INSTANCE_UID = 0x00020003
GROUP_LENGTH = 0x00020000


def _stream() -> DicomBytesIO:
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = True, False
    return fp


def _encode(ds: Dataset) -> bytes:
    fp = _stream()
    write_dataset(fp, ds)
    return fp.getvalue()


def _encode_element(element: DataElement) -> bytes:
    fp = _stream()
    write_data_element(fp, element)
    return fp.getvalue()


def _encoder(tag: int, vr: str) -> Callable[[object], bytes]:
    """Encoder of one varying element: pydicom converts the value (text, integers, bytes), the
    dataset writer packs it as pydicom writes it (:func:`immunopet.dicom.dataset_writer.encode_element`)."""

    def encode(value: object) -> bytes:
        return encode_element(DataElement(tag, vr, value, validation_mode=config.IGNORE))

    return encode


class SliceWriter:
    """Writes ``template`` with per-file values of the attributes named in ``varying``.

    Parameters
    ----------
    template
        The complete header (explicit VR little endian), with ``file_meta``.
    varying
        Keywords of the attributes set per file (``SOPInstanceUID`` always is, and sets the file
        meta's Media Storage SOP Instance UID); ``PixelData`` may be one of them.
    """

    def __init__(self, template: Dataset, varying: Iterable[str]) -> None:
        self.varying = sorted(set(varying) | {"SOPInstanceUID"}, key=tag_for_keyword)
        self.template = template
        cuts = [tag_for_keyword(kw) for kw in self.varying]
        segments: list[Dataset] = [Dataset() for _ in range(len(cuts) + 1)]
        for element in template:
            if element.tag not in cuts:
                segments[sum(1 for cut in cuts if element.tag > cut)].add(element)
        self.static = [_encode(segment) for segment in segments]
        self.encoders = [_encoder(tag_for_keyword(kw), self._vr(kw)) for kw in self.varying]
        self.meta_uid = _encoder(MEDIA_SOP_INSTANCE_UID, "UI")
        # values come from our own code and are valid by construction: skip pydicom's re-validation
        # file meta: encoded once by pydicom, then split around the SOP instance UID and group length
        meta = _stream()
        write_file_meta_info(meta, FileMetaDataset(template.file_meta), enforce_standard=True)
        complete = FileMetaDataset(template.file_meta)
        self.meta_before = [e for e in complete if GROUP_LENGTH < e.tag < MEDIA_SOP_INSTANCE_UID]
        self.meta_after = [e for e in complete if e.tag > MEDIA_SOP_INSTANCE_UID]
        self.meta_before_bytes = b"".join(_encode_element(e) for e in self.meta_before)
        self.meta_after_bytes = b"".join(_encode_element(e) for e in self.meta_after)

    def _vr(self, keyword: str) -> str:
        if keyword == "PixelData":  # OB or OW: 16-bit pixels are OW
            return "OW" if int(self.template.get("BitsAllocated", 8)) > 8 else "OB"
        return dictionary_VR(tag_for_keyword(keyword))

    def _file_meta(self, sop_instance_uid: str) -> bytes:
        body = self.meta_before_bytes + self.meta_uid(sop_instance_uid) + self.meta_after_bytes
        return b"\x00" * 128 + b"DICM" + struct.pack("<HH2sHI", 2, 0, b"UL", 4, len(body)) + body

    def encode(self, values: Mapping[str, Any]) -> bytes:
        """The bytes of one file; ``values`` must give every varying attribute."""
        parts = [self._file_meta(values["SOPInstanceUID"]), self.static[0]]
        for keyword, encode, static in zip(self.varying, self.encoders, self.static[1:]):
            parts += [encode(values[keyword]), static]
        return b"".join(parts)

    def write(self, path: Path, values: Mapping[str, Any]) -> None:
        path.write_bytes(self.encode(values))
