"""Tumour lesions of one patient: sites, sizes and uptake kinetics (no images).

A lesion's net uptake rate is ``ki = ki_median[type] * exp(site + patient + lesion)`` with normal
patient- and lesion-level log-effects, so uptake varies between tumour types, between patients and
between the lesions of one patient. Inside a lesion the SUV falls off from the centre,
``SUV(r) = SUV_centre * (1 - h (r / R)^2)``, so the true SUVmax is the centre value and the true
SUVmean over the sphere is ``SUV_centre * (1 - 3 h / 5)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from immunopet.simulate.kinetics import BloodCurve, tissue_suv

#: At most this many lesions of a site per patient (anatomy has room for them).
SITE_LIMITS = {"bladder_wall": 1, "adrenal": 2, "bone": 3, "liver": 4, "lung": 4, "lymph_node": 4,
               "soft_tissue": 3}


def mean_profile_factor(heterogeneity: np.ndarray | float) -> np.ndarray:
    """Mean over a sphere of ``1 - h (r/R)^2`` (the ratio SUVmean / SUVmax of a lesion)."""
    return 1.0 - 0.6 * np.asarray(heterogeneity, dtype=np.float64)


def _draw_sites(rng: np.random.Generator, tumour_type: str, n: int, lp: dict[str, Any]) -> list[str]:
    probs = dict(lp["sites"][tumour_type])
    sites: list[str] = []
    first = lp.get("first_site", {}).get(tumour_type)
    if first:
        sites.append(first)
    while len(sites) < n:
        names = [s for s in probs if sites.count(s) < SITE_LIMITS.get(s, 4)]
        if not names:
            break
        weights = np.array([probs[s] for s in names], dtype=np.float64)
        sites.append(str(rng.choice(names, p=weights / weights.sum())))
    return sites


def draw_lesions(rng: np.random.Generator, *, patient_id: str, tumour_type: str, blood: BloodCurve,
                 hours: np.ndarray, outcome_hours: float, lp: dict[str, Any]) -> pd.DataFrame:
    """Lesions of one patient with their true uptake.

    Parameters
    ----------
    rng
        The patient's lesion random stream.
    hours
        Actual scan times (h after injection); ``outcome_hours`` is the nominal outcome time.
    lp
        The ``lesions`` section of the parameters.

    Returns
    -------
    DataFrame
        One row per lesion: ``patient_id, voi_id, site, baseline_diameter_mm, ki, v_t,
        heterogeneity, placement_u0..u2, suv_max_outcome``, and ``suv_max``/``suv_mean`` as arrays
        over ``hours`` in the columns ``suv_max_t`` and ``suv_mean_t``.
    """
    n = int(min(lp["max_per_patient"], 1 + rng.poisson(lp["count_mean_extra"][tumour_type])))
    sites = _draw_sites(rng, tumour_type, n, lp)
    n = len(sites)
    dp = lp["diameter_mm"]
    caps = np.array([min(dp["max"], lp["max_diameter_by_site"].get(s, dp["max"])) for s in sites])
    diameter = np.clip(dp["median"] * np.exp(rng.normal(0.0, dp["log_sd"], n)), dp["min"], caps)
    site_effect = np.array([lp["ki_site_log_effect"].get(s, 0.0) for s in sites])
    patient_effect = rng.normal(0.0, lp["ki_patient_log_sd"])
    ki = lp["ki_median"][tumour_type] * np.exp(site_effect + patient_effect + rng.normal(0.0, lp["ki_lesion_log_sd"], n))
    v_t = lp["v_t"]["median"] * np.exp(rng.normal(0.0, lp["v_t"]["log_sd"], n))
    low, high = lp["heterogeneity_range"]
    het = rng.uniform(low, high, n)
    placement = rng.uniform(0.0, 1.0, (n, 3))
    centre = tissue_suv(blood, v_t[:, None], ki[:, None], np.asarray(hours)[None, :])
    outcome = tissue_suv(blood, v_t, ki, outcome_hours)
    frame = pd.DataFrame({
        "patient_id": patient_id,
        "voi_id": [f"L{k + 1}" for k in range(n)],
        "site": sites,
        "baseline_diameter_mm": np.round(diameter, 1),
        "ki": ki,
        "v_t": v_t,
        "heterogeneity": het,
        "placement_u0": placement[:, 0],
        "placement_u1": placement[:, 1],
        "placement_u2": placement[:, 2],
        "suv_max_outcome": outcome,
    })
    frame["suv_max_t"] = list(centre)
    frame["suv_mean_t"] = list(centre * mean_profile_factor(het)[:, None])
    return frame
