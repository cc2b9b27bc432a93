"""Fixtures of the analysis tests: measurement tables built from the simulator's known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def cohort_tables(cohort, *, seed: int = 0, organ_noise: float = 0.05, lesion_noise: float = 0.10):
    """(measurements, patients, lesions) of a drawn cohort: true uptake times log-normal noise."""
    rng = np.random.default_rng(seed)
    patients = cohort.patients
    info = patients.set_index("patient_id")[["tumour_type", "dose_cohort"]]
    scans = cohort.scans[["scan_id", "patient_id", "day", "hours_pi"]]
    organs = cohort.organs.merge(scans, on=["patient_id", "day", "hours_pi"])
    organ_rows = pd.DataFrame({
        "patient_id": organs["patient_id"], "scan_id": organs["scan_id"], "day": organs["day"],
        "hours_pi": organs["hours_pi"], "voi_id": organs["organ"], "kind": "organ", "site": organs["organ"],
        "suv_mean": organs["suv_mean"] * np.exp(rng.normal(0.0, organ_noise, len(organs))),
    })
    blood = organ_rows[organ_rows["site"] == "blood_pool"].set_index("scan_id")["suv_mean"]
    lesion_parts = []
    les = cohort.lesions
    for day in sorted(scans["day"].unique()):
        true_max = les[f"suv_max_day{day:g}"].to_numpy()
        part = les[["patient_id", "voi_id", "site"]].merge(scans[scans["day"] == day], on="patient_id")
        noise = np.exp(rng.normal(0.0, lesion_noise, len(part)))
        part = part.assign(kind="lesion", suv_max=true_max * noise,
                           suv_peak=0.85 * true_max * noise * np.exp(rng.normal(0.0, 0.05, len(part))),
                           suv_mean=les[f"suv_mean_day{day:g}"].to_numpy())
        lesion_parts.append(part)
    lesion_rows = pd.concat(lesion_parts, ignore_index=True)
    ref = lesion_rows["scan_id"].map(blood)
    lesion_rows = lesion_rows.assign(tbr_max=lesion_rows["suv_max"] / ref, tbr_peak=lesion_rows["suv_peak"] / ref)
    measurements = pd.concat([organ_rows, lesion_rows], ignore_index=True)
    measurements = measurements.join(info, on="patient_id")
    measurements["suv_type"] = "bw"
    return measurements, patients.copy(), cohort.lesions[["patient_id", "voi_id", "site", "baseline_diameter_mm",
                                                          "pct_change"]].copy()


def _draw(n: int, seed: int):
    """A cohort with a clear PET effect (the simulator's ``strong`` scenario, expected AUC ~0.87):
    the default (AUC ~0.75, as published) leaves 22-patient rankings to chance."""
    from immunopet.simulate import draw_cohort

    return draw_cohort(n, seed, scenario="strong")


@pytest.fixture(scope="session")
def cohort_200():
    """A large simulated trial (200 patients) and its analysis-input tables."""
    cohort = _draw(200, 11)
    return cohort, cohort_tables(cohort, seed=1)


@pytest.fixture(scope="session")
def cohort_22():
    """The study-sized simulated trial (22 patients, the default) and its tables."""
    cohort = _draw(22, 3)
    return cohort, cohort_tables(cohort, seed=2)


@pytest.fixture(scope="session")
def tables_factory():
    """``make(n, seed)``: analysis-input tables of a freshly drawn cohort."""
    return lambda n, seed: cohort_tables(_draw(n, seed), seed=seed)
