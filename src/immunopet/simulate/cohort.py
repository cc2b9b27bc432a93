"""The cohort: patients, scan times, true organ and lesion uptake and the clinical table (no images).

Every patient has its own random streams (``numpy.random.SeedSequence([seed, patient, stream])``),
so a patient's draw does not depend on how many patients come after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from immunopet.errors import ImmunoPETError
from immunopet.simulate.clinical import draw_clinical
from immunopet.simulate.kinetics import draw_kinetics, tissue_suv
from immunopet.simulate.lesions import draw_lesions
from immunopet.simulate.params import load_params

PATIENT_COLUMNS = ["patient_id", "tumour_type", "sex", "height_cm", "dose_cohort", "ihc_ic", "ihc_tc",
                   "rna_cd274", "rna_teff", "best_response", "best_pct_change", "pfs_months", "pfs_event",
                   "os_months", "os_event"]
LESION_COLUMNS = ["patient_id", "voi_id", "site", "baseline_diameter_mm", "pct_change"]
STREAM_ANTHRO, STREAM_KINETICS, STREAM_LESIONS, STREAM_CLINICAL, STREAM_IMAGE = 1, 2, 3, 4, 5


def patient_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    """The random generator of one patient's stream."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(index), int(stream)]))


@dataclass(frozen=True)
class Cohort:
    """The drawn cohort.

    Attributes
    ----------
    patients
        The ``patients.csv`` table.
    lesions
        ``lesions.csv`` columns plus true uptake: ``suv_max_outcome`` (nominal outcome day) and
        ``suv_max_day<d>`` / ``suv_mean_day<d>`` for every scan day, and the kinetic parameters.
    organs
        True organ SUVmean per patient and scan (long format, incl. ``blood_pool``).
    scans
        One row per scan: ``scan_id, patient_id, day, hours_pi, scan_datetime``.
    subjects
        Per-patient hidden truth: weight, injected activity, injection time, blood curve, latent
        clinical variables (``true_uptake``, ``pet_z``, ``eta``).
    params
        The complete parameter set used.
    """

    patients: pd.DataFrame
    lesions: pd.DataFrame
    organs: pd.DataFrame
    scans: pd.DataFrame
    subjects: pd.DataFrame
    params: dict[str, Any]


def allocate_types(n: int, proportions: Mapping[str, float]) -> list[str]:
    """Largest-remainder allocation of ``n`` patients to tumour types (each type >= 1 if n allows)."""
    names = list(proportions)
    weights = np.array([float(proportions[k]) for k in names])
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    while n >= len(names) and np.any((counts == 0) & (weights > 0)):
        counts[np.argmax(counts)] -= 1
        counts[np.argmax((counts == 0) & (weights > 0))] += 1
    return [name for name, c in zip(names, counts) for _ in range(c)]


def scan_label(day: float) -> str:
    """Scan id suffix: ``D7`` for day 7, ``H1`` for a scan within the first day (0.04 d = 1 h)."""
    return f"H{round(day * 24):d}" if day < 1 else f"D{day:g}".replace(".", "p")


