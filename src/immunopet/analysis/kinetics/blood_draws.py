"""Blood curves drawn from the uncertainty of the blood points: a parametric bootstrap of the input.

Each draw perturbs the patient's blood points about the fitted curve by their relative standard
errors (log-normal, mean preserving, ``v exp(s e - s^2/2)``, ``e`` standard normal; for errors of a
few per cent this is the Gaussian of the scanner model, and it keeps every value positive), then
builds the curve again by the rules of ``blood.py``: the bi-exponential is refitted (the same
objective, relative residuals, started from the patient's fit and solved for all draws at once by
Levenberg-Marquardt); a draw whose refit fails the checks of ``fit_biexp`` gets ``blood_input``'s
fallback, exponential interpolation, as a patient would (without ``fit_biexp``'s own restarts,
which would cost some 30 ms a draw). A ``loglinear`` curve is interpolated again for every draw.
Efron B, Tibshirani RJ. *An Introduction to the Bootstrap.* Chapman & Hall; 1993 (ch. 6).
"""

from __future__ import annotations

import numpy as np

from immunopet.analysis.kinetics.blood import MAX_RATE, MAX_RELATIVE_RESIDUAL, BloodInput, blood_input

#: Levenberg-Marquardt steps of a refit at most (from the patient's fit a few usually suffice).
MAX_ITERATIONS = 100


def point_rel_sd(hours: np.ndarray, values: np.ndarray, *, volume_ml: float, noise: float,
                 decay_per_h: float) -> np.ndarray:
    """Relative standard error of a blood-VOI mean from counting statistics.

    The model of the Patlak weights (``count_weights``): relative variance ``noise x exp(lambda t) /
    (C V)``, with ``noise`` the patient's common factor (estimated from the tissue residuals).
    """
    t, c = np.asarray(hours, dtype=np.float64), np.asarray(values, dtype=np.float64)
    return np.sqrt(noise * np.exp(decay_per_h * t) / (np.maximum(c, 1e-12) * volume_ml))


