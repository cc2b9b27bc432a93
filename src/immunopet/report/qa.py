"""Quality-assurance findings of a study run, as tables for the report.

What is checked (documented in ``docs/report.md``):

- failed scans and failed VOIs, with the reason recorded by the run;
- SUV inputs that came from an override instead of the DICOM header (value used, header value);
- SUV inputs missing from the header, and warnings raised while reading them;
- uptake times far from the nominal scan day: ``|hours_pi - 24 * day| > tolerance`` with
  ``tolerance = min(12 h, max(1 h, 10 % of 24 * day))`` (so 12 h on day 7, 4.8 h on day 2,
  1 h for the ~1 h scan).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

MAX_TOLERANCE_H = 12.0
RELATIVE_TOLERANCE = 0.10
MIN_TOLERANCE_H = 1.0
#: Audit keys holding the header values that overrides replaced.
REPLACED_KEYS = ("replaced", "overrides")


def uptake_tolerance_h(day: float | np.ndarray) -> np.ndarray:
    """Allowed deviation (h) of the uptake time from the nominal ``day``."""
    nominal = 24.0 * np.asarray(day, dtype=float)
    return np.minimum(MAX_TOLERANCE_H, np.maximum(MIN_TOLERANCE_H, RELATIVE_TOLERANCE * nominal))


def timing_deviations(scans: pd.DataFrame) -> pd.DataFrame:
    """Scans whose ``hours_pi`` is further from ``24 * day`` than :func:`uptake_tolerance_h`."""
    data = scans.dropna(subset=["hours_pi", "day"]).drop_duplicates("scan_id")
    deviation = data["hours_pi"] - 24.0 * data["day"]
    tolerance = uptake_tolerance_h(data["day"].to_numpy())
    out = data.assign(nominal_h=24.0 * data["day"], deviation_h=deviation, tolerance_h=tolerance)
    out = out[np.abs(out["deviation_h"]) > out["tolerance_h"]]
    return out[["scan_id", "patient_id", "day", "nominal_h", "hours_pi", "deviation_h", "tolerance_h"]]


def _as_mapping(audit: Any) -> Mapping[str, Any]:
    if isinstance(audit, Mapping):
        return audit
    if isinstance(audit, str) and audit.strip():
        try:
            loaded = json.loads(audit)
        except json.JSONDecodeError:
            return {}
        return loaded if isinstance(loaded, Mapping) else {}
    return {}


def _sourced_items(audit: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every ``{"value", "source"}`` entry of an audit (at any depth), with its key."""
    for key, item in audit.items():
        if key in REPLACED_KEYS or key == "suv_factors" or not isinstance(item, Mapping):
            continue
        if "source" in item and "value" in item:
            yield key, item
        else:
            yield from _sourced_items(item)