def draw_cohort(n_patients: int, seed: int, *, params: str | Path | Mapping[str, Any] | None = None,
                days: Sequence[float] = (0.04, 2, 4, 7), balanced: bool = False,
                scenario: str | None = None) -> Cohort:
    """Draw the clinical and uptake model of ``n_patients`` patients (fast: no images).

    Parameters
    ----------
    n_patients
        Number of patients (>= 1).
    seed
        Random seed; the same seed and parameters give the same cohort.
    params
        Parameter overrides (mapping or YAML file); ``None`` uses the packaged defaults.
    days
        Nominal scan days after injection.
    scenario
        A named parameter scenario (``null``: the PET uptake carries no information on outcome).
    balanced
        Pick the ``n_patients`` from a pool of ``8 * n_patients`` so that every tumour type, two
        responders (CR/PR), SD and PD appear when the pool allows (quick studies use this). The
        patients keep their ids from the pool.

    Returns
    -------
    Cohort
    """
    p = load_params(params, scenario=scenario)
    if balanced:
        return select_balanced(draw_cohort(8 * n_patients, seed, params=p, days=days), n_patients)
    cp, kp, sp = p["cohort"], p["kinetics"], p["study"]
    days = [float(d) for d in days]
    if len({scan_label(d) for d in days}) != len(days):
        raise ImmunoPETError(
            f"scan days {days} give the same scan id {[scan_label(d) for d in days]}", attribute="--days",
            fix="give days at least one hour apart (within day 1) or 0.01 day apart (later)",
        )
    width = max(2, len(str(n_patients)))
    types = allocate_types(n_patients, cp["tumour_types"])
    types = [types[k] for k in np.random.default_rng([int(seed), 0]).permutation(len(types))]
    first_date = dt.datetime.fromisoformat(sp["first_injection_date"])
    outcome_hours = 24.0 * float(sp["outcome_day"])
    patients, lesions, scans, subjects = [], [], [], []
    organs: dict[str, list] = {key: [] for key in ("patient_id", "organ", "day", "hours_pi", "suv_mean", "v_t", "ki",
                                                   "ki_specific")}
    for index, tumour_type in enumerate(types):
        pid = f"P{index + 1:0{width}d}"
        rng = patient_rng(seed, index, STREAM_ANTHRO)
        sex = "M" if rng.uniform() < cp["male_fraction"][tumour_type] else "F"
        height = rng.normal(*cp["height_cm"][sex])
        bmi = float(np.clip(cp["bmi_median"] * np.exp(rng.normal(0, cp["bmi_log_sd"])), *cp["bmi_range"]))
        weight = round(bmi * (height / 100.0) ** 2, 1)
        injected_bq = round(rng.normal(*cp["injected_mbq"]), 2) * 1e6
        cohorts = list(cp["dose_cohorts"])
        shares = np.array([cp["dose_cohorts"][c] for c in cohorts], dtype=float)
        dose_cohort = str(rng.choice(cohorts, p=shares / shares.sum()))
        injected_at = first_date + dt.timedelta(
            days=int(index * 3 + rng.integers(0, 3)),
            hours=sp["injection_hour"] + rng.uniform(-1, 1) * sp["injection_jitter_hours"])
        injected_at = injected_at.replace(microsecond=0)
        jitter = np.where(np.array(days) >= 1.0, rng.uniform(-1, 1, len(days)) * sp["scan_jitter_hours"],
                          rng.uniform(-0.1, 0.2, len(days)))
        hours = np.maximum(np.array(days) * 24.0 + jitter, 0.5)
        hours = np.round(hours * 3600.0) / 3600.0  # whole seconds

        kin = draw_kinetics(patient_rng(seed, index, STREAM_KINETICS), kp, dose_cohort=dose_cohort, weight_kg=weight)
        blood = kin.blood
        names = [*kin.v_t, "blood_pool"]
        v_t = np.array([*kin.v_t.values(), 1.0])
        ki = np.array([kin.ki[o] for o in kin.v_t] + [0.0])
        curves = tissue_suv(blood, v_t[:, None], ki[:, None], hours[None, :])
        n_days, n_organs = len(days), len(names)
        organs["patient_id"] += [pid] * (n_days * n_organs)
        organs["organ"] += [o for o in names for _ in days]
        organs["day"] += days * n_organs
        organs["hours_pi"] += list(hours) * n_organs
        organs["suv_mean"] += curves.ravel().tolist()
        organs["v_t"] += np.repeat(v_t, n_days).tolist()
        organs["ki"] += np.repeat(ki, n_days).tolist()
        organs["ki_specific"] += [kin.ki_specific.get(o, 0.0) for o in names for _ in days]
        for d, h in zip(days, hours):
            scans.append({"scan_id": f"{pid}_{scan_label(d)}", "patient_id": pid, "day": d, "hours_pi": h,
                          "scan_datetime": (injected_at + dt.timedelta(seconds=round(h * 3600))).isoformat()})

        les = draw_lesions(patient_rng(seed, index, STREAM_LESIONS), patient_id=pid, tumour_type=tumour_type,
                           blood=blood, hours=hours, outcome_hours=outcome_hours, lp=p["lesions"])
        clinical, pct = draw_clinical(patient_rng(seed, index, STREAM_CLINICAL), tumour_type=tumour_type,
                                      suv_max_outcome=les["suv_max_outcome"],
                                      diameters=les["baseline_diameter_mm"], cp=p["clinical"])
        les["pct_change"] = pct
        lesions.append(les)
        patients.append({"patient_id": pid, "tumour_type": tumour_type, "sex": sex,
                         "height_cm": round(float(height), 1), "dose_cohort": dose_cohort,
                         **{k: v for k, v in clinical.items() if k in PATIENT_COLUMNS}})
        subjects.append({"patient_id": pid, "index": index, "sex": sex, "height_cm": round(float(height), 1),
                         "weight_kg": weight, "bmi": bmi, "injected_bq": injected_bq,
                         "injection_datetime": injected_at.isoformat(), "blood_a_fast": blood.a_fast,
                         "blood_t_fast_h": blood.t_fast_h, "blood_a_slow": blood.a_slow,
                         "blood_t_slow_h": blood.t_slow_h, "blood_sink_per_h": kin.sink_rate_per_h,
                         **{k: v for k, v in clinical.items() if k not in PATIENT_COLUMNS}})
    columns = {key: np.concatenate([np.asarray(les[key]) for les in lesions])
               for key in lesions[0] if key not in ("suv_max_t", "suv_mean_t")}
    suv_max_t = np.concatenate([les["suv_max_t"] for les in lesions])
    suv_mean_t = np.concatenate([les["suv_mean_t"] for les in lesions])
    for k, d in enumerate(days):
        columns[f"suv_max_day{d:g}"] = suv_max_t[:, k]
        columns[f"suv_mean_day{d:g}"] = suv_mean_t[:, k]
    lesion_frame = pd.DataFrame(columns)
    first = LESION_COLUMNS + [c for c in lesion_frame.columns if c not in LESION_COLUMNS]
    return Cohort(pd.DataFrame(patients, columns=PATIENT_COLUMNS), lesion_frame[first], pd.DataFrame(organs),
                  pd.DataFrame(scans), pd.DataFrame(subjects), p)


