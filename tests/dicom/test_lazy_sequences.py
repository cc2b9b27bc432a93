"""Lazily parsed sequences: every attribute of every file reads as pydicom reads it from the path.

The comparison converts every element, nested items and deferred pixel data included, so a
sequence whose extent the walk got wrong, or a value read from the wrong offset, shows up as a
difference. Damaged headers (random byte changes) must fail, or parse, exactly as pydicom alone.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian

from immunopet.dicom.lazy_sequences import define_sequence_lengths, read_lazily

DEFER = 4096


def _flat(ds: Dataset, path: tuple = ()) -> list[tuple]:
    """Every element as (tag path, VR, value repr), or the error its conversion raises."""
    out: list[tuple] = []
    for tag in list(ds.keys()):
        try:
            element = ds[tag]
        except Exception as error:  # noqa: BLE001 - the same failure is expected of both readers
            out.append((*path, tag, "error", type(error).__name__))
            continue
        if element.VR == "SQ":
            out.append((*path, tag, "SQ", len(element.value)))
            for k, item in enumerate(element.value):
                out.extend(_flat(item, (*path, tag, k)))
        else:
            out.append((*path, tag, element.VR, repr(element.value)))
    return out


def _outcome(read, file: Path) -> tuple:
    try:
        ds = read(str(file), defer_size=DEFER)
    except Exception as error:  # noqa: BLE001
        return ("error", type(error).__name__)
    return ("read", _flat(ds.file_meta), _flat(ds))


def _samples(shared_data: Path) -> list[Path]:
    ge = sorted((shared_data / "tcia-sts-001-ge-fdg" / "pet").iterdir())
    cropped = sorted(p for p in (shared_data / "tcia-sts-cropped").rglob("*") if p.is_file())
    return [shared_data / "acrin-flt-siemens" / "1.dcm", shared_data / "acrin-flt-siemens" / "2.dcm", *ge[:3],
            shared_data / "tcia-sts-001-ge-fdg" / "rtstruct" / "1-1.dcm", *cropped[::40]]


def test_real_files_read_as_pydicom_reads_them(shared_data):
    for file in _samples(shared_data):
        buffer = bytearray(file.read_bytes())
        undefined = [e for e in pydicom.dcmread(file, stop_before_pixels=True) if e.VR == "SQ" and e.is_undefined_length]
        rewritten = define_sequence_lengths(buffer)
        assert len(rewritten) == len(undefined), file  # explicit (Siemens) and implicit VR (GE) files alike
        assert _outcome(read_lazily, file) == _outcome(pydicom.dcmread, file), file


def test_sequences_stay_unparsed_until_read(siemens_wb):
    ds = read_lazily(str(siemens_wb), defer_size=DEFER)
    icon = ds.get_item("IconImageSequence", keep_deferred=True)
    assert isinstance(icon.value, bytes) and icon.length > DEFER  # held, not deferred to the file
    assert ds.IconImageSequence[0].Rows == pydicom.dcmread(siemens_wb).IconImageSequence[0].Rows
    assert ds.filename == str(siemens_wb) and ds.buffer is None  # pixel data are read from the file
    assert ds.PixelData == pydicom.dcmread(siemens_wb).PixelData


def test_other_encodings_are_left_to_pydicom(siemens_wb, tmp_path):
    ds = pydicom.dcmread(siemens_wb)
    ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    target = tmp_path / "big.dcm"
    pydicom.dcmwrite(target, ds, implicit_vr=False, little_endian=False, enforce_file_format=True)
    assert define_sequence_lengths(bytearray(target.read_bytes())) == []
    assert _outcome(read_lazily, target) == _outcome(pydicom.dcmread, target)
    assert define_sequence_lengths(bytearray(b"\0" * 128 + b"DICM" + b"\x02\0\x10\0UI")) == []


def test_a_file_cut_inside_a_sequence_reads_as_before(siemens_wb, tmp_path):
    data = siemens_wb.read_bytes()
    (_, value, length), *_ = define_sequence_lengths(bytearray(data))
    for cut in (value + 4, value + length // 2, value + length - 4):
        target = tmp_path / f"cut{cut}.dcm"
        target.write_bytes(data[:cut])
        assert define_sequence_lengths(bytearray(target.read_bytes())) == []
        assert _outcome(read_lazily, target) == _outcome(pydicom.dcmread, target)


@pytest.fixture(scope="module", params=["explicit VR (Siemens)", "implicit VR (GE)"])
def header_bytes(shared_data, request) -> tuple[bytes, int]:
    """A slice with undefined-length sequences in each transfer syntax, and where its pixel data start."""
    if request.param.startswith("explicit"):
        file = shared_data / "acrin-flt-siemens" / "1.dcm"
    else:
        file = sorted((shared_data / "tcia-sts-001-ge-fdg" / "pet").iterdir())[0]
    assert define_sequence_lengths(bytearray(file.read_bytes())), "the sample has no sequence to rewrite"
    return file.read_bytes(), pydicom.dcmread(file, defer_size=DEFER).get_item("PixelData", keep_deferred=True).value_tell


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_headers_fail_or_read_as_with_pydicom(header_bytes, tmp_path_factory, data):
    original, pixels = header_bytes
    changed = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        changed[data.draw(st.integers(132, pixels - 1))] = data.draw(st.sampled_from([0, 0xFF, 0xFE, 0xE0, 0xDD, 0x0D, 0x53, 0x51, 0x55, 0x4E]))
    target = tmp_path_factory.mktemp("damaged") / "slice.dcm"
    target.write_bytes(bytes(changed))
    try:
        assert _outcome(read_lazily, target) == _outcome(pydicom.dcmread, target)
    finally:
        shutil.rmtree(target.parent)


def test_identical_radiopharmaceutical_items_are_compared_unparsed(ge_pet):
    from pydicom.dataelem import RawDataElement

    from immunopet.dicom.consistency import check_slices_agree
    from immunopet.dicom.frames import frames_of
    from immunopet.dicom.volume import read_series

    items, _ = read_series(ge_pet)
    frames = [frame for file, ds in items for frame in frames_of(ds, file)]
    assert check_slices_agree(frames, None) == []
    raw = [ds.get_item("RadiopharmaceuticalInformationSequence", keep_deferred=True) for _, ds in items]
    assert all(isinstance(element, RawDataElement) for element in raw) and len(raw) == 267


def test_a_sequence_pydicom_did_not_find_where_the_walk_did_means_a_plain_parse(siemens_wb, monkeypatch):
    from immunopet.dicom import lazy_sequences

    walked = lazy_sequences.define_sequence_lengths

    def off_by_two(buffer):
        return [(tag, value + 2, length) for tag, value, length in walked(buffer)]

    monkeypatch.setattr(lazy_sequences, "define_sequence_lengths", off_by_two)
    ds = read_lazily(str(siemens_wb), defer_size=DEFER)
    assert ds.get_item("IconImageSequence", keep_deferred=True).is_undefined_length  # parsed as read
    assert _outcome(read_lazily, siemens_wb) == _outcome(pydicom.dcmread, siemens_wb)


def test_a_deflated_file_and_a_file_rewritten_since_the_parse_go_through_pydicom(shared_data, tmp_path):
    """Deferred pixel positions of a deflated file are those of its inflated copy, and a file rewritten
    after parsing has its pixels elsewhere: both go through pydicom's deferred read (pixels of the
    deflated file; an error for the rewritten one), never bytes from the recorded offset."""
    import numpy as np
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    from immunopet.dicom.pixels import stored_pixels

    source = shared_data / "acrin-flt-siemens" / "1.dcm"
    expected = pydicom.dcmread(source).pixel_array
    deflated = pydicom.dcmread(source)
    deflated.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    deflated.save_as(tmp_path / "deflated.dcm", enforce_file_format=True)
    ds = read_lazily(str(tmp_path / "deflated.dcm"), defer_size=4096)
    assert np.array_equal(stored_pixels(ds, str(tmp_path / "deflated.dcm"))[0], expected)
    # parsed, then rewritten with a longer header: the PixelData tag is no longer at the recorded place
    moved = tmp_path / "moved.dcm"
    shutil.copy(source, moved)
    ds = read_lazily(str(moved), defer_size=4096)
    longer = pydicom.dcmread(source)
    longer.ImageComments = "x" * 501
    longer.save_as(moved)
    with pytest.raises(ValueError, match="Deferred read"):
        stored_pixels(ds, str(moved))