def _biexp_terms(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relative residuals ``(m, k)`` and their Jacobian ``(m, k, 4)`` in the log parameters."""
    a1, k1, a2, k2 = (v[:, None] for v in np.exp(p).T)
    e1, e2 = np.exp(-k1 * t), np.exp(-k2 * t)
    r = (a1 * e1 + a2 * e2) / y - 1.0
    jac = np.stack([a1 * e1, -a1 * k1 * t * e1, a2 * e2, -a2 * k2 * t * e2], axis=-1) / y[..., None]
    return r, jac


def refit_biexp(hours: np.ndarray, values: np.ndarray, start: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Bi-exponential of every row of ``values`` ``(m, k)``; returns ``(params (m, 4), accepted (m,))``.

    Minimises ``sum ((model - y) / y)^2`` like ``fit_biexp``, on the log parameters, from ``start``,
    by Levenberg-Marquardt with Nielsen's damping update (Madsen K, Nielsen HB, Tingleff O, *Methods
    for Non-Linear Least Squares Problems*, DTU 2004, sec. 3.2), for all rows at once, at most
    ``MAX_ITERATIONS`` steps (like ``fit_biexp``'s evaluation budget: a curve whose fast phase the
    values hardly fix moves along its valley only that far). ``accepted`` is what ``fit_biexp``
    would accept: finite, fast rate at most 50/h, no value missed by more than 50 %.
    """
    t = np.asarray(hours, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    m = y.shape[0]
    p = np.tile(np.log(np.asarray(start, dtype=np.float64)), (m, 1))
    eye = np.eye(4)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r, jac = _biexp_terms(p, t, y)
        cost = np.sum(r**2, axis=1)
        damping, nu = np.full(m, 1e-3), np.full(m, 2.0)
        done = ~np.isfinite(cost)
        for _ in range(MAX_ITERATIONS):
            act = np.flatnonzero(~done)
            if not act.size:
                break
            ra, ja = r[act], jac[act]
            grad = np.einsum("mki,mk->mi", ja, ra)
            hess = np.einsum("mki,mkj->mij", ja, ja)
            scale = np.maximum(np.einsum("mii->mi", hess), 1e-30)
            lhs = hess + (damping[act, None] * scale)[:, :, None] * eye
            ok = np.all(np.isfinite(lhs), axis=(1, 2)) & np.all(np.isfinite(grad), axis=1)
            step = np.zeros((act.size, 4))
            if ok.any():
                step[ok] = -np.linalg.solve(lhs[ok], grad[ok][..., None])[..., 0]
            trial = p[act] + step
            r_new, j_new = _biexp_terms(trial, t, y[act])
            c_new = np.sum(r_new**2, axis=1)
            predicted = -np.einsum("mi,mi->m", step, 2.0 * grad + np.einsum("mij,mj->mi", hess, step))
            rho = (cost[act] - c_new) / np.where(predicted > 0, predicted, np.inf)
            better = ok & np.isfinite(c_new) & (c_new < cost[act])
            b, w = act[better], act[~better]
            p[b], r[b], jac[b], cost[b] = trial[better], r_new[better], j_new[better], c_new[better]
            damping[b] *= np.maximum(1.0 / 3.0, 1.0 - (2.0 * np.clip(rho[better], 0.0, 1.0) - 1.0) ** 3)
            nu[b] = 2.0
            damping[w] *= nu[w]
            nu[w] *= 2.0
            small = np.max(np.abs(step), axis=1) < 1e-10
            done[act] = (cost[act] < 1e-24) | (better & small) | (nu[act] > 1e10)
        params = np.exp(p)
        swap = params[:, 1] < params[:, 3]
        params[swap] = params[swap][:, [2, 3, 0, 1]]
        worst = np.max(np.abs(r), axis=1)
        accepted = (np.all(np.isfinite(params), axis=1) & (params[:, 1] <= MAX_RATE)
                    & (worst <= MAX_RELATIVE_RESIDUAL))
    return params, accepted


def _area(k: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``(1 - exp(-k t)) / k``, ``t`` in the limit ``k -> 0``."""
    small = np.abs(k) < 1e-12
    return np.where(small, t, -np.expm1(-k * t) / np.where(small, 1.0, k))


class CurveDraws:
    """``m`` blood curves drawn about ``curve`` (module docstring); ``value``/``integral`` give ``(m, *t.shape)``."""

    def __init__(self, curve: BloodInput, rel_sd: np.ndarray, m: int, rng: np.random.Generator, *,
                 start_value: float | None = None) -> None:
        t = curve.hours
        centre = curve.value(t)
        s = np.broadcast_to(np.asarray(rel_sd, dtype=np.float64), t.shape)
        values = centre * np.exp(s * rng.standard_normal((m, t.size)) - s**2 / 2.0)
        self.m = m
        self.values = values
        self.params = np.full((m, 4), np.nan)
        self.others: dict[int, BloodInput] = {}
        if curve.method == "biexp":
            params, accepted = refit_biexp(t, values, curve.params)
            self.params[accepted] = params[accepted]
            rest = np.flatnonzero(~accepted)
        else:
            rest = np.arange(m)
        for d in rest:
            self.others[int(d)] = blood_input(t, values[d], method="loglinear", start_value=start_value)
        self._biexp = np.flatnonzero(np.isfinite(self.params[:, 0]))

    def _evaluate(self, t: np.ndarray, integral: bool) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        out = np.empty((self.m, *t.shape))
        if self._biexp.size:
            a1, k1, a2, k2 = (v.reshape((-1,) + (1,) * t.ndim) for v in self.params[self._biexp].T)
            if integral:
                out[self._biexp] = a1 * _area(k1, t) + a2 * _area(k2, t)
            else:
                out[self._biexp] = a1 * np.exp(-k1 * t) + a2 * np.exp(-k2 * t)
        for d, other in self.others.items():
            out[d] = other.integral(t) if integral else other.value(t)
        return out

    def value(self, t: np.ndarray) -> np.ndarray:
        """Concentration of every draw at ``t``."""
        return self._evaluate(t, integral=False)

    def integral(self, t: np.ndarray) -> np.ndarray:
        """``integral_0^t C_B`` of every draw."""
        return self._evaluate(t, integral=True)