def select_balanced(pool: Cohort, n: int) -> Cohort:
    """``n`` patients of ``pool`` covering every tumour type, two responders, SD and PD if possible."""
    types = pool.patients["tumour_type"].tolist()
    groups = pool.patients["best_response"].map({"CR": "resp", "PR": "resp"}).fillna(pool.patients["best_response"])
    needs = {**{t: 1 for t in dict.fromkeys(types)}, "resp": 2, "SD": 1, "PD": 1}
    chosen: list[int] = []
    for _ in range(n):
        scores = [-1 if k in chosen else sum(needs.get(key, 0) > 0 for key in (t, g)) - (g == "NE")
                  for k, (t, g) in enumerate(zip(types, groups))]
        best = int(np.argmax(scores))
        if scores[best] <= 0:
            break
        chosen.append(best)
        for key in (types[best], groups.iloc[best]):
            needs[key] = needs.get(key, 0) - 1
    rest = [k for k in range(len(types)) if k not in chosen]
    rest.sort(key=lambda k: groups.iloc[k] == "NE")  # stable: pool order, evaluable patients first
    chosen += rest[: n - len(chosen)]
    ids = set(pool.patients["patient_id"].iloc[sorted(chosen)])

    def keep(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["patient_id"].isin(ids)].reset_index(drop=True)

    return Cohort(keep(pool.patients), keep(pool.lesions), keep(pool.organs), keep(pool.scans), keep(pool.subjects),
                  pool.params)
