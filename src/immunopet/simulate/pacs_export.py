"""``simulate --layout pacs``: the simulated trial as a raw PACS / CD export, with its decoys.

The trial is simulated as usual in a staging folder, then turned into what a site exports: only DICOM
below ``OUT/dicom-export/``, each patient either in folders by StudyInstanceUID and SeriesInstanceUID or flat
in one folder (as on a CD), always with opaque file names; next to the quantifiable PET and CT of each
scan, the series a user must not quantify:

- a second reconstruction (post-filtered, higher SeriesNumber) of some PET scans;
- a non-attenuation-corrected (NAC) PET of some scans;
- a coronal MIP (DERIVED/SECONDARY) of some scans;
- a CT scout (LOCALIZER) and a CT dose report (secondary capture) with every scan, and an X-ray radiation
  dose SR with some;
- one patient who comes back for a second injection (a second cohort patient given the first one's
  PatientID and name), and off-schedule scans (an unscheduled visit between two scheduled days: a
  scan's images again, as a new study, the PET activity decayed by the time in between);
- the lesion SEG of the outcome-day scan, as a reading workstation stores it.

``OUT/truth/`` holds the simulator's truth, ``truth/scans.csv`` (scan_id, patient_id, day, hours_pi,
pet_series_uid, ct_series_uid: what init must find), ``truth/decoys.csv`` (every other series, with the
reason it must be left out) and ``truth/study/`` (the study tables and label masks of the staging study:
the reader's VOIs and the clinical data a site would add by hand).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydicom

from immunopet.errors import ImmunoPETError
from immunopet.nuclides import get_nuclide
from immunopet.simulate.pacs_series import Placer, export_patient
from immunopet.simulate.pool import run_tasks, worker_count

#: The raw export's folder in OUT: not ``export``, which is where ``immunopet export`` writes its SEG
#: and SR objects in a study folder (the demo's study folder is also the simulator's OUT).
EXPORT_FOLDER = "dicom-export"
#: Share of scans given each decoy (at least one scan each).
DECOY_SHARES = {"second_recon": 0.15, "nac": 0.1, "mip": 0.1, "rdsr": 0.25}


def _pick(rng: np.random.Generator, n: int, share: float) -> set[int]:
    chosen = set(np.flatnonzero(rng.random(n) < share).tolist())
    return chosen or {int(rng.integers(n))}


def _second_patient(subjects: pd.DataFrame, last_day: float) -> tuple[str, str] | None:
    """(first, returning) patients: the returning one is injected >= a week after the first's last scan."""
    times = pd.to_datetime(subjects["injection_datetime"])
    first = int(times.argmin())
    gap = (times - times.iloc[first]).dt.total_seconds() / 86400.0
    later = subjects[(gap >= last_day + 7.0)]
    same_sex = later[later["sex"] == subjects["sex"].iloc[first]]
    pool = same_sex if not same_sex.empty else later
    if pool.empty:
        return None
    return str(subjects["patient_id"].iloc[first]), str(pool["patient_id"].iloc[-1])


def _off_schedule(scans: pd.DataFrame, days: list[float], rng: np.random.Generator, exclude: set[str], *,
                  returning: str | None = None) -> dict[str, float]:
    """scan_id -> days after it of an unscheduled visit (the middle of the gap to the next day, or 2 d).

    Patients in ``exclude`` (the returning pair) are left alone unless nobody else is left; then a
    scan of the pair's first injection is moved, never one of the ``returning`` patient."""
    late = scans["day"] >= 1.0
    pool = scans[late & ~scans["patient_id"].isin(exclude)]
    if pool.empty:  # every patient is part of the returning pair: move a scan of its first injection
        pool = scans[late & (scans["patient_id"] != returning)]
    if pool.empty:
        return {}
    count = 1 if scans["patient_id"].nunique() <= 6 else 2
    picked = pool.iloc[rng.choice(len(pool), size=min(count, len(pool)), replace=False)]
    moves = {}
    for row in picked.itertuples():
        later = [d for d in days if d > row.day]
        moves[row.scan_id] = (later[0] - row.day) / 2.0 if later else 2.0
    return moves


