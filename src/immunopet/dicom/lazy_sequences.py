"""Header parsing that leaves sequences unparsed until they are read.

pydicom parses every undefined-length sequence of a file in full while reading the header (it has
to, to find where the sequence ends), even with ``specific_tags``; a defined-length sequence it
keeps as raw bytes, parsed when first accessed. Scanners write most sequences with undefined length:
the icon image, de-identification codes, energy windows, patient orientation codes... On a 400-slice
PET series that is more than half of the parse time and most of the headers' memory, for attributes
that nothing reads.

:func:`read_lazily` reads a small file into memory, finds the extent of each top-level
undefined-length sequence by a walk over element headers (no value is decoded), writes that extent
into the sequence's length field of the in-memory copy and hands the copy to pydicom. Every attribute
stays in the dataset and parses on first access to the same value: this is not a tag filter. The file
is never changed; since no byte moves, the offsets of deferred values (pixel data) still point into
it, and deferred values are read from it as from a dataset read by path.

The walk follows pydicom's reading rules and leaves the rest of the file as it is (parsed as read)
at anything it does not follow exactly: a transfer syntax other than implicit or explicit VR little
endian, a data set or item whose VR encoding differs from the transfer syntax's, an unknown VR, an
undefined-length value that is not a sequence, a defined-length item whose elements do not end at
its end, a file that ends inside a sequence, nesting deeper than :data:`MAX_DEPTH`. After parsing,
pydicom must have found each rewritten sequence where the walk did, or the file is parsed again
unchanged. A damaged file is therefore parsed, and refused, as before.
"""

from __future__ import annotations

import io
import os
import struct

import pydicom
from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32, VR

#: Files up to this size are read into memory whole; a larger one (enhanced multi-frame) is parsed
#: from the file by pydicom as before, so its pixel data are never held twice.
WHOLE_FILE_BYTES = 16 * 2**20
#: Sequences nested deeper than this are left to pydicom.
MAX_DEPTH = 16

_UNDEFINED = 0xFFFFFFFF
_ITEM, _ITEM_END, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_IMPLICIT_LE = "1.2.840.10008.1.2"
_KNOWN_VR = frozenset(v.value.encode() for v in VR if len(v.value) == 2)
_LONG_VR = frozenset(str(v).encode() for v in EXPLICIT_VR_LENGTH_32)
_EXPLICIT = struct.Struct("<HH2sH")
_IMPLICIT = struct.Struct("<HHL")
_LENGTH = struct.Struct("<L")
_TAG = struct.Struct("<HH")


def _looks_implicit(buffer: bytearray, pos: int) -> bool:
    """pydicom's test of a data set's first element: a VR is two capital letters."""
    return not (0x40 < buffer[pos + 4] < 0x5B and 0x40 < buffer[pos + 5] < 0x5B)


def _element(buffer: bytearray, pos: int, end: int, implicit: bool) -> tuple[int, bytes | None, int, int] | None:
    """(tag, VR or None if implicit, length, value position) of the element at ``pos``; None if not followed."""
    if pos + 8 > end:
        return None
    if implicit:
        group, element, length = _IMPLICIT.unpack_from(buffer, pos)
        return group << 16 | element, None, length, pos + 8
    group, element, vr, length = _EXPLICIT.unpack_from(buffer, pos)
    if vr not in _KNOWN_VR:
        return None
    if vr in _LONG_VR:
        if pos + 12 > end:
            return None
        return group << 16 | element, vr, _LENGTH.unpack_from(buffer, pos + 8)[0], pos + 12
    return group << 16 | element, vr, length, pos + 8


def _skip_defined(buffer: bytearray, pos: int, end: int) -> int:
    """Position of the first explicit-VR element from ``pos`` on that is not of known VR and defined length.

    The walk's common case, in one tight loop: each element skipped here is one :func:`_element`
    would read with the same result; everything else is left to the general step.
    """
    unpack, length_of, known, long_vr = _EXPLICIT.unpack_from, _LENGTH.unpack_from, _KNOWN_VR, _LONG_VR
    while pos + 12 <= end:
        _, _, vr, length = unpack(buffer, pos)
        if vr not in known:
            return pos
        if vr in long_vr:
            length = length_of(buffer, pos + 8)[0]
            if length == _UNDEFINED:
                return pos
            after = pos + 12 + length
        else:
            after = pos + 8 + length
        if after > end:
            return pos
        pos = after
    return pos


def _public_vr(tag: int) -> str | None:
    """The dictionary VR pydicom gives an implicit-VR element (public groups only), None if unknown."""
    if (tag >> 16) % 2:
        return None
    try:
        return dictionary_VR(tag)
    except KeyError:
        return None


def _is_sequence(buffer: bytearray, tag: int, vr: bytes | None, value: int) -> bool:
    """Whether pydicom reads this undefined-length element as a sequence (else the walk stops)."""
    if vr is not None:
        return vr == b"SQ"  # UN of undefined length is an implicit-VR sequence to pydicom: not followed
    known = _public_vr(tag)
    if known is not None:
        return known == "SQ"
    return value + 4 <= len(buffer) and _TAG.unpack_from(buffer, value) == (0xFFFE, 0xE000)


