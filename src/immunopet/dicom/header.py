"""Reading DICOM attributes with their source: values, dates, times and private tags.

DICOM dates (DA), times (TM) and date-times (DT) are parsed here into :class:`datetime.datetime`
so elapsed times are always computed from full date-times, never from times of day. A value read
from a header travels as a :class:`Sourced` that names the attribute it came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag


@dataclass(frozen=True)
class Sourced:
    """A value and where it came from (``"PatientWeight (0010,1030)"``, ``"override: --weight"``).

    ``note`` records any interpretation made (unit conversion, assumed date).
    """

    value: Any
    source: str
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        return {"value": value, "source": self.source, "note": self.note}


def label(keyword: str) -> str:
    """``"PatientWeight (0010,1030)"`` for a keyword (the form used in messages and audits)."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        return keyword
    return f"{keyword} ({tag >> 16:04X},{tag & 0xFFFF:04X})"


def value_of(ds: Dataset, keyword: str) -> Any:
    """The attribute's value, or ``None`` when absent or empty."""
    element = ds.get(keyword)
    if element is None or element == "" or (hasattr(element, "__len__") and len(element) == 0):
        return None
    return element


@lru_cache(maxsize=512)
def tag_of(keyword: str) -> BaseTag:
    """The tag of ``keyword``, looked up once (pydicom looks a keyword up on every access)."""
    return Tag(keyword)


def raw_text(ds: Dataset | None, keyword: str) -> str | None:
    """An ASCII-valued attribute (DS, IS, DA, TM, DT, CS) as text, without pydicom's conversion.

    Reading the raw bytes is several times faster than building DSfloat/DA objects, which matters
    when tens of thousands of slices are scanned. ``None`` when absent or empty.
    """
    if ds is None:
        return None
    element = ds.get_item(tag_of(keyword))
    if element is None:
        return None
    value = element.value
    if isinstance(value, (bytes, bytearray)):
        text = value.decode("ascii", errors="replace").strip("\x00 ")
    elif value is None:
        return None
    elif isinstance(value, str) or not hasattr(value, "__iter__"):
        text = str(value).strip()
    else:
        text = "\\".join(str(v) for v in value)
    return text or None


def floats_of(ds: Dataset | None, keyword: str) -> list[float] | None:
    """A (multi-valued) numeric attribute as floats; ``None`` if absent, empty or not numeric."""
    text = raw_text(ds, keyword)
    if text is None:
        return None
    try:
        return [float(v) for v in text.split("\\")]
    except ValueError:
        return None


def float_of(ds: Dataset | None, keyword: str) -> float | None:
    """First value of a numeric attribute as float, or ``None``."""
    values = floats_of(ds, keyword)
    return values[0] if values else None


# ----- dates and times -------------------------------------------------------------------------
_TM = re.compile(r"^(\d{2})(\d{2})?(\d{2})?(?:\.(\d{1,6}))?$")
_DT = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?$")


def parse_da(text: Any) -> date | None:
    """DICOM DA ``YYYYMMDD`` (also the old ``YYYY.MM.DD``) -> date, ``None`` if empty/invalid."""
    if text is None:
        return None
    s = str(text).strip().replace(".", "").replace("-", "")
    if not re.fullmatch(r"\d{8}", s):
        return None
    try:
        return date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except ValueError:
        return None


def parse_tm(text: Any) -> time | None:
    """DICOM TM ``HH[MM[SS[.FFFFFF]]]`` (also old ``HH:MM:SS``) -> time, ``None`` if invalid."""
    if text is None:
        return None
    s = str(text).strip().replace(":", "")
    match = _TM.match(s)
    if not match:
        return None
    hh, mm, ss, frac = match.groups()
    try:
        micro = int((frac or "0").ljust(6, "0"))
        return time(int(hh), int(mm or 0), min(int(ss or 0), 59), micro)
    except ValueError:
        return None


def parse_dt(text: Any) -> datetime | None:
    """DICOM DT ``YYYYMMDDHHMMSS.FFFFFF&ZZXX`` -> naive datetime (local time of the site).

    A UTC offset, when present, is dropped: every date-time in a series is compared with others
    written by the same site, which are local times too.
    """
    if text is None:
        return None
    match = _DT.match(str(text).strip())
    if not match:
        return None
    year, month, day, hh, mm, ss, frac, _offset = match.groups()
    try:
        return datetime(
            int(year), int(month or 1), int(day or 1), int(hh or 0), int(mm or 0),
            min(int(ss or 0), 59), int((frac or "0").ljust(6, "0")),
        )
    except ValueError:
        return None


