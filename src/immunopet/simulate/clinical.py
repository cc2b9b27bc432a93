"""The clinical model: biomarkers and outcome generated from the true tumour uptake.

Per patient, ``U`` = geometric mean over lesions of the true SUVmax at the outcome day and
``z = (ln U - ref_log) / ref_log_sd``. A latent IHC/RNA marker ``x`` correlates only weakly with
``z`` (``ihc_corr``). The latent benefit of treatment is

    eta = beta_pet * z + beta_ihc * x + type_effect + N(0, 1),

and every outcome (lesion size change, RECIST best response, PFS, OS) is drawn from ``eta``, so
the true PET uptake predicts the outcome better than IHC or RNA-seq by construction.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def _expit(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def draw_clinical(rng: np.random.Generator, *, tumour_type: str, lesions: pd.DataFrame,
                  cp: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray]:
    """Biomarkers and outcome of one patient.

    Parameters
    ----------
    rng
        The patient's clinical random stream.
    lesions
        The patient's lesions (``suv_max_outcome``, ``baseline_diameter_mm``).
    cp
        The ``clinical`` section of the parameters.

    Returns
    -------
    row, lesion_pct
        Patient-table values (biomarkers, response, survival, and the latent ``true_uptake``,
        ``pet_z``, ``eta``) and each lesion's % change in diameter (NaN if not evaluable).
    """
    log_u = float(np.mean(np.log(lesions["suv_max_outcome"].to_numpy())))
    z = (log_u - cp["ref_log"]) / cp["ref_log_sd"]
    c = cp["ihc_corr"]
    resid = np.sqrt(1.0 - c * c)
    x_ihc = c * z + resid * rng.normal()
    x_tc = 0.6 * x_ihc + 0.8 * rng.normal()
    teff = c * z + resid * rng.normal()
    cd274_mean, cd274_sd = cp["cd274_log2"]
    cd274 = cd274_mean + cd274_sd * (0.5 * x_ihc + np.sqrt(0.75) * rng.normal())
    eta = cp["beta_pet"] * z + cp["beta_ihc"] * x_ihc + cp["type_effect"][tumour_type] + rng.normal()

    log_lesion = np.log(lesions["suv_max_outcome"].to_numpy())
    pct = (cp["pct_intercept"] - cp["pct_per_eta"] * eta
           - cp["pct_per_lesion_log_uptake"] * (log_lesion - log_u)
           + rng.normal(0.0, cp["pct_lesion_sd"], len(lesions)))
    pct = np.clip(pct, -100.0, 300.0)
    diam = lesions["baseline_diameter_mm"].to_numpy()
    sum_change = 100.0 * (float(np.sum(diam * (1.0 + pct / 100.0))) / float(np.sum(diam)) - 1.0)
    a, b = cp["new_lesion_logit"]
    new_lesion = rng.uniform() < _expit(a + b * eta)
    if np.all(pct <= -100.0) and not new_lesion:
        response = "CR"
    elif new_lesion or sum_change >= 20.0:
        response = "PD"
    elif sum_change <= -30.0:
        response = "PR"
    else:
        response = "SD"
    not_evaluable = rng.uniform() < cp["not_evaluable_prob"]

    pfs = np.exp(np.log(cp["pfs_median_months"]) + cp["pfs_log_per_eta"] * eta + rng.normal(0.0, cp["pfs_log_sd"]))
    pfs = min(pfs, rng.uniform(1.2, 2.8)) if response == "PD" else max(pfs, rng.uniform(1.5, 2.5))
    os_ = pfs + np.exp(np.log(cp["os_extra_median_months"]) + cp["os_log_per_eta"] * eta
                       + rng.normal(0.0, cp["os_log_sd"]))
    enrolled = rng.uniform(0.0, cp["accrual_months"])
    dropout = rng.exponential(1.0 / cp["dropout_per_month"]) if cp["dropout_per_month"] > 0 else np.inf
    censor = min(cp["cutoff_months"] - enrolled, dropout)
    if not_evaluable:
        response, pct, sum_change = "NE", np.full(len(lesions), np.nan), np.nan
    row = {
        "ihc_ic": int(np.digitize(x_ihc, cp["ihc_cutpoints"])),
        "ihc_tc": int(np.digitize(x_tc, cp["tc_cutpoints"])),
        "rna_cd274": round(float(cd274), 3),
        "rna_teff": round(float(teff), 3),
        "best_response": response,
        "best_pct_change": round(float(sum_change), 1) if np.isfinite(sum_change) else np.nan,
        "pfs_months": round(float(min(pfs, censor)), 2),
        "pfs_event": int(pfs <= censor),
        "os_months": round(float(min(os_, censor)), 2),
        "os_event": int(os_ <= censor),
        "true_uptake": float(np.exp(log_u)),
        "pet_z": float(z),
        "ihc_latent": float(x_ihc),
        "eta": float(eta),
    }
    return row, np.round(pct, 1)
