"""Tracer kinetics: decay-corrected SUV time curves of blood, organs and lesions.

Blood follows a bi-exponential clearance; every tissue follows the Patlak form of an irreversibly
trapped (residualising 89Zr) antibody,

    SUV_tissue(t) = v_t * SUV_blood(t) + ki * integral_0^t SUV_blood(s) ds,

so ``v_t`` is the reversible distribution volume and ``ki`` (1/h) the net uptake rate into the
antigen sink. Time ``t`` is in hours after injection. All values are SUV (body weight), decay
corrected, so the activity concentration at time ``t`` is
``SUV * injected_Bq * 2**(-t / T_half) / weight_g``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

LN2 = float(np.log(2.0))


@dataclass(frozen=True)
class BloodCurve:
    """Bi-exponential blood SUV: ``a_fast * 2**(-t/t_fast_h) + a_slow * 2**(-t/t_slow_h)``."""

    a_fast: float
    t_fast_h: float
    a_slow: float
    t_slow_h: float

    def suv(self, hours: np.ndarray | float) -> np.ndarray:
        t = np.asarray(hours, dtype=np.float64)
        return self.a_fast * np.exp(-LN2 * t / self.t_fast_h) + self.a_slow * np.exp(-LN2 * t / self.t_slow_h)

    def integral(self, hours: np.ndarray | float) -> np.ndarray:
        """Area under the blood curve from 0 to ``hours`` (SUV x h)."""
        t = np.asarray(hours, dtype=np.float64)
        tau_fast, tau_slow = self.t_fast_h / LN2, self.t_slow_h / LN2
        return self.a_fast * tau_fast * (1.0 - np.exp(-t / tau_fast)) + self.a_slow * tau_slow * (
            1.0 - np.exp(-t / tau_slow)
        )


    def cleared(self, rate_per_h: float) -> BloodCurve:
        """The curve multiplied by ``exp(-rate_per_h * t)``: an extra first-order loss (target sinks)."""
        if rate_per_h == 0:
            return self
        return replace(self, t_fast_h=LN2 / (LN2 / self.t_fast_h + rate_per_h),
                       t_slow_h=LN2 / (LN2 / self.t_slow_h + rate_per_h))


@dataclass(frozen=True)
class PatientKinetics:
    """One patient's blood curve and every tissue's ``v_t`` and ``ki`` (1/h, specific included)."""

    blood: BloodCurve
    v_t: dict[str, float]
    ki: dict[str, float]
    ki_specific: dict[str, float]
    sink_rate_per_h: float


def draw_kinetics(rng: np.random.Generator, kp: dict[str, Any], *, dose_cohort: str,
                  weight_kg: float) -> PatientKinetics:
    """Draw a patient's kinetics from the ``kinetics`` parameters.

    Non-specific ``v_t``/``ki`` vary log-normally between patients (``organ_log_sd``); the antigen
    sinks add a target-specific ``ki`` (also log-normal, times the dose cohort's ``target_uptake``).
    The antibody they trap leaves the blood: ``lambda = sum(ki_specific * mass_g) / blood volume``
    (1/h) is added to both blood clearance rates (mass balance of a first-order sink).
    """
    effects = kp["dose_cohort_effects"].get(dose_cohort, {})
    b = kp["blood"]
    log_b = rng.normal(0.0, kp["blood_log_sd"], 3)
    base = BloodCurve(b["a_fast"] * np.exp(log_b[0]), b["t_fast_h"], b["a_slow"] * np.exp(log_b[1]),
                      b["t_slow_h"] * np.exp(log_b[2]))
    v_t, ki, specific = {}, {}, {}
    for organ, op in kp["organs"].items():
        mult = np.exp(rng.normal(0.0, kp["organ_log_sd"], 2))
        v_t[organ], ki[organ] = float(op["v_t"] * mult[0]), float(op["ki"] * mult[1])
    sink_ml_per_h = 0.0
    for organ, tp in kp.get("target_uptake", {}).items():
        value = float(tp["ki"]) * float(np.exp(rng.normal(0.0, kp["organ_log_sd"]))) * float(
            effects.get("target_uptake", 1.0))
        specific[organ] = value
        ki[organ] = ki.get(organ, 0.0) + value
        sink_ml_per_h += value * float(tp["mass_g"])
    rate = sink_ml_per_h / (float(kp["blood_ml_per_kg"]) * float(weight_kg))
    return PatientKinetics(base.cleared(rate), v_t, ki, specific, rate)


def tissue_suv(blood: BloodCurve, v_t: np.ndarray | float, ki: np.ndarray | float,
               hours: np.ndarray | float) -> np.ndarray:
    """SUV of a tissue with distribution volume ``v_t`` and net uptake rate ``ki`` (1/h).

    Arrays broadcast: e.g. ``v_t``/``ki`` of shape ``(n, 1)`` and ``hours`` of shape ``(m,)`` give
    ``(n, m)``.
    """
    return np.asarray(v_t) * blood.suv(hours) + np.asarray(ki) * blood.integral(hours)


def activity_bqml(suv: np.ndarray | float, *, injected_bq: float, weight_kg: float, hours: float,
                  half_life_s: float) -> np.ndarray:
    """Activity concentration (Bq/mL) at ``hours`` after injection of a region with this SUV.

    Uses the body-weight SUV definition with 1 g = 1 mL of tissue.
    """
    decay = np.exp(-LN2 * hours * 3600.0 / half_life_s)
    return np.asarray(suv) * injected_bq * decay / (weight_kg * 1000.0)
