"""The clinical model: biomarkers and outcome generated from the true tumour uptake.

Per patient, ``U`` = geometric mean over lesions of the true SUVmax at the outcome day and
``z = (ln U - ref_log) / ref_log_sd``. A latent IHC/RNA marker ``x`` correlates only weakly with
``z`` (``ihc_corr``). The latent benefit of treatment is

    eta = beta_pet * z + beta_ihc * x + type_effect[type] + N(0, 1),

and every outcome (lesion size change, RECIST best response, PFS, OS) is drawn from ``eta``.
``beta_pet`` sets how well the PET signal predicts response (docs/simulator-clinical.md tabulates the
expected AUC per value); ``beta_pet: 0`` is the null scenario. Progression is only ever seen at a
response assessment (CT every ``assessment_interval_weeks`` from the first one at 6-9 weeks), as in
RECIST practice, so no PFS event falls before the first assessment.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Months per week (365.25 / 12 / 7).
WEEK_MONTHS = 7.0 / 30.4375


def _expit(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _recist(pct: np.ndarray, diameters: np.ndarray, new_lesion: bool) -> tuple[str, float]:
    """RECIST 1.1 best overall response from the lesions' % change (all lesions are targets)."""
    sum_change = 100.0 * (float(np.sum(diameters * (1.0 + pct / 100.0))) / float(np.sum(diameters)) - 1.0)
    if np.all(pct <= -100.0) and not new_lesion:
        return "CR", sum_change
    if new_lesion or sum_change >= 20.0:
        return "PD", sum_change
    if sum_change <= -30.0:
        return "PR", sum_change
    return "SD", sum_change


def _progression(rng: np.random.Generator, cp: dict[str, Any], eta: float, response: str) -> tuple[float, float]:
    """(first assessment, true progression time) in months; PD progresses before the first one.

    The OS of a patient is the progression scan plus a log-normal time (death after progression).
    """
    low, high = cp["first_assessment_weeks"]
    first = rng.uniform(low, high) * WEEK_MONTHS
    latent = np.exp(np.log(cp["pfs_median_months"]) + cp["pfs_log_per_eta"] * eta + rng.normal(0.0, cp["pfs_log_sd"]))
    if response == "PD":
        return first, first * rng.uniform(0.3, 1.0)  # progression found at the first assessment
    return first, first + latent  # SD/PR/CR: no progression by the first assessment


def _seen(first: float, latent: float, interval: float) -> float:
    """When the assessments see a progression at ``latent``: the first assessment at or after it."""
    if latent <= first:
        return float(first)
    return float(first + np.ceil((latent - first) / interval) * interval)


def _observed(first: float, seen: float, censor: float, interval: float) -> tuple[float, int]:
    """PFS (months, event): the progression scan, or censored at the last assessment before
    ``censor`` (at ``censor`` if there was none)."""
    if seen <= censor:
        return seen, 1
    if censor < first:
        return float(censor), 0
    return float(first + np.floor((censor - first) / interval) * interval), 0


def draw_clinical(rng: np.random.Generator, *, tumour_type: str, suv_max_outcome: np.ndarray,
                  diameters: np.ndarray, cp: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    """Biomarkers and outcome of one patient.

    Parameters
    ----------
    rng
        The patient's clinical random stream.
    suv_max_outcome, diameters
        The patient's lesions: true SUVmax at the outcome day, baseline diameter (mm).
    cp
        The ``clinical`` section of the parameters.

    Returns
    -------
    row, lesion_pct
        Patient-table values (biomarkers, response, survival, and the latent ``true_uptake``,
        ``pet_z``, ``eta``, ``first_assessment_months``, ``progression_months``) and each lesion's
        % change in diameter (NaN if not evaluable).
    """
    log_lesion = np.log(np.asarray(suv_max_outcome, dtype=np.float64))
    log_u = float(np.mean(log_lesion))
    z = (log_u - cp["ref_log"]) / cp["ref_log_sd"]
    c = cp["ihc_corr"]
    resid = np.sqrt(1.0 - c * c)
    x_ihc = c * z + resid * rng.normal()
    x_tc = 0.6 * x_ihc + 0.8 * rng.normal()
    teff = c * z + resid * rng.normal()
    cd274_mean, cd274_sd = cp["cd274_log2"]
    cd274 = cd274_mean + cd274_sd * (0.5 * x_ihc + np.sqrt(0.75) * rng.normal())
    eta = cp["beta_pet"] * z + cp["beta_ihc"] * x_ihc + cp["type_effect"][tumour_type] + rng.normal()

    pct = (cp["pct_intercept"] - cp["pct_per_eta"] * eta
           - cp["pct_per_lesion_log_uptake"] * (log_lesion - log_u)
           + rng.normal(0.0, cp["pct_lesion_sd"], len(log_lesion)))
    pct = np.clip(pct, -100.0, 300.0)
    a, b = cp["new_lesion_logit"]
    new_lesion = rng.uniform() < _expit(a + b * eta)
    response, sum_change = _recist(pct, np.asarray(diameters, dtype=np.float64), new_lesion)
    not_evaluable = rng.uniform() < cp["not_evaluable_prob"]

    first, latent = _progression(rng, cp, eta, response)
    interval = float(cp["assessment_interval_weeks"]) * WEEK_MONTHS
    seen = _seen(first, latent, interval)
    os_ = seen + np.exp(np.log(cp["os_extra_median_months"]) + cp["os_log_per_eta"] * eta
                        + rng.normal(0.0, cp["os_log_sd"]))
    enrolled = rng.uniform(0.0, cp["accrual_months"])
    dropout = rng.exponential(1.0 / cp["dropout_per_month"]) if cp["dropout_per_month"] > 0 else np.inf
    censor = min(cp["cutoff_months"] - enrolled, dropout)
    pfs, pfs_event = _observed(first, seen, censor, interval)
    if not_evaluable:
        response, pct, sum_change = "NE", np.full(len(log_lesion), np.nan), np.nan
    row = {
        "ihc_ic": int(np.digitize(x_ihc, cp["ihc_cutpoints"])),
        "ihc_tc": int(np.digitize(x_tc, cp["tc_cutpoints"])),
        "rna_cd274": round(float(cd274), 3),
        "rna_teff": round(float(teff), 3),
        "best_response": response,
        "best_pct_change": round(float(sum_change), 1) if np.isfinite(sum_change) else np.nan,
        "pfs_months": round(float(pfs), 2),
        "pfs_event": int(pfs_event),
        "os_months": round(float(min(os_, censor)), 2),
        "os_event": int(os_ <= censor),
        "true_uptake": float(np.exp(log_u)),
        "pet_z": float(z),
        "ihc_latent": float(x_ihc),
        "eta": float(eta),
        "first_assessment_months": round(float(first), 3),
        "progression_months": float(latent),
    }
    return row, np.round(pct, 1)