def simulate_pacs_export(out_dir: str | os.PathLike[str], *, patients: int = 22, seed: int = 0,
                         days: Sequence[float] = (0.04, 2, 4, 7), quick: bool = False,
                         params: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                         workers: int | None = None) -> Path:
    """Simulate the trial and write it as a raw export ``OUT/dicom-export/`` plus ``OUT/truth/`` (module docstring)."""
    from immunopet.simulate.study import simulate_study

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ImmunoPETError("the output folder exists and is not empty", file=out,
                             fix="give a new or empty folder; the simulator never overwrites")
    staging = out / ".staging"
    simulate_study(staging, patients=patients, seed=seed, days=days, quick=quick, params=params, workers=workers)
    truth = out / "truth"
    shutil.move(staging / "truth", truth)
    scans = pd.read_csv(staging / "scans.csv").merge(
        pd.read_csv(truth / "scan_times.csv")[["scan_id", "hours_pi"]], on="scan_id")
    subjects = pd.read_csv(truth / "subjects.csv")
    nuclide = get_nuclide(_nuclide_name(truth))
    day_list = sorted({float(d) for d in scans["day"]})
    rng = np.random.default_rng([int(seed), 1213])
    pair = _second_patient(subjects, max(day_list))
    moves = _off_schedule(scans, day_list, rng, set(pair or ()), returning=pair[1] if pair else None)
    decoys = {kind: _pick(rng, len(scans), share) for kind, share in DECOY_SHARES.items()}
    identity = {}
    if pair:
        first = pydicom.dcmread(next((staging / scans.loc[scans.patient_id == pair[0], "pet"].iloc[0]).iterdir()),
                                stop_before_pixels=True)
        identity = {"PatientID": first.PatientID, "PatientName": first.PatientName}
    order = list(dict.fromkeys(scans["patient_id"]))
    placers = {pid: Placer(out / EXPORT_FOLDER, flat=(k % 3 == 1), index=k, seed=seed) for k, pid in enumerate(order)}
    jobs: dict[str, list[dict[str, Any]]] = {pid: [] for pid in order}
    for number, scan in enumerate(scans.to_dict("records")):
        extra = dt.timedelta(days=moves[scan["scan_id"]]) if scan["scan_id"] in moves else None
        jobs[scan["patient_id"]].append({
            "scan": scan, "changes": identity if pair and scan["patient_id"] == pair[1] else {}, "extra": extra,
            "wanted": {kind for kind, picked in decoys.items() if number in picked},
            "decay": nuclide.decay_factor(extra.total_seconds()) if extra else 1.0})
    tasks = [{"staging": staging, "scans": jobs[pid], "placer": placers[pid], "seed": seed} for pid in order]
    written = run_tasks(export_patient, tasks, worker_count(workers, len(tasks), quick=quick),
                        f"writing the export of {len(tasks)} patients")
    series = {job["scan"]["scan_id"]: rows for pid, result in zip(order, written) for job, rows in zip(jobs[pid], result)}
    found, left = [], []
    for scan in scans.itertuples(index=False):
        rows = series[scan.scan_id]
        found.append({"scan_id": scan.scan_id, "patient_id": scan.patient_id, "day": scan.day,
                      "hours_pi": scan.hours_pi, "pet_series_uid": rows.pop("pet"), "ct_series_uid": rows.pop("ct")})
        left += [{"series_uid": uid, "patient_id": scan.patient_id, "scan_id": scan.scan_id, "kind": kind}
                 for kind, uid in rows.items()]
    pd.DataFrame(found).to_csv(truth / "scans.csv", index=False, lineterminator="\n")
    pd.DataFrame(left, columns=["series_uid", "patient_id", "scan_id", "kind"]).to_csv(
        truth / "decoys.csv", index=False, lineterminator="\n")
    annotations = truth / "study"
    annotations.mkdir()
    for name in ("study.yaml", "patients.csv", "vois.csv", "lesions.csv", "masks", "segmentations"):
        if (staging / name).exists():
            shutil.move(staging / name, annotations / name)
    pd.DataFrame([{"returning_patient": pair[1], "same_person_as": pair[0]}] if pair else [],
                 columns=["returning_patient", "same_person_as"]).to_csv(truth / "injections.csv", index=False)
    shutil.rmtree(staging)
    return out


def _nuclide_name(truth: Path) -> str:
    import yaml

    return str(yaml.safe_load((truth / "params.yaml").read_text(encoding="utf-8"))["params"]["study"]["nuclide"])
