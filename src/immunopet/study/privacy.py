"""What the store keeps of a scan by default: no DICOM UIDs, no calendar dates, no folder paths.

The SUV audit a worker returns holds the header's date-times, the series UID and the absolute path
of the series. By default (``immunopet run`` without ``--include-identifiers``) they are replaced
before anything is stored:

- every key naming a UID (``series_uid``, ``frame_of_reference_uid``, ...) is dropped;
- date-times become hours from the injection (``"injection +0.949 h"``), so uptake times stay
  checkable while the calendar date is gone;
- paths are shown relative to the study folder (``dicom/P01/P01_D7/PT``); a path in an allowed
  outside folder starts with ``<outside folder N>``; dates and UIDs left in free text (error
  messages, reading warnings) are masked as ``<date>`` and ``<UID>``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from immunopet.dicom.privacy import parse_datetime as _parse
from immunopet.dicom.privacy import replace_folder, scrub_text
from immunopet.study.paths import PathPolicy

#: Audit keys holding a date-time (value, or ``{"value": ...}`` entry).
DATETIME_KEYS = ("injection_datetime", "scan_datetime", "reference_datetime", "acquisition_datetime",
                 "series_datetime", "calibration_datetime")
_UID = re.compile(r"\b[0-2](\.(0|[1-9]\d*)){3,}\b")


def _relative_hours(value: Any, injection: datetime | None) -> str:
    moment = _parse(value)
    if moment is None or injection is None:
        return "<date removed>"
    try:
        hours = (moment - injection).total_seconds() / 3600.0
    except TypeError:  # one with a time zone, one without
        return "<date removed>"
    return f"injection {hours:+.3f} h"


class Redactor:
    """Removes identifying detail from stored text and SUV audits (see module docstring)."""

    def __init__(self, policy: PathPolicy) -> None:
        #: (folder, written for paths inside it, written for the folder itself), longest folder first
        self.folders = [(str(policy.root), "", ".")]
        for number, folder in enumerate(policy.allowed or (), start=1):
            self.folders.append((str(folder), f"<outside folder {number}>/", f"<outside folder {number}>"))
        self.folders.sort(key=lambda entry: len(entry[0]), reverse=True)

    def text(self, value: str | None) -> str | None:
        """Free text with study paths made relative and dates and UIDs masked."""
        if value is None:
            return None
        for folder, inside, itself in self.folders:
            value = replace_folder(value, folder, inside=inside, itself=itself)
        return scrub_text(_UID.sub("<UID>", value), [])  # dates as in inspect/convert (DICOM DA/DT too)

    def audit(self, audit: dict[str, Any] | None) -> dict[str, Any] | None:
        """A copy of a scan's SUV audit without UIDs, calendar dates or absolute paths."""
        if audit is None:
            return None
        injection = _parse(((audit.get("inputs") or {}).get("injection_datetime") or {}).get("value"))
        return self._clean(audit, injection)

    def _clean(self, data: Any, injection: datetime | None, key: str = "") -> Any:
        if isinstance(data, dict):
            if key in DATETIME_KEYS and "value" in data:
                return {**{k: self._clean(v, injection) for k, v in data.items() if k != "value"},
                        "value": _relative_hours(data["value"], injection)}
            return {k: self._clean(v, injection, k) for k, v in data.items() if "uid" not in k.lower()}
        if isinstance(data, list):
            return [self._clean(v, injection) for v in data]
        if key in DATETIME_KEYS:
            return _relative_hours(data, injection)
        if isinstance(data, str):
            return self.text(data)
        return data
