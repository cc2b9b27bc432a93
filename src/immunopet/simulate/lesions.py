"""Tumour lesions of one patient: sites, sizes and uptake kinetics (no images).

A lesion's net uptake rate is ``ki = ki_median[type] * exp(site + patient + lesion)`` with normal
patient- and lesion-level log-effects, so uptake varies between tumour types, between patients and
between the lesions of one patient. Inside a lesion the SUV falls off from the centre,
``SUV(r) = SUV_centre * (1 - h r^2)`` with ``r`` the normalised radius of the lesion's ellipsoid, so the
true SUVmax is the centre value and the true SUVmean is ``SUV_centre * (1 - 3 h / 5)``. Lesions are
irregular: ellipsoids with random minor axes and orientation, some lobulated (one or two spherical
lobes joined to the ellipsoid), some larger ones with a necrotic core of low uptake (then the SUVmax
lies at the core's edge).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from immunopet.simulate.kinetics import BloodCurve, tissue_suv

#: At most this many lesions of a site per patient (anatomy has room for them).
SITE_LIMITS = {"bladder_wall": 1, "adrenal": 2, "bone": 3, "liver": 4, "lung": 4, "lymph_node": 4,
               "soft_tissue": 3}


def mean_profile_factor(heterogeneity: np.ndarray | float, core: np.ndarray | float = 0.0,
                        core_uptake: float = 0.0) -> np.ndarray:
    """Mean over an ellipsoid of ``1 - h r^2`` with a necrotic core ``r < c`` at ``core_uptake``
    (ratio SUVmean / centre SUV; ``r`` is the normalised ellipsoidal radius).

    Shell: ``(1 - c^3) - 3 h (1 - c^5) / 5``; core: ``core_uptake * c^3``.
    """
    h = np.asarray(heterogeneity, dtype=np.float64)
    c = np.asarray(core, dtype=np.float64)
    return (1.0 - c**3) - 0.6 * h * (1.0 - c**5) + core_uptake * c**3


def max_profile_factor(heterogeneity: np.ndarray | float, core: np.ndarray | float = 0.0) -> np.ndarray:
    """Highest value of the profile (ratio SUVmax / centre SUV): ``1 - h c^2`` at the core's edge."""
    return 1.0 - np.asarray(heterogeneity, dtype=np.float64) * np.asarray(core, dtype=np.float64) ** 2


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


def _draw_shapes(rng: np.random.Generator, diameter: np.ndarray, sp: dict[str, Any]) -> dict[str, np.ndarray]:
    """Irregular shapes: semi-axes, orientation, lobes and necrotic cores of ``len(diameter)`` lesions."""
    n = len(diameter)
    low, high = sp["minor_axis_ratio"]
    ratios = rng.uniform(low, high, (n, 2))
    angles = rng.uniform(0.0, np.pi, (n, 3))
    lobulated = rng.uniform(size=n) < sp["lobulated_prob"]
    lobes = np.where(lobulated, rng.integers(1, 3, n), 0)
    lobe_dirs = rng.normal(size=(n, 2, 3))
    core_prob = np.where(diameter >= sp["necrosis_min_diameter_mm"], sp["necrosis_prob"], 0.0)
    necrotic = (rng.uniform(size=n) < core_prob) & ~lobulated
    core = np.where(necrotic, rng.uniform(*sp["necrotic_core_fraction"], n), 0.0)
    out = {"axis_ratio_2": ratios[:, 0], "axis_ratio_3": ratios[:, 1], "rot_a": angles[:, 0], "rot_b": angles[:, 1],
           "rot_c": angles[:, 2], "lobes": lobes, "necrotic_core": core}
    for k in range(2):
        unit = lobe_dirs[:, k] / np.linalg.norm(lobe_dirs[:, k], axis=1, keepdims=True)
        for d, axis in enumerate("xyz"):
            out[f"lobe{k + 1}_{axis}"] = unit[:, d]
    return out


def draw_lesions(rng: np.random.Generator, *, patient_id: str, tumour_type: str, blood: BloodCurve,
                 hours: np.ndarray, outcome_hours: float, lp: dict[str, Any]) -> dict[str, Any]:
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
    dict of columns
        One entry per lesion: ``patient_id, voi_id, site, baseline_diameter_mm, ki, v_t,
        heterogeneity``, the shape (``axis_ratio_2/3``, ``rot_a/b/c``, ``lobes``, ``lobe1_x`` ...,
        ``necrotic_core``), ``placement_u0..u2``, ``suv_max_outcome``, and ``suv_max_t`` /
        ``suv_mean_t``: arrays (lesion x scan) of the true SUVmax and SUVmean at ``hours``.
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
    shapes = _draw_shapes(rng, diameter, lp["shape"])
    core_uptake = float(lp["shape"]["necrotic_core_uptake"])
    centre = tissue_suv(blood, v_t[:, None], ki[:, None], np.asarray(hours)[None, :])
    peak = max_profile_factor(het, shapes["necrotic_core"])
    mean = mean_profile_factor(het, shapes["necrotic_core"], core_uptake)
    outcome = tissue_suv(blood, v_t, ki, outcome_hours)
    return {
        "patient_id": [patient_id] * n, "voi_id": [f"L{k + 1}" for k in range(n)], "site": sites,
        "baseline_diameter_mm": np.round(diameter, 1), "ki": ki, "v_t": v_t, "heterogeneity": het, **shapes,
        "placement_u0": placement[:, 0], "placement_u1": placement[:, 1], "placement_u2": placement[:, 2],
        "centre_suv_outcome": outcome, "suv_max_outcome": outcome * peak,
        "suv_max_t": centre * peak[:, None], "suv_mean_t": centre * mean[:, None],
    }
