"""Blood samples as a kinetic input: hours after injection and whole blood decay corrected to injection."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping

import numpy as np
import pandas as pd

from immunopet.errors import AnalysisError


def injection_times(scans: pd.DataFrame) -> dict[str, dt.datetime]:
    """Per patient the injection date-time recorded in the scans' SUV audits (``immunopet run``)."""
    out: dict[str, dt.datetime] = {}
    column = "suv_audit" if "suv_audit" in scans.columns else "audit"
    for row in scans.itertuples():
        audit = getattr(row, column, None)
        audit = json.loads(audit) if isinstance(audit, str) else (audit or {})
        value = ((audit.get("inputs") or {}).get("injection_datetime") or {}).get("value")
        if value and str(row.patient_id) not in out:
            out[str(row.patient_id)] = dt.datetime.fromisoformat(str(value))
    return out


def samples_input(samples: pd.DataFrame, injections: Mapping[str, dt.datetime], *, decay_per_h: float) -> pd.DataFrame:
    """``patient_id, hours_pi, whole_blood`` (Bq/mL decay corrected to injection) from validated samples.

    Raises
    ------
    AnalysisError
        A patient without an injection time, or a sample at or before the injection.
    """
    rows = []
    for k, row in enumerate(samples.itertuples(), start=2):
        pid = str(row.patient_id)
        if pid not in injections:
            raise AnalysisError(f"blood.csv row {k}: patient {pid!r} has no measured scan with an injection time",
                                file="blood.csv", attribute="patient_id", fix="check the patient id")
        hours = (row.sample_datetime - injections[pid]).total_seconds() / 3600.0
        if not hours > 0:
            raise AnalysisError(f"blood.csv row {k}: sample at {hours:.2f} h, not after the injection",
                                file="blood.csv", attribute="sample_datetime",
                                fix="check the sample date-time against the injection date-time")
        rows.append({"patient_id": pid, "hours_pi": hours,
                     "whole_blood": float(row.whole_blood_bqml) * float(np.exp(decay_per_h * hours))})
    return pd.DataFrame(rows, columns=["patient_id", "hours_pi", "whole_blood"])
