"""Time-integrated activity coefficients (TIAC, "residence time", hours) of a source region.

``TIAC = integral_0^inf a(t) dt / A_0``, with ``a(t)`` the activity in the region (not decay
corrected) and ``A_0`` the injected activity; so the input is ``f(t) = a(t) / A_0``, the fraction of
the injected activity, at the scan times. Methods (formulas in ``docs/kinetics.md``):

- ``trapezoid``: trapezoid from ``f(0) = 0`` over the scans, then physical decay only after the
  last scan, ``f_last / lambda_phys`` (MIRD Pamphlet No. 16, Siegel et al., J Nucl Med 1999).
- ``mono-exponential`` ``A exp(-a t)``; ``bi-exponential`` ``A1 exp(-a1 t) + A2 exp(-a2 t)``, every
  rate at least ``lambda_phys`` (no activity that grows forever once decay is corrected for);
  ``patlak-model`` ``(p C_B(t) + q integral_0^t C_B) exp(-lambda_phys t)`` with the patient's blood
  input (irreversible uptake, no release after the last scan). Each is fitted by least squares on
  relative residuals; the one with the smallest corrected Akaike criterion is used (Glatting et al.,
  Med Phys 2007;34:4062-4070); a model is a candidate only when ``n > k + 1`` (AICc defined).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from immunopet.analysis.kinetics.blood import BloodInput

TRAPEZOID = "trapezoid"


@dataclass(frozen=True)
class TiacResult:
    """TIAC of one region: the selected value and every candidate's."""

    tiac_h: float
    method: str
    trapezoid_h: float
    tail_fraction: float
    candidates: dict[str, dict]

    def as_dict(self) -> dict:
        out = {"tiac_h": self.tiac_h, "method": self.method, "tiac_trapezoid_h": self.trapezoid_h,
               "tail_fraction": self.tail_fraction}
        for name, cand in self.candidates.items():
            key = name.replace("-", "_")
            out[f"tiac_{key}_h"] = cand["tiac_h"]
            out[f"aicc_{key}"] = cand["aicc"]
        return out


def aicc(rss: float, n: int, k: int) -> float:
    """Corrected Akaike criterion ``n ln(RSS/n) + 2k + 2k(k+1)/(n-k-1)``; ``nan`` when ``n <= k + 1``."""
    if n <= k + 1:
        return float("nan")
    return float(n * np.log(max(rss, 1e-300) / n) + 2 * k + 2 * k * (k + 1) / (n - k - 1))


def trapezoid_tail(hours: np.ndarray, fraction: np.ndarray, *, decay_per_h: float) -> tuple[float, float]:
    """Trapezoid from ``(0, 0)`` over the samples plus ``f_last / lambda``; returns (TIAC, tail share)."""
    t, f = np.r_[0.0, hours], np.r_[0.0, fraction]
    area = float(np.sum(np.diff(t) * (f[1:] + f[:-1]) / 2.0))
    tail = float(fraction[-1] / decay_per_h)
    total = area + tail
    return total, (tail / total if total > 0 else float("nan"))


def _exp_fit(t: np.ndarray, f: np.ndarray, n_terms: int, floor: float) -> tuple[np.ndarray, float] | None:
    """Sum of ``n_terms`` exponentials with rates above ``floor``; (params, RSS of relative residuals)."""
    scale = float(f.max())

    def model(p: np.ndarray) -> np.ndarray:
        amps, rates = p[0::2] * scale, floor + np.exp(p[1::2])
        return np.sum(amps[:, None] * np.exp(-rates[:, None] * t[None, :]), axis=0)

    slope = np.polyfit(t, np.log(f), 1)[0]
    base = np.log(max(-slope - floor, 1e-3))
    starts = [np.array([1.0, base])] if n_terms == 1 else [np.array([1.5, base + 2.0, -0.5, base]),
                                                           np.array([0.5, base + 1.0, 0.5, base - 0.5])]
    best = None
    for start in starts:
        try:
            fit = optimize.least_squares(lambda p: model(p) / f - 1.0, start, method="lm", max_nfev=4000)
        except (ValueError, FloatingPointError):
            continue
        if np.all(np.isfinite(fit.x)) and (best is None or fit.cost < best.cost):
            best = fit
    if best is None:
        return None
    return np.r_[best.x[0::2] * scale, floor + np.exp(best.x[1::2])], float(2.0 * best.cost)