def _item_end(buffer: bytearray, pos: int, limit: int | None, implicit: bool, depth: int) -> int | None:
    """End of the item data set at ``pos``: ``limit`` (defined length) or after its delimiter."""
    end = len(buffer) if limit is None else limit
    first = True
    while True:
        if not (first or implicit):
            pos = _skip_defined(buffer, pos, end)
        if pos == limit:
            return pos
        if pos + 8 > end:
            return None
        group, element = _TAG.unpack_from(buffer, pos)
        if group << 16 | element == _ITEM_END:
            return pos + 8 if limit is None else None
        if first and not implicit and _looks_implicit(buffer, pos):
            return None  # an implicit-VR item in an explicit-VR file: pydicom switches, the walk does not
        first = False
        header = _element(buffer, pos, end, implicit)
        if header is None:
            return None
        tag, vr, length, value = header
        if length != _UNDEFINED:
            pos = value + length
        elif _is_sequence(buffer, tag, vr, value):
            after = _sequence_end(buffer, value, implicit, depth + 1)
            if after is None:
                return None
            pos = after
        else:
            return None
        if pos > end:
            return None


def _sequence_end(buffer: bytearray, pos: int, implicit: bool, depth: int = 0) -> int | None:
    """Position after the delimiter of the undefined-length sequence whose value starts at ``pos``."""
    if depth > MAX_DEPTH:
        return None
    size = len(buffer)
    while True:
        if pos + 8 > size:
            return None
        group, element, length = _IMPLICIT.unpack_from(buffer, pos)
        tag = group << 16 | element
        if tag == _SEQUENCE_END:
            return pos + 8
        if tag != _ITEM:
            return None
        limit = None if length == _UNDEFINED else pos + 8 + length
        if limit is not None and limit > size:
            return None
        after = _item_end(buffer, pos + 8, limit, implicit, depth)
        if after is None:
            return None
        pos = after


def _data_set_start(buffer: bytearray) -> tuple[int, bool] | None:
    """(start of the data set after the file meta, implicit VR?) for the little-endian syntaxes followed."""
    size = len(buffer)
    if size < 140 or buffer[128:132] != b"DICM" or _looks_implicit(buffer, 132):
        return None
    pos, syntax = 132, None
    while pos + 8 <= size and _TAG.unpack_from(buffer, pos)[0] == 2:
        header = _element(buffer, pos, size, False)
        if header is None or header[2] == _UNDEFINED:
            return None
        tag, _, length, value = header
        if tag == 0x00020010:
            syntax = bytes(buffer[value:value + length]).rstrip(b"\0 ").decode("ascii", "replace")
        pos = value + length
    if syntax is None or pos + 8 > size:
        return None
    uid = UID(syntax)
    if not uid.is_transfer_syntax or not uid.is_little_endian or uid.is_deflated:
        return None
    implicit = syntax == _IMPLICIT_LE
    if uid.is_implicit_VR != implicit or _looks_implicit(buffer, pos) != implicit:
        return None  # pydicom would switch the encoding it reads with: leave the file to it
    return pos, implicit


def define_sequence_lengths(buffer: bytearray) -> list[tuple[int, int, int]]:
    """Write the length of each top-level undefined-length sequence into ``buffer``.

    Returns ``(tag, value position, length)`` of each sequence rewritten. The walk stops at the first
    element it does not follow; sequences before it are rewritten, the rest is left as it is.
    Implicit-VR sequences are rewritten only if public (pydicom knows a defined-length one is a
    sequence from the dictionary alone).
    """
    start = _data_set_start(buffer)
    if start is None:
        return []
    pos, implicit = start
    size, rewritten = len(buffer), []
    while pos + 8 <= size:
        if not implicit:
            pos = _skip_defined(buffer, pos, size)
        header = _element(buffer, pos, size, implicit)
        if header is None:
            break
        tag, vr, length, value = header
        if tag == _ITEM_END:
            break
        if length != _UNDEFINED:
            pos = value + length
            continue
        if not _is_sequence(buffer, tag, vr, value):
            break
        after = _sequence_end(buffer, value, implicit)
        if after is None:
            break
        if not implicit or _public_vr(tag) == "SQ":
            _LENGTH.pack_into(buffer, value - 4, after - value)
            rewritten.append((tag, value, after - value))
        pos = after
    return rewritten


class _NamedBytes(io.BytesIO):
    """An in-memory file carrying the file's name (pydicom's messages, ``Dataset.filename``)."""

    name: str


def _parse(data: bytes | bytearray, file: str, defer_size: int) -> Dataset:
    source = _NamedBytes(data)
    source.name = file
    ds = pydicom.dcmread(source, defer_size=defer_size)
    ds.buffer, ds.fileobj_type = None, open  # deferred values are read from the file, by name
    return ds


def read_lazily(file: str, *, defer_size: int) -> Dataset:
    """``pydicom.dcmread(file, defer_size=defer_size)``, with top-level sequences parsed on access.

    A rewritten sequence longer than ``defer_size`` keeps its bytes in the dataset: read again from
    the file, where its length is undefined, pydicom would return a parsed element where it expects
    raw bytes.
    """
    if os.path.getsize(file) > WHOLE_FILE_BYTES:
        return pydicom.dcmread(file, defer_size=defer_size)
    with open(file, "rb") as handle:
        original = handle.read()
    buffer = bytearray(original)
    rewritten = define_sequence_lengths(buffer)
    if not rewritten:
        ds = _parse(original, file, defer_size)
        if ds.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            # parsed from an inflated copy: deferred positions are not the file's, let pydicom read it
            return pydicom.dcmread(file, defer_size=defer_size)
        return ds
    ds = _parse(buffer, file, defer_size)
    for tag, value, length in rewritten:
        element = ds.get_item(BaseTag(tag), keep_deferred=True)
        if getattr(element, "value_tell", None) != value or getattr(element, "length", None) != length:
            return _parse(original, file, defer_size)  # pydicom read the file otherwise than the walk
        if element.value is None:  # deferred
            ds[tag] = element._replace(value=bytes(buffer[value:value + length]))
    return ds
