"""The plan init makes: study entries (patient x injection), scans, and a decision for every series."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from immunopet.intake.headers import SeriesHeader


@dataclass
class Scan:
    """One quantified scan: the chosen PET, its CT and its nominal day."""

    scan_id: str
    patient_id: str
    day: float
    hours_pi: float
    pet: SeriesHeader
    ct: SeriesHeader | None = None


@dataclass
class Entry:
    """One study patient: a DICOM patient and one injection (a second injection is a second entry)."""

    patient_id: str
    dicom_patient_id: str
    injection: datetime
    injection_number: int
    headers: list[SeriesHeader] = field(default_factory=list)


@dataclass
class Decision:
    """What init did with one series: ``role`` is ``pet``, ``ct``, ``voi`` or ``left out``."""

    header: SeriesHeader
    role: str
    patient_id: str = ""
    scan_id: str = ""
    reason: str = ""


@dataclass
class Plan:
    """Everything init decided; ``vois`` are ``vois.csv`` rows, ``warnings`` sentences for the user."""

    scans: list[Scan]
    entries: list[Entry]
    decisions: list[Decision]
    vois: list[dict]
    warnings: list[str]