def combine(day: date | None, clock: time | None) -> datetime | None:
    """A full date-time from a DA and a TM (``None`` if either is missing)."""
    if day is None or clock is None:
        return None
    return datetime.combine(day, clock)


def date_time_of(ds: Dataset, prefix: str) -> datetime | None:
    """``{prefix}DateTime`` if present, else ``{prefix}Date`` + ``{prefix}Time`` (e.g. Acquisition)."""
    full = parse_dt(raw_text(ds, f"{prefix}DateTime")) if tag_for_keyword(f"{prefix}DateTime") else None
    if full is not None:
        return full
    return combine(parse_da(raw_text(ds, f"{prefix}Date")), parse_tm(raw_text(ds, f"{prefix}Time")))


def latest_before(clock: time, moment: datetime) -> datetime:
    """The last date-time at or before ``moment`` whose time of day is ``clock``.

    Places a time-only injection (RadiopharmaceuticalStartTime) on the scan day, or on the day
    before when the time of day is later than the scan start (midnight crossing).
    """
    candidate = datetime.combine(moment.date(), clock)
    return candidate - timedelta(days=1) if candidate > moment else candidate


def seconds_between(start: datetime, end: datetime) -> float:
    """Elapsed seconds from ``start`` to ``end`` (negative when ``end`` is earlier)."""
    return (end - start) / timedelta(seconds=1)


# ----- private tags ------------------------------------------------------------------------------
def _as_value(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace").strip("\x00 ")
    if value is None or value == "":
        return None
    return value


def _has_creator(ds: Dataset, group: int) -> bool:
    """Whether any private creator (gggg,0010-00FF) is present in ``group``."""
    return any((group << 16 | block) in ds for block in range(0x10, 0x100))


def private_lookup(ds: Dataset, group: int, creator: str, element: int) -> tuple[Any, str]:
    """Value of private attribute ``(group, xx<element>)`` of ``creator`` and how it was found.

    The block reserved by ``creator`` is used when present. When the group holds no private creator
    at all (anonymisers and some exports drop it), the attribute is read at the fixed tag
    ``(group, 10<element>)`` the vendor's conformance statement gives; the second value then says
    so (callers warn), else it is ``""``. ``(None, "")`` when absent or empty; bytes (VR UN) are
    decoded as ASCII text.
    """
    try:
        block = ds.private_block(group, creator)
        return _as_value(block[element].value), ""
    except (KeyError, ValueError):
        pass
    tag = group << 16 | 0x1000 | element
    if _has_creator(ds, group) or tag not in ds:
        return None, ""
    found = _as_value(ds[tag].value)
    if found is None:
        return None, ""
    return found, (f"({group:04X},{0x1000 | element:04X}) read without its private creator "
                   f"({group:04X},0010) {creator!r}, which is missing")


def private_value(ds: Dataset, group: int, creator: str, element: int) -> Any:
    """Value of a private attribute (see :func:`private_lookup`), or ``None``."""
    return private_lookup(ds, group, creator, element)[0]


def private_float(ds: Dataset, group: int, creator: str, element: int) -> float | None:
    value = private_value(ds, group, creator, element)
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


#: Private tags used for SUV (creators as in the vendors' conformance statements).
GE_CREATOR = "GEMS_PETD_01"
GE_SCAN_DATETIME = (0x0009, GE_CREATOR, 0x0D)  # (0009,100D) PET scan_datetime
GE_ADMIN_DATETIME = (0x0009, GE_CREATOR, 0x3B)  # (0009,103B) administration datetime
PHILIPS_CREATOR = "Philips PET Private Group"
PHILIPS_SUV_SCALE = (0x7053, PHILIPS_CREATOR, 0x00)  # (7053,1000) SUV Scale Factor
PHILIPS_ACTIVITY_SCALE = (0x7053, PHILIPS_CREATOR, 0x09)  # (7053,1009) Activity Concentration Scale Factor