def _warnings(audit: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for key, item in audit.items():
        if key == "warnings" and isinstance(item, list):
            found.extend(str(w) for w in item)
        elif isinstance(item, Mapping):
            found.extend(_warnings(item))
    return found


def _replaced(audit: Mapping[str, Any]) -> Mapping[str, Any]:
    for key, item in audit.items():
        if key in REPLACED_KEYS and isinstance(item, Mapping):
            return item
        if isinstance(item, Mapping):
            nested = _replaced(item)
            if nested:
                return nested
    return {}


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        value = value.get("value")
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def same_value(used: Any, header: Any, *, rel_tol: float = 1e-6) -> bool:
    """Whether an override gave the header's value (numbers compared to ``rel_tol``, e.g. a height
    given in cm against the header's metres, 155.2 vs 1.552 * 100 = 155.20000000000002)."""
    used = used.get("value") if isinstance(used, Mapping) else used
    header = header.get("value") if isinstance(header, Mapping) else header
    if header is None:
        return False
    try:
        return math.isclose(float(used), float(header), rel_tol=rel_tol)
    except (TypeError, ValueError):
        return str(used).strip().upper() == str(header).strip().upper()


def audit_findings(scans: pd.DataFrame, *, audit_column: str = "audit") -> dict[str, pd.DataFrame]:
    """Overrides, missing inputs and reading warnings from each scan's SUV audit.

    Returns
    -------
    dict
        ``"overrides"`` (scan_id, input, value used, header value, source, changed), ``"missing"``
        (scan_id, input, source, note) and ``"warnings"`` (scan_id, warning) tables.
    """
    overrides, missing, warnings = [], [], []
    if audit_column in scans.columns:
        for scan_id, raw in zip(scans["scan_id"], scans[audit_column], strict=True):
            audit = _as_mapping(raw)
            replaced = _replaced(audit)
            for name, item in _sourced_items(audit):
                source = str(item.get("source", ""))
                if source.startswith("override"):
                    header = replaced.get(name)
                    overrides.append({"scan_id": scan_id, "input": name, "value": _show(item),
                                      "header value": _show(header) or "absent", "source": source,
                                      "changed": not same_value(item, header)})
                elif item.get("value") is None:
                    missing.append({"scan_id": scan_id, "input": name, "source": source,
                                    "note": str(item.get("note", ""))})
            warnings.extend({"scan_id": scan_id, "warning": w} for w in _warnings(audit))
    return {
        "overrides": pd.DataFrame(overrides, columns=["scan_id", "input", "value", "header value", "source", "changed"]),
        "missing": pd.DataFrame(missing, columns=["scan_id", "input", "source", "note"]),
        "warnings": pd.DataFrame(warnings, columns=["scan_id", "warning"]),
    }


@dataclass
class QAFindings:
    """All QA tables of a study run."""

    failed_scans: pd.DataFrame
    failed_vois: pd.DataFrame
    overrides: pd.DataFrame
    missing: pd.DataFrame
    warnings: pd.DataFrame
    timing: pd.DataFrame
    n_scans: int = 0
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def changed_overrides(self) -> pd.DataFrame:
        """Overrides whose value differs from the header's (or where the header had none)."""
        if self.overrides.empty:
            return self.overrides
        return self.overrides[self.overrides["changed"].astype(bool)]

    @property
    def n_problems(self) -> int:
        return len(self.failed_scans) + len(self.failed_vois)

    @property
    def n_notes(self) -> int:
        return len(self.changed_overrides) + len(self.missing) + len(self.warnings) + len(self.timing)


def qa_findings(scans: pd.DataFrame, *, failed_vois: pd.DataFrame | None = None,
                status_column: str = "status", ok_status: tuple[str, ...] = ("ok", "done", "cached"),
                audit_column: str = "audit") -> QAFindings:
    """Collect the QA tables from the run's scans table (and its failed VOIs, if recorded).

    Parameters
    ----------
    scans
        One row per scan: ``scan_id``, ``patient_id``, ``day``, ``hours_pi``, ``status``,
        ``error`` and the SUV ``audit`` (a dict or its JSON text).
    failed_vois
        Rows of VOIs that could not be measured (``scan_id``, ``voi_id``, ``error``), if any.
    """
    status = scans[status_column].astype(str).str.lower() if status_column in scans.columns else None
    failed = scans[~status.isin(ok_status)] if status is not None else scans.iloc[0:0]
    keep = [c for c in ("scan_id", "patient_id", "day", status_column, "error") if c in scans.columns]
    audits = audit_findings(scans, audit_column=audit_column)
    timing = timing_deviations(scans) if {"hours_pi", "day"} <= set(scans.columns) else pd.DataFrame()
    return QAFindings(
        failed_scans=failed[keep].reset_index(drop=True),
        failed_vois=(failed_vois if failed_vois is not None else pd.DataFrame(columns=["scan_id", "voi_id", "error"])),
        overrides=audits["overrides"],
        missing=audits["missing"],
        warnings=audits["warnings"],
        timing=timing.reset_index(drop=True),
        n_scans=int(scans["scan_id"].nunique()) if "scan_id" in scans.columns else 0,
    )
