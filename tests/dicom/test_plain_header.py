"""The in-memory header reader gives what pydicom's reader gives, or leaves the file to pydicom."""

from __future__ import annotations

import os

import pydicom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

from immunopet.dicom.discover import HEADER_TAGS, _wanted
from immunopet.dicom.header import tag_of
from immunopet.dicom.plain_header import read_plain_header
from support.tiny_slice import tiny_pet_slice

SPECIFIC = [tag_of(keyword) for keyword in HEADER_TAGS]
#: Damaged-header cases per run (1500 passed once; ``IMMUNOPET_PLAIN_HEADER_EXAMPLES`` runs more).
EXAMPLES = int(os.environ.get("IMMUNOPET_PLAIN_HEADER_EXAMPLES", "80"))


def _slice() -> Dataset:
    ds, _ = tiny_pet_slice(rows=2, columns=3)
    ds.ImagePositionPatient, ds.RescaleSlope, ds.RescaleIntercept, ds.Units = ["0", "-1.5", "700"], "0.25", "0", "BQML"
    ds.InstanceNumber, ds.PixelData = 4, bytes(12)
    return ds


def _state(ds: Dataset) -> dict:
    """Elements as stored (raw tuples, or converted ones), so conversion on the way is compared too."""
    return {tag: tuple(e) if isinstance(e, RawDataElement) else (e.VR, e.value) for tag, e in ds._dict.items()}


def test_plain_file_reads_as_pydicom_reads_it(tmp_path):
    file = tmp_path / "slice"
    _slice().save_as(file, enforce_file_format=True)
    fast = read_plain_header(file, _wanted(tuple(SPECIFIC)))
    reference = pydicom.dcmread(file, stop_before_pixels=True, specific_tags=SPECIFIC)
    assert fast is not None and "PixelData" not in fast
    assert _state(fast) == _state(reference) and _state(fast.file_meta) == _state(reference.file_meta)
    assert fast == reference and fast.file_meta == reference.file_meta
    for name in ("preamble", "filename", "timestamp", "fileobj_type", "original_encoding", "_character_set"):
        assert getattr(fast, name) == getattr(reference, name), name
    assert fast.RescaleSlope == 0.25 and fast.ImagePositionPatient[1] == -1.5


def test_files_out_of_the_plain_case_are_left_to_pydicom(tmp_path):
    implicit = _slice()
    implicit.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    implicit.save_as(tmp_path / "implicit", implicit_vr=True, little_endian=True)
    with_sequence = _slice()
    item = Dataset()
    item.Modality = "PT"
    with_sequence.SharedFunctionalGroupsSequence = Sequence([item])
    with_sequence.save_as(tmp_path / "sequence", enforce_file_format=True)
    (tmp_path / "text").write_bytes(b"not DICOM" * 30)
    wanted = _wanted(tuple(SPECIFIC))
    assert [read_plain_header(tmp_path / name, wanted) for name in ("implicit", "sequence", "text")] == [None] * 3


def _outcome(read, file) -> tuple:
    try:
        ds = read(file)
    except Exception as error:  # noqa: BLE001 - the same failure is expected of both readers
        return ("error", type(error).__name__)
    return ("read", _state(ds), _state(ds.file_meta))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_headers_read_as_pydicom_reads_them(tmp_path_factory, data):
    """Bytes changed anywhere before the pixel data (the meta group, lengths, VRs, values): the
    in-memory walk returns pydicom's dataset, or leaves the file to pydicom, never something else."""
    import io

    buffer = io.BytesIO()
    _slice().save_as(buffer, enforce_file_format=True)
    original = buffer.getvalue()
    changed = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(128, len(original) - 13))  # up to the pixel data's 12 bytes
        changed[at] = data.draw(st.sampled_from([0, 0xFF, 0xFE, 0xE0, 0xDD, 0x0D, 0x53, 0x51, 0x55, 0x4E, 0x20]))
    file = tmp_path_factory.mktemp("damaged") / "slice"
    file.write_bytes(bytes(changed))
    wanted = _wanted(tuple(SPECIFIC))

    def plain_or_pydicom(path):
        fast = read_plain_header(path, wanted)
        return fast if fast is not None else pydicom.dcmread(path, stop_before_pixels=True, specific_tags=SPECIFIC)

    assert _outcome(plain_or_pydicom, file) == _outcome(
        lambda path: pydicom.dcmread(path, stop_before_pixels=True, specific_tags=SPECIFIC), file)
