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

from dataclasses import dataclass

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
