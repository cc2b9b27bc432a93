"""Patlak intervals that carry the uncertainty of an image-derived blood input.

A patient's blood curve is one measurement shared by all its VOIs: its error moves every VOI's Ki
the same way and is not in the residuals of any one VOI's line. Per patient (docs/kinetics.md):

1. **Blood-point standard errors.** The blood-pool mean at ``t`` gets the relative variance of the
   counting model of the Patlak weights, ``kappa exp(lambda t) / (C_B V_B)``, with the patient's
   factor ``kappa`` estimated from the residuals of all its Patlak fits,
   ``kappa = sum_VOIs sum_i w_i r_i^2 / sum_VOIs (n - 2)`` (``w`` the unscaled count weights).
   Assumed: the blood VOI's mean is as noisy as a tissue VOI of its volume and concentration (one
   scanner, protocol and noise correlation per patient). The scatter of the blood points about
   their own bi-exponential cannot give it: with four scans the fit has no residual degree of
   freedom; the voxel SD over ``sqrt(n_voxels)`` underestimates it under correlated image noise.
2. **Draws.** ``m`` blood curves from those errors (``blood_draws.py``), fixed seed per patient.
3. **Refits.** Every VOI's Patlak line on every drawn curve, with the same weights, all at once.
4. **Combination.** Rubin's rules (``rubin.py``) on Ki and V_T; the reported Ki and V_T stay the
   fits on the patient's own curve; the interval's half-width is the quantile of the sum of the
   within-fit and between-draw t parts (``t_sum.py``), not a single t(df) times sqrt(T).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from immunopet.analysis.kinetics.blood import BloodInput
from immunopet.analysis.kinetics.blood_draws import CurveDraws, point_rel_sd
from immunopet.analysis.kinetics.patlak import PatlakFit, patlak_coordinates, wls_lines
from immunopet.analysis.kinetics.rubin import combine

#: ``ci_kind`` of an interval from the VOI's own residuals only (blood samples, or no estimate).
WITHIN_FIT = "within_fit"
#: ``ci_kind`` of an interval combined with the spread over drawn blood curves.
BLOOD_DRAWS = "blood_draws"


@dataclass(frozen=True)
class VoiPoints:
    """The Patlak points of one VOI on the patient's blood curve: times, tissue values and volumes,
    the plot's ``x`` and ``y`` and the count weights of ``y`` (:func:`patlak_coordinates`), and the fit."""

    hours: np.ndarray
    tissue: np.ndarray
    tissue_ml: np.ndarray
    x: np.ndarray
    y: np.ndarray
    counts: np.ndarray
    fit: PatlakFit


def patient_seed(seed: int, patient_id: str) -> np.random.Generator:
    """A generator fixed by the analysis seed and the patient (not by the patients' order)."""
    return np.random.default_rng([int(seed), zlib.crc32(str(patient_id).encode())])


def _stack(values: list[np.ndarray], width: int) -> np.ndarray:
    out = np.full((len(values), width), np.nan)
    for row, v in enumerate(values):
        out[row, : v.size] = v
    return out


def noise_factor(vois: list[VoiPoints]) -> tuple[float, int]:
    """``(kappa, degrees of freedom)`` from the residuals of the patient's fitted VOIs (module docstring)."""
    total, df = 0.0, 0
    for voi in vois:
        if voi.fit.reason or voi.fit.df < 1:
            continue
        r = voi.y - (voi.fit.ki * voi.x + voi.fit.v_t)
        ok = np.isfinite(r) & np.isfinite(voi.counts)
        total += float(np.sum(voi.counts[ok] * r[ok] ** 2))
        df += voi.fit.df
    return (total / df if df else float("nan")), df


def blood_intervals(curve: BloodInput, vois: list[VoiPoints], *, blood_ml: float, draws: int, seed: int,
                    patient_id: str, decay_per_h: float, weights: str, ci_level: float,
                    start_value: float | None = None) -> list[dict] | None:
    """Per VOI the Ki / V_T interval with the blood input's uncertainty (``None``: no estimate).

    Returns one dict per VOI (empty for VOIs without a fit, or whose draws gave no finite spread: they
    keep the within-fit interval) with ``ki_se``, ``ki_ci_low``, ``ki_ci_high``, ``v_t_se``,
    ``ki_se_fit`` and ``ci_kind``.
    """
    kappa, df_noise = noise_factor(vois)
    fitted = [k for k, v in enumerate(vois) if not v.fit.reason]
    if draws < 2 or not fitted or not (np.isfinite(kappa) and kappa > 0):
        return None
    rel_sd = point_rel_sd(curve.hours, curve.value(curve.hours), volume_ml=blood_ml, noise=kappa,
                          decay_per_h=decay_per_h)
    curves = CurveDraws(curve, rel_sd, draws, patient_seed(seed, patient_id), start_value=start_value)
    width = max(vois[k].hours.size for k in fitted)
    t = _stack([vois[k].hours for k in fitted], width)
    ct = _stack([vois[k].tissue for k in fitted], width)
    ml = _stack([np.broadcast_to(vois[k].tissue_ml, vois[k].hours.shape) for k in fitted], width)
    x, y, counts = patlak_coordinates(t, ct, curves.value(t), curves.integral(t), tissue_ml=ml, blood_ml=blood_ml,
                                      decay_per_h=decay_per_h)
    lines = wls_lines(x, y, counts if weights == "counts" else np.ones_like(x))
    fits = [vois[k].fit for k in fitted]
    df_within = np.array([f.df for f in fits], dtype=np.float64)
    ki = np.array([f.ki for f in fits])
    ki_c = combine(np.array([f.ki_se**2 for f in fits]), lines.ki, df_within=df_within, df_noise=df_noise)
    vt_c = combine(np.array([f.v_t_se**2 for f in fits]), lines.v_t, df_within=df_within, df_noise=df_noise)
    half = ki_c.half_width(ci_level)
    out: list[dict] = [{} for _ in vois]
    for j, k in enumerate(fitted):
        if not (np.isfinite(ki_c.total[j]) and np.isfinite(half[j])):
            continue  # the draws gave no finite spread: the row keeps its within-fit interval
        out[k] = {"ki_se": float(np.sqrt(ki_c.total[j])), "ki_ci_low": float(ki[j] - half[j]),
                  "ki_ci_high": float(ki[j] + half[j]), "v_t_se": float(np.sqrt(vt_c.total[j])),
                  "ki_se_fit": fits[j].ki_se, "ci_kind": BLOOD_DRAWS}
    return out
