"""Pixel data: sizes checked before anything is allocated, then read without decoding twice.

A header can claim any matrix (65535 x 65535, or a 4 kB RLE file claiming 30000 x 30000); the
volume is only allocated after every file's claim has been checked against the bytes it holds and
against a memory bound. Uncompressed data are viewed in place with :func:`numpy.frombuffer`;
compressed data go through pydicom's decoders once. :func:`stored_slices` gives the frames of a
grid one after the other, reading each file's pixel bytes once and releasing them after use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np
from pydicom.dataset import Dataset

from immunopet.dicom.frames import frame_count
from immunopet.dicom.geometry import Frame, Grid
from immunopet.errors import DicomError

PIXEL_DATA = "PixelData (7FE0,0010)"
#: Largest plausible compression ratio of encapsulated pixel data (RLE cannot exceed 64:1;
#: lossless JPEG 2000 of an almost empty PET slice reaches a few hundred).
MAX_COMPRESSION_RATIO = 2000
#: Environment variable that sets the largest float32 volume (GB) a command may allocate.
MEMORY_ENV = "IMMUNOPET_MAX_VOLUME_GB"


def memory_bound_bytes() -> int:
    """Largest float32 volume allowed: ``$IMMUNOPET_MAX_VOLUME_GB``, else half the physical memory."""
    text = os.environ.get(MEMORY_ENV)
    if text:
        try:
            return int(float(text) * 1e9)
        except ValueError:
            raise DicomError(f"{MEMORY_ENV}={text!r} is not a number", attribute=MEMORY_ENV,
                             fix="set it to the largest volume in GB, e.g. 8") from None
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX systems
        return 8 * 10**9


def _integer(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    """An US/IS attribute as int; ``default`` when absent; ``None`` when unreadable."""
    value = ds.get(keyword)  # one look-up: each costs tens of microseconds, times every slice
    if value in (None, ""):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _layout(ds: Dataset, file: str) -> tuple[int, int]:
    """(BitsAllocated, BitsStored) of an image that can be read as one value per voxel."""
    bits, samples = _integer(ds, "BitsAllocated"), _integer(ds, "SamplesPerPixel", 1)
    if bits not in (8, 16, 32, 64) or samples != 1:
        raise DicomError(f"BitsAllocated {bits} / SamplesPerPixel {samples}: not a one-value-per-voxel "
                         "image of 8, 16, 32 or 64 bits", file=file, attribute="BitsAllocated (0028,0100)",
                         fix="only grey-scale PET/CT images can be read; remove the file")
    stored = _integer(ds, "BitsStored", bits)
    if stored is None or not 1 <= stored <= bits:
        raise DicomError(f"BitsStored {stored} is not between 1 and BitsAllocated {bits}", file=file,
                         attribute="BitsStored (0028,0101)", fix="repair the attribute or remove the file")
    return bits, stored


def check_pixel_budget(grid: Grid) -> None:
    """Refuse, before allocation, pixel data smaller than claimed or a volume beyond the memory bound."""
    ni, nj, nk = grid.shape
    volume_bytes = ni * nj * nk * 4
    bound = memory_bound_bytes()
    if volume_bytes > bound:
        raise DicomError(
            f"the volume would need {volume_bytes / 1e9:.3g} GB as float32 ({ni} x {nj} x {nk}), above the "
            f"bound of {bound / 1e9:.3g} GB", file=grid.frames[0].where, attribute="Rows/Columns (0028,0010/0011)",
            fix=f"check Rows/Columns; to allow it, set {MEMORY_ENV} to a larger value in GB",
        )
    seen: set[int] = set()
    for frame in grid.frames:
        if id(frame.ds) in seen:
            continue
        seen.add(id(frame.ds))
        ds, file = frame.ds, frame.file
        bits, _ = _layout(ds, file)
        claimed = frame_count(ds, file) * frame.rows * frame.columns * bits // 8
        element = ds.get_item("PixelData", keep_deferred=True) if "PixelData" in ds else None
        if element is None:
            raise DicomError("image without pixel data (truncated file?)", file=file, attribute=PIXEL_DATA,
                             fix="copy the file again or remove it from the series")
        length = getattr(element, "length", None)
        undefined = length in (None, 0xFFFFFFFF) or getattr(element, "is_undefined_length", False)
        if undefined and isinstance(element.value, (bytes, bytearray)) and not _encapsulated(ds):
            length, undefined = len(element.value), False
        if not undefined:
            end = getattr(element, "value_tell", None)
            size = _file_size(file)
            if end is not None and size is not None and end + length > size:
                length = max(0, size - end)
            if length < claimed:
                raise DicomError(
                    f"pixel data hold {length} bytes, {claimed} expected from Rows {frame.rows} x Columns "
                    f"{frame.columns} x {frame_count(ds, file)} frame(s) x {bits} bits", file=file,
                    attribute=PIXEL_DATA, fix="the file is truncated or its header is wrong: copy it again or remove it",
                )
        else:
            size = _file_size(file) or 0
            if claimed > MAX_COMPRESSION_RATIO * max(size, 1):
                raise DicomError(
                    f"a {size}-byte file claims {claimed} bytes of pixel data ({frame.rows} x {frame.columns} x "
                    f"{frame_count(ds, file)} frame(s)): a compression ratio above {MAX_COMPRESSION_RATIO}:1",
                    file=file, attribute="Rows/Columns (0028,0010/0011)", fix="the header is wrong; remove the file",
                )


def _encapsulated(ds: Dataset) -> bool:
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    return bool(syntax is not None and syntax.is_compressed)


def _file_size(file: str) -> int | None:
    try:
        return os.path.getsize(file)
    except OSError:
        return None


def _check_bits_stored(data: np.ndarray, stored: int, signed: bool, file: str) -> None:
    """Values outside the BitsStored range would be changed by masking: refuse instead."""
    low, high = (-(1 << (stored - 1)), (1 << (stored - 1)) - 1) if signed else (0, (1 << stored) - 1)
    lowest, highest = int(data.min()), int(data.max())
    if lowest < low or highest > high:
        raise DicomError(
            f"stored values {lowest}..{highest} do not fit BitsStored {stored} ({low}..{high}): masking them "
            "would change the image", file=file, attribute="BitsStored (0028,0101)",
            fix="the header is wrong: set BitsStored to BitsAllocated or re-export the series",
        )


#: The (7FE0,0010) tag as it is written before the value (explicit VR: 12 bytes before it; implicit: 8).
_PIXEL_TAGS = (b"\xe0\x7f\x10\x00", b"\x7f\xe0\x00\x10")


def _pixel_bytes(ds: Dataset, file: str) -> bytes:
    """The uncompressed PixelData value; read from ``file`` in one call while parsing has deferred it.

    The parse recorded where the value starts and how long it is; pydicom's own deferred read
    parses the element again (about 0.2 ms more per file than one read). The PixelData tag must sit
    just before that position (else pydicom reads it, with its own checks: a deflated file, whose
    positions are those of the inflated copy, or one rewritten since); a file cut short since the
    parse gives fewer bytes, which :func:`stored_pixels` refuses.
    """
    element = ds.get_item("PixelData", keep_deferred=True)
    start, length = getattr(element, "value_tell", None), getattr(element, "length", None)
    if getattr(element, "value", b"") is not None or start is None or length in (None, 0xFFFFFFFF) or start < 8:
        return ds.PixelData
    head = max(start - 12, 0)
    with open(file, "rb") as handle:
        handle.seek(head)
        data = handle.read(start - head + length)
    before = data[:start - head]
    if not (before[-12:-8] in _PIXEL_TAGS or before[-8:-4] in _PIXEL_TAGS):
        return ds.PixelData  # the file is not laid out as parsed (inflated copy, or rewritten): pydicom checks
    return data[start - head:]


def stored_pixels(ds: Dataset, file: str) -> np.ndarray:
    """Stored values, shape ``(frames, rows, columns)``; raw bytes when uncompressed."""
    if "PixelData" not in ds:
        raise DicomError("no pixel data", file=file, attribute=PIXEL_DATA, fix="remove the file")
    n = frame_count(ds, file)
    rows, cols = int(ds.Rows), int(ds.Columns)
    bits, stored = _layout(ds, file)
    signed = _integer(ds, "PixelRepresentation", 0) == 1
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    raw_ok = syntax is not None and not syntax.is_compressed
    if raw_ok:
        dtype = np.dtype(f"{'i' if signed else 'u'}{bits // 8}").newbyteorder("<" if syntax.is_little_endian else ">")
        pixel_bytes = _pixel_bytes(ds, file)
        if len(pixel_bytes) < n * rows * cols * dtype.itemsize:
            raise DicomError(
                f"pixel data hold {len(pixel_bytes)} bytes, {n * rows * cols * dtype.itemsize} expected",
                file=file, attribute=PIXEL_DATA, fix="the file is truncated: copy it again",
            )
        data = np.frombuffer(pixel_bytes, dtype=dtype, count=n * rows * cols)
        if stored < bits:
            _check_bits_stored(data, stored, signed, file)
        return data.reshape(n, rows, cols)
    try:
        return np.asarray(ds.pixel_array).reshape(n, rows, cols)
    except Exception as error:  # noqa: BLE001 - decoder problems become a DicomError
        raise DicomError(
            f"cannot decode pixel data: {type(error).__name__}: {error}", file=file, attribute=PIXEL_DATA,
            fix="install the decoder for this transfer syntax (pylibjpeg) or decompress the files",
        ) from error


def stored_slices(frames: Sequence[Frame]) -> Iterator[tuple[Frame, np.ndarray]]:
    """Each frame (in the given order) with its stored values ``(rows, columns)``, pixel bytes read once.

    A single-frame file's PixelData is dropped from its header when the next frame is asked for
    (the header stays: SUV inputs and provenance come from it); a multi-frame file is decoded once,
    its frames kept while they come (one file at a time) and its PixelData dropped at once. A
    yielded array is valid until the next one is asked for, so memory is one file's pixels.
    """
    cached: tuple[int, np.ndarray] | None = None
    for frame in frames:
        if frame.index is None:
            yield frame, stored_pixels(frame.ds, frame.file)[0]
            del frame.ds.PixelData
            continue
        if cached is None or cached[0] != id(frame.ds):
            cached = None  # the previous file's frames go before the next file is decoded
            cached = (id(frame.ds), stored_pixels(frame.ds, frame.file).copy())
            del frame.ds.PixelData
        yield frame, cached[1][frame.index]
