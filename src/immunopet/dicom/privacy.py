"""What the machine-readable outputs of ``inspect --json`` and ``convert`` may say about a patient.

By default they hold no DICOM UIDs, no calendar dates or date-times and no absolute paths: UIDs
are removed, every date-time input is given as hours after the injection, other dates are removed,
and the folder the user named is written ``<input>``. ``--include-identifiers``
(``include_identifiers=True``) keeps everything as read.
"""

from __future__ import annotations

import os
import re
from datetime import datetime
from typing import Any

#: Keys whose values are DICOM UIDs (removed).
UID_KEYS = frozenset({"series_uid", "study_uid", "frame_of_reference_uid", "sop_instance_uid"})
#: Keys whose values are calendar dates or date-times without an injection to refer to (removed).
DATE_KEYS = frozenset({"study_date", "series_datetime"})
#: ISO 8601 / DICOM DA-DT-like dates inside free text.
_DATE_TEXT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:?\d{2}(?::?\d{2}(?:\.\d+)?)?)?|\b(?:19|20)\d{6}(?:\d{4,6}(?:\.\d+)?)?\b")
PLACEHOLDER = "<input>"


def parse_datetime(value: Any) -> datetime | None:
    """A ``datetime`` from a datetime or ISO 8601 text; None for anything else."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def hours_after_injection(inputs: dict[str, Any]) -> dict[str, Any]:
    """A copy of an ``SuvInputs.as_dict()`` whose date-time values are hours after the injection."""
    injection = parse_datetime((inputs.get("injection_datetime") or {}).get("value"))
    out: dict[str, Any] = {}
    for name, item in inputs.items():
        moment = parse_datetime(item.get("value")) if isinstance(item, dict) else None
        if moment is None:
            out[name] = item
            continue
        out[name] = dict(item, value=_hours_after(injection, moment), unit="hours after injection")
    return out


#: a folder name only where a whole path component ends: before "/", the end, a character that cannot
#: be part of a file name in text (space, quote, comma...) or a sentence's full stop
_FOLDER_END = r"(?=/|$|[^\w.\-]|\.(?![\w.\-]))"


def replace_folder(text: str, folder: str, *, inside: str, itself: str) -> str:
    """``text`` with paths under ``folder`` starting ``inside`` and ``folder`` itself written ``itself``.

    Only whole path components match: ``/data/study`` is not found in ``/data/study-old`` or
    ``/mnt/data/study``, so a neighbouring folder's name is never cut in two.
    """
    folder = folder.rstrip("/")
    if not folder:
        return text
    start = r"(?<![\w.\-])" + re.escape(folder)
    text = re.sub(start + "/", lambda _: inside, text)
    return re.sub(start + _FOLDER_END, lambda _: itself, text)


def scrub_text(text: str, roots: list[str]) -> str:
    """``text`` with the named folders written ``<input>`` and dates removed."""
    for root in sorted(roots, key=len, reverse=True):
        if root:
            text = replace_folder(text, root, inside=PLACEHOLDER + "/", itself=PLACEHOLDER)
    return _DATE_TEXT.sub("<date>", text)


def input_roots(source: Any) -> list[str]:
    """The spellings of the folder the user named (as given, absolute, links resolved) for :func:`redact`."""
    if not source:
        return []
    text = str(source)
    return [text, os.path.abspath(text), os.path.realpath(text)]


def redact(payload: Any, roots: list[str]) -> Any:
    """``payload`` (JSON-able) without UIDs, calendar dates or the absolute folders ``roots``; NaN and
    infinite numbers become None, so the result is strict JSON."""
    if isinstance(payload, dict):
        out: dict[str, Any] = {}
        for key, value in payload.items():
            if key in UID_KEYS or key in DATE_KEYS:
                continue
            if key == "inputs" and isinstance(value, dict):
                value = hours_after_injection(value)
            elif key == "reference_datetime":
                key, value = "reference_hours_after_injection", _reference_hours(payload)
            out[key] = redact(value, roots)
        return out
    if isinstance(payload, (list, tuple)):
        return [redact(v, roots) for v in payload]
    if isinstance(payload, datetime):
        return None
    if isinstance(payload, str):
        return scrub_text(payload, roots)
    from immunopet.jsonable import jsonable

    return jsonable(payload)  # strict JSON: NaN and infinities as null


def _reference_hours(audit: dict[str, Any]) -> float | None:
    reference = parse_datetime(audit.get("reference_datetime"))
    injection = parse_datetime(((audit.get("inputs") or {}).get("injection_datetime") or {}).get("value"))
    return _hours_after(injection, reference)


def _hours_after(injection: datetime | None, moment: datetime | None) -> float | None:
    if injection is None or moment is None:
        return None
    return round((moment - injection).total_seconds() / 3600.0, 6)
