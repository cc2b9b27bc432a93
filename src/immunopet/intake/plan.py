"""From series headers to a study plan: patients, injections, scans, PET/CT pairs, VOIs, left-outs.

Pure: :func:`build_plan` takes :class:`~immunopet.intake.headers.SeriesHeader` objects and returns a
:class:`Plan`; nothing is read or written here (see :mod:`immunopet.intake.writer`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from immunopet.intake import rules
from immunopet.intake.annotations import voi_rows
from immunopet.intake.headers import SeriesHeader
from immunopet.intake.model import Decision, Entry, Plan, Scan
from immunopet.intake.schedule import DEFAULT_TOLERANCE_DAYS, day_label, snap_day
from immunopet.nuclides import Nuclide

#: PET series whose injection date-times differ by less than this are one injection.
SAME_INJECTION = timedelta(hours=12)
#: PET acquisitions starting within this of the first one of a session are one scan session.
SESSION = timedelta(hours=3)
#: A CT in another frame of reference pairs when it started within this of the PET.
CT_WINDOW = timedelta(minutes=30)
#: Clock differences between the injection room and the scanner tolerated before "before injection".
CLOCK_SLACK = timedelta(minutes=5)


def _mode(values: Sequence[object]) -> object | None:
    present = [v for v in values if v not in (None, "")]
    return Counter(present).most_common(1)[0][0] if present else None


def _clusters(times: list[datetime]) -> list[datetime]:
    """One representative (the most frequent value, else the earliest) per cluster of injection times."""
    groups: list[list[datetime]] = []
    for moment in sorted(times):
        if groups and moment - groups[-1][0] < SAME_INJECTION:
            groups[-1].append(moment)
        else:
            groups.append([moment])
    return [Counter(g).most_common(1)[0][0] if len(set(g)) < len(g) else g[0] for g in groups]


def identity_warnings(headers: Sequence[SeriesHeader], names: Mapping[str, str] | None = None) -> list[str]:
    """PatientName/BirthDate clashes: one PatientID with several, or one name+birth date with several IDs.

    Patients are named by their pseudonyms (``names``: DICOM PatientID -> study patient ids), so the
    printed summary carries no identifier; identifiers.csv has the mapping.
    """
    names = names or {}

    def who(pid: str) -> str:
        return names.get(pid) or "a patient with no quantified scan"

    warnings = []
    people: dict[str, set[tuple[str, str]]] = defaultdict(set)
    ids: dict[tuple[str, str], set[str]] = defaultdict(set)
    for h in headers:
        pid = h.info.patient_id or ""
        person = (h.patient_name, h.birth_date)
        if any(person):
            people[pid].add(person)
        if all(person):
            ids[person].add(pid)
    for pid, persons in people.items():
        if len(persons) > 1:
            warnings.append(f"{who(pid)}: one PatientID with {len(persons)} different PatientName/PatientBirthDate "
                            "values: two people may share an ID (kept as one patient; check identifiers.csv)")
    for person, pids in ids.items():
        if len(pids) > 1:
            warnings.append(f"{len(pids)} PatientIDs ({', '.join(sorted(who(p) for p in pids))}) share one "
                            "PatientName and PatientBirthDate: one person may have several IDs (kept apart; "
                            "merge by hand if so; identifiers.csv has the IDs)")
    return warnings


def _pseudonyms(keys: list[tuple[str, datetime]], known: Mapping[tuple[str, str], str]) -> dict[tuple[str, datetime], str]:
    """``P01, P02, ...`` per DICOM patient (by first injection); later injections ``P01i2``, ...

    ``known`` maps ``(dicom_patient_id, injection ISO)`` to the pseudonym an earlier run gave, which
    is kept, so re-running init never renumbers patients.
    """
    names: dict[tuple[str, datetime], str] = {}
    base: dict[str, str] = {}
    for (pid, moment), name in ((k, known.get((k[0], k[1].isoformat()))) for k in keys):
        if name:
            names[(pid, moment)] = name
            base.setdefault(pid, name.split("i")[0])
    numbers = [int(n[1:].split("i")[0]) for n in known.values() if n[1:].split("i")[0].isdigit()]
    width = max(2, len(str(len(keys) + len(known))))
    count = max(numbers, default=0)
    seen: Counter[str] = Counter(n.split("i")[0] for n in names.values())
    for pid, moment in sorted(keys, key=lambda k: (k[1], k[0])):
        if (pid, moment) in names:
            continue
        if pid not in base:
            count += 1
            base[pid] = f"P{count:0{width}d}"
        seen[base[pid]] += 1
        names[(pid, moment)] = base[pid] if seen[base[pid]] == 1 else f"{base[pid]}i{seen[base[pid]]}"
    return names


def build_plan(headers: Sequence[SeriesHeader], *, nuclide: Nuclide, days: Sequence[float],
               tolerance: float = DEFAULT_TOLERANCE_DAYS, preference: str | None = None,
               known: Mapping[tuple[str, str], str] | None = None) -> Plan:
    """Decide every series (see docs/init.md for the rules and their order)."""
    decisions: dict[str, Decision] = {}

    def leave(h: SeriesHeader, reason: str, patient_id: str = "", scan_id: str = "") -> None:
        decisions[h.uid] = Decision(h, "left out", patient_id, scan_id, reason)

    pets, cts, notes = [], [], []
    for h in headers:
        modality = h.info.modality
        if modality == "PT":
            reason = rules.pet_reason(h, nuclide)
            leave(h, reason) if reason else pets.append(h)
        elif modality == "CT":
            reason = rules.ct_reason(h)
            leave(h, reason) if reason else cts.append(h)
        elif modality in ("RTSTRUCT", "SEG"):
            notes.append(h)
        else:
            reason = rules.common_reason(h)
            leave(h, reason or f"{rules.OTHER}: Modality {modality}")
    # injections per DICOM patient -> study entries
    by_patient: dict[str, list[SeriesHeader]] = defaultdict(list)
    for h in pets:
        by_patient[h.info.patient_id or ""].append(h)
    keys, members = [], defaultdict(list)
    for pid, group in by_patient.items():
        injections = _clusters([h.injection for h in group if h.injection is not None])
        for h in group:
            before = [i for i in injections if i - CLOCK_SLACK <= (h.acquisition or h.injection)]
            if not before:
                leave(h, f"acquired before the injection ({h.injection_source})")
                continue
            own = min(injections, key=lambda i: abs(i - h.injection)) if h.injection else before[-1]
            members[(pid, own)].append(h)
        keys += [(pid, i) for i in injections if members[(pid, i)]]
    names = _pseudonyms(keys, known or {})
    entries, scans = [], []
    for pid, moment in sorted(keys, key=lambda k: names[k]):
        number = sorted(i for p, i in keys if p == pid).index(moment) + 1
        entry = Entry(names[(pid, moment)], pid, moment, number, members[(pid, moment)])
        entries.append(entry)
        scans += _entry_scans(entry, days, tolerance, preference, leave)
    pseudonyms: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        pseudonyms[entry.dicom_patient_id].append(entry.patient_id)
    warnings = identity_warnings(headers, {pid: "/".join(ids) for pid, ids in pseudonyms.items()})
    for pid in {e.dicom_patient_id for e in entries if e.injection_number > 1}:
        group = [e for e in entries if e.dicom_patient_id == pid]
        warnings.append(f"{' and '.join(e.patient_id for e in group)} are one patient with {len(group)} injections "
                        f"({', '.join(e.injection.strftime('%Y-%m-%d') for e in group)}): kept as separate study "
                        "entries; merge or drop their rows in patients.csv and scans.csv if that is not wanted")
    for scan in scans:
        decisions[scan.pet.uid] = Decision(scan.pet, "pet", scan.patient_id, scan.scan_id)
    _pair_cts(scans, cts, decisions)
    vois = voi_rows(scans, notes, decisions)
    ordered = [decisions[h.uid] for h in headers if h.uid in decisions]
    return Plan(scans, entries, ordered, vois, warnings)


def _entry_scans(entry: Entry, days: Sequence[float], tolerance: float, preference: str | None, leave) -> list[Scan]:
    sessions: list[list[SeriesHeader]] = []
    for h in sorted(entry.headers, key=lambda h: (h.acquisition or entry.injection, h.uid)):
        start = h.acquisition or entry.injection
        if sessions and start - (sessions[-1][0].acquisition or entry.injection) <= SESSION:
            sessions[-1].append(h)
        else:
            sessions.append([h])
    by_day: dict[float, list[Scan]] = defaultdict(list)
    for session in sessions:
        chosen, why = rules.rank_candidates(session, preference)
        for h in session:
            if h.uid in why:
                leave(h, why[h.uid], entry.patient_id)
        hours = ((chosen.acquisition or entry.injection) - entry.injection).total_seconds() / 3600.0
        day = snap_day(hours / 24.0, days, tolerance)
        if day is None:
            leave(chosen, f"{rules.OFF_SCHEDULE}: {hours / 24:.2f} d after injection, schedule "
                          f"{', '.join(f'{d:g}' for d in days)} ± {tolerance:g} d", entry.patient_id)
            continue
        by_day[day].append(Scan(f"{entry.patient_id}_{day_label(day)}", entry.patient_id, day, round(hours, 4), chosen))
    kept = []
    for day, candidates in sorted(by_day.items()):
        candidates.sort(key=lambda s: abs(s.hours_pi / 24.0 - day))
        kept.append(candidates[0])
        for other in candidates[1:]:
            leave(other.pet, f"{rules.REPEAT}: day {day:g} ({other.hours_pi / 24:.2f} d; the scan at "
                             f"{candidates[0].hours_pi / 24:.2f} d is kept)", entry.patient_id)
    return kept


def _pair_cts(scans: list[Scan], cts: list[SeriesHeader], decisions: dict[str, Decision]) -> None:
    """Each scan's CT: same FrameOfReferenceUID, else same study and start within 30 min; closest in time."""
    used: set[str] = set()
    for scan in scans:
        pet = scan.pet
        start = pet.acquisition or datetime.min

        def gap(ct: SeriesHeader) -> float:
            return abs(((ct.acquisition or datetime.min) - start).total_seconds())

        same = [c for c in cts if c.info.patient_id == pet.info.patient_id and c.uid not in used]
        frame = [c for c in same if pet.info.frame_of_reference_uid
                 and c.info.frame_of_reference_uid == pet.info.frame_of_reference_uid]
        timed = [c for c in same if c.info.study_uid == pet.info.study_uid and gap(c) <= CT_WINDOW.total_seconds()]
        pool = frame or timed
        if pool:
            scan.ct = min(pool, key=lambda c: (gap(c), -c.fov_ml, c.uid))
            used.add(scan.ct.uid)
            decisions[scan.ct.uid] = Decision(scan.ct, "ct", scan.patient_id, scan.scan_id)
    for ct in cts:
        if ct.uid not in used:
            decisions[ct.uid] = Decision(ct, "left out", reason=rules.UNPAIRED_CT)