def _exp_candidate(t: np.ndarray, f: np.ndarray, n_terms: int, decay_per_h: float) -> dict | None:
    k = 2 * n_terms
    if t.size <= k + 1 or np.any(f <= 0):
        return None
    found = _exp_fit(t, f, n_terms, decay_per_h)
    if found is None:
        return None
    p, rss = found
    amps, rates = p[:n_terms], p[n_terms:]
    tiac = float(np.sum(amps / rates))
    if not np.isfinite(tiac) or tiac <= 0:
        return None
    return {"tiac_h": tiac, "aicc": aicc(rss, t.size, k), "k": k, "rss": rss}


def _patlak_candidate(t: np.ndarray, f: np.ndarray, blood: BloodInput, decay_per_h: float) -> dict | None:
    if t.size <= 3 or np.any(f <= 0):
        return None
    decay = np.exp(-decay_per_h * t)
    design = np.column_stack([blood.value(t) * decay, blood.integral(t) * decay]) / f[:, None]
    coef, *_ = np.linalg.lstsq(design, np.ones_like(f), rcond=None)
    rss = float(np.sum((design @ coef - 1.0) ** 2))
    laplace = blood.laplace(decay_per_h)
    tiac = float(coef[0] * laplace + coef[1] * laplace / decay_per_h)
    if not np.isfinite(tiac) or tiac <= 0:
        return None
    return {"tiac_h": tiac, "aicc": aicc(rss, t.size, 2), "k": 2, "rss": rss}


def tiac(hours: np.ndarray, fraction: np.ndarray, *, decay_per_h: float, blood: BloodInput | None = None,
         fit: bool = True) -> TiacResult:
    """TIAC (h) of one region from its fraction of injected activity (not decay corrected) per scan.

    Parameters
    ----------
    hours
        Scan times after injection (h).
    fraction
        Activity in the region / injected activity, at each scan, physical decay included.
    decay_per_h
        ``ln 2 / T_half`` of the nuclide (1/h).
    blood
        The patient's blood input (enables the ``patlak-model`` candidate).
    fit
        Fit the models (else the trapezoid only).

    Raises
    ------
    ValueError
        No finite sample, or times not positive.
    """
    t, f = np.asarray(hours, dtype=np.float64), np.asarray(fraction, dtype=np.float64)
    ok = np.isfinite(t) & np.isfinite(f)
    t, f = t[ok], f[ok]
    if t.size == 0 or np.any(t <= 0):
        raise ValueError("TIAC needs at least one sample at a time > 0 h")
    order = np.argsort(t, kind="stable")
    t, f = t[order], np.maximum(f[order], 0.0)
    trap, tail = trapezoid_tail(t, f, decay_per_h=decay_per_h)
    candidates: dict[str, dict] = {}
    if fit:
        for name, cand in (("mono-exponential", _exp_candidate(t, f, 1, decay_per_h)),
                           ("bi-exponential", _exp_candidate(t, f, 2, decay_per_h)),
                           ("patlak-model", None if blood is None else _patlak_candidate(t, f, blood, decay_per_h))):
            if cand is not None and np.isfinite(cand["aicc"]):
                candidates[name] = cand
    if candidates:
        method = min(candidates, key=lambda name: candidates[name]["aicc"])
        return TiacResult(candidates[method]["tiac_h"], method, trap, tail, candidates)
    return TiacResult(trap, TRAPEZOID, trap, tail, candidates)
