"""The blood input of the kinetic analyses: a curve over time that starts at injection.

Patlak's x-axis needs ``integral_0^t C_B(s) ds``, from the moment of injection, not from the first
scan (the error of UCL/STIR issue 703). Two ways to get the curve between and before the samples,
both documented in ``docs/kinetics.md``:

``biexp`` (default)
    ``C_B(t) = a1 exp(-k1 t) + a2 exp(-k2 t)`` fitted to all blood points (at least four) by least
    squares on relative residuals, ``sum ((model - y) / y)^2`` (constant coefficient of variation).
    The integral is the model's, from 0. Used for the whole curve: the trapezoid between a 1 h and a
    48 h sample would overestimate the fast phase several-fold.
``loglinear``
    Exponential interpolation between consecutive samples (``(c1 - c2) dt / ln(c1 / c2)``, linear
    when ``c1 == c2``); before the first sample the mono-exponential through the first two samples
    is extrapolated back to injection, or, when ``start_value`` is given, the exponential from
    ``(0, start_value)`` to the first sample. Beyond the last sample the last segment continues.

All values are decay corrected to injection and in one unit (SUV for the image-derived input).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

METHODS = ("biexp", "loglinear")
#: Samples closer than this (hours: one minute) are one sample (their mean).
SAME_TIME_H = 1.0 / 60.0
#: A bi-exponential that misses a sample by more than this (relative) is not used.
MAX_RELATIVE_RESIDUAL = 0.1
#: A back-extrapolated start value above this multiple of the first sample is not believed.
MAX_BACK_EXTRAPOLATION = 20.0


@dataclass(frozen=True)
class BloodInput:
    """A blood curve from injection on, with its integral.

    Attributes
    ----------
    method
        ``"biexp"`` or ``"loglinear"`` (see the module docstring).
    hours, values
        The samples it was built from (hours after injection, decay-corrected concentration).
    params
        ``biexp``: ``(a1, k1, a2, k2)`` (k in 1/h, ``k1 >= k2``); ``loglinear``: empty.
    start_value
        The concentration assumed at injection (``loglinear`` only; ``None``: back-extrapolated).
    note
        Why this method was used when another was asked for (empty otherwise).
    """

    method: str
    hours: np.ndarray
    values: np.ndarray
    params: tuple[float, ...] = ()
    start_value: float | None = None
    note: str = ""
    _knots: tuple[np.ndarray, np.ndarray] = field(default=(np.zeros(0), np.zeros(0)), repr=False)

    def value(self, t: np.ndarray | float) -> np.ndarray:
        """Concentration at ``t`` hours after injection."""
        t = np.asarray(t, dtype=np.float64)
        if self.method == "biexp":
            a1, k1, a2, k2 = self.params
            return a1 * np.exp(-k1 * t) + a2 * np.exp(-k2 * t)
        x, y = self._knots
        seg = np.clip(np.searchsorted(x, t, side="right") - 1, 0, len(x) - 2)
        rate = _rates(x, y)[seg]
        return y[seg] * np.exp(-rate * (t - x[seg]))

    def integral(self, t: np.ndarray | float) -> np.ndarray:
        """``integral_0^t C_B(s) ds`` (concentration x hours)."""
        t = np.asarray(t, dtype=np.float64)
        if self.method == "biexp":
            a1, k1, a2, k2 = self.params
            return a1 * _one_minus_exp_over(k1, t) + a2 * _one_minus_exp_over(k2, t)
        x, y = self._knots
        rates = _rates(x, y)
        pieces = np.r_[0.0, np.cumsum(_segment_area(y[:-1], rates, np.diff(x)))]
        seg = np.clip(np.searchsorted(x, t, side="right") - 1, 0, len(x) - 2)
        return pieces[seg] + _segment_area(y[seg], rates[seg], t - x[seg])

    def laplace(self, rate: float) -> float:
        """``integral_0^inf C_B(t) exp(-rate t) dt`` (the curve continued beyond the last sample)."""
        if self.method == "biexp":
            a1, k1, a2, k2 = self.params
            return float(a1 / (k1 + rate) + a2 / (k2 + rate))
        x, y = self._knots
        rates = _rates(x, y)
        starts = y[:-1] * np.exp(-rate * x[:-1])
        pieces = _segment_area(starts[:-1], rates[:-1] + rate, np.diff(x)[:-1]).sum()
        last = rates[-1] + rate
        return float(pieces + starts[-1] / last) if last > 0 else float("inf")

    def early_fraction(self, t: float) -> float:
        """Share of ``integral_0^t`` that lies before the first sample (the part a scan-only integral misses)."""
        total = float(self.integral(t))
        return float(self.integral(float(self.hours.min()))) / total if total > 0 else float("nan")

    def as_dict(self) -> dict:
        out = {"method": self.method, "n_samples": int(self.hours.size), "note": self.note or None,
               "start_value": self.start_value}
        if self.method == "biexp":
            a1, k1, a2, k2 = self.params
            out.update(a1=a1, half_life1_h=np.log(2) / k1 if k1 > 0 else None, a2=a2,
                       half_life2_h=np.log(2) / k2 if k2 > 0 else None)
        return out


def _one_minus_exp_over(k: float, t: np.ndarray) -> np.ndarray:
    """``(1 - exp(-k t)) / k``, equal to ``t`` in the limit ``k -> 0``."""
    return -np.expm1(-k * t) / k if abs(k) > 1e-12 else np.asarray(t, dtype=np.float64)


def _rates(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exponential rate of each segment between knots (0 for equal values)."""
    return np.log(y[:-1] / y[1:]) / np.diff(x)


def _segment_area(c0: np.ndarray, rate: np.ndarray, dt: np.ndarray) -> np.ndarray:
    """``integral_0^dt c0 exp(-rate s) ds`` elementwise, linear in the limit ``rate -> 0``."""
    c0, rate, dt = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (c0, rate, dt)))
    small = np.abs(rate * dt) < 1e-9
    safe = np.where(small, 1.0, rate)
    return np.where(small, c0 * dt, c0 * -np.expm1(-safe * dt) / safe)


def _check(hours: np.ndarray, values: np.ndarray) -> None:
    if hours.shape != values.shape or hours.ndim != 1 or hours.size == 0:
        raise ValueError("blood hours and values must be 1-D arrays of one length")
    if not (np.all(np.isfinite(hours)) and np.all(np.isfinite(values))):
        raise ValueError("blood samples must be finite")
    if np.any(hours <= 0) or np.any(values <= 0):
        raise ValueError("blood samples need times > 0 h after injection and values > 0")


#: Rates (1/h) searched for the starting point of the bi-exponential fit.
RATE_GRID = np.geomspace(1e-4, 20.0, 90)


def _grid_start(t: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Best ``(log(k1 - k2), log k2)`` over :data:`RATE_GRID` pairs, amplitudes solved in closed form."""
    k1, k2 = np.meshgrid(RATE_GRID, RATE_GRID, indexing="ij")
    keep = k1 > k2 * 1.05
    k1, k2 = k1[keep], k2[keep]
    e1 = np.exp(-np.outer(k1, t)) / y  # (pairs, n): relative basis
    e2 = np.exp(-np.outer(k2, t)) / y
    s11, s12, s22 = (e1 * e1).sum(1), (e1 * e2).sum(1), (e2 * e2).sum(1)
    b1, b2 = e1.sum(1), e2.sum(1)
    det = s11 * s22 - s12 * s12
    ok = det > 1e-300
    with np.errstate(divide="ignore", invalid="ignore"):
        a1 = np.where(ok, (s22 * b1 - s12 * b2) / det, np.nan)
        a2 = np.where(ok, (s11 * b2 - s12 * b1) / det, np.nan)
        rss = ((a1[:, None] * e1 + a2[:, None] * e2 - 1.0) ** 2).sum(1)
    rss = np.where((a1 > 0) & (a2 > 0) & np.isfinite(rss), rss, np.inf)
    if not np.isfinite(rss).any():
        return None
    best = int(np.argmin(rss))
    return np.array([np.log(k1[best] - k2[best]), np.log(k2[best])])


def fit_biexp(hours: np.ndarray, values: np.ndarray) -> tuple[float, float, float, float] | None:
    """Least-squares bi-exponential on relative residuals; ``None`` when no fit with positive terms exists.

    Variable projection (Golub & Pereyra, SIAM J Numer Anal 1973): for given rates the two
    amplitudes are a linear least-squares problem, so only the two rates (``k2 = exp(q2)``,
    ``k1 = k2 + exp(q1)``) are searched by Levenberg-Marquardt from the best pair of a rate grid
    (amplitudes in closed form, both positive) and from curve-stripping starts (the late samples'
    slope with fast rates 0.05, 0.2, 1 /h); the lowest residual with both amplitudes positive wins.
    """
    t, y = np.asarray(hours, float), np.asarray(values, float)
    if t.size < 4:
        return None
    def amplitudes(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        k2 = np.exp(q[1])
        rates = np.array([k2 + np.exp(q[0]), k2])
        e1, e2 = np.exp(-rates[0] * t) / y, np.exp(-rates[1] * t) / y
        s11, s12, s22, b1, b2 = e1 @ e1, e1 @ e2, e2 @ e2, e1.sum(), e2.sum()
        det = s11 * s22 - s12 * s12
        amps = np.array([s22 * b1 - s12 * b2, s11 * b2 - s12 * b1]) / det
        return amps, rates, amps[0] * e1 + amps[1] * e2 - 1.0

    late = t >= np.median(t)
    k_late = max(-np.polyfit(t[late], np.log(y[late]), 1)[0], 1e-4)
    starts = [np.array([np.log(max(fast - k_late, 1e-3)), np.log(k_late)]) for fast in (0.05, 0.2, 1.0)]
    grid = _grid_start(t, y)
    if grid is not None:
        starts.insert(0, grid)
    best, best_cost = None, np.inf
    for start in starts:
        try:
            with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
                refined = optimize.least_squares(lambda q: amplitudes(q)[2], start, method="lm", xtol=1e-12,
                                                 ftol=1e-12, max_nfev=200)
        except (ValueError, FloatingPointError):
            continue
        for q in (refined.x, start):  # the refined point, else where it started
            if not np.all(np.isfinite(q)):
                continue
            with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
                amps, rates, resid = amplitudes(q)
            cost = float(resid @ resid)
            if (np.all(np.isfinite(amps)) and np.all(amps > 0) and rates[0] <= 50.0 and np.max(np.abs(resid)) <= MAX_RELATIVE_RESIDUAL
                    and cost < best_cost):
                best, best_cost = (amps, rates), cost
                break
    if best is None:
        return None
    amps, rates = best
    return float(amps[0]), float(rates[0]), float(amps[1]), float(rates[1])


def blood_input(hours: np.ndarray, values: np.ndarray, *, method: str = "biexp",
                start_value: float | None = None) -> BloodInput:
    """The blood curve of one patient from its samples (see the module docstring).

    Parameters
    ----------
    hours
        Sample times, hours after injection (> 0; sorted here).
    values
        Decay-corrected concentrations (> 0).
    method
        ``"biexp"``: falls back to ``"loglinear"`` (with a ``note``) when there are fewer than four
        samples or the fit does not converge. ``"loglinear"``: exponential interpolation.
    start_value
        Concentration at injection for ``"loglinear"`` (e.g. the injected activity over the blood
        volume); ``None`` extrapolates the first two samples back.

    Raises
    ------
    ValueError
        Samples not finite, not positive, of unequal length, or fewer than two.
    """
    if method not in METHODS:
        raise ValueError(f"unknown blood input method {method!r}: use {' or '.join(METHODS)}")
    t, y = np.asarray(hours, dtype=np.float64).ravel(), np.asarray(values, dtype=np.float64).ravel()
    _check(t, y)
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    if np.any(np.diff(t) < SAME_TIME_H):  # samples within a minute of each other: one sample, their mean
        group = np.r_[0, np.cumsum(np.diff(t) >= SAME_TIME_H)]
        counts = np.bincount(group)
        t, y = np.bincount(group, weights=t) / counts, np.bincount(group, weights=y) / counts
    if t.size < 2 and start_value is None:
        raise ValueError("a blood curve needs at least two samples (or one and a start value)")
    note = ""
    if method == "biexp":
        params = fit_biexp(t, y)
        if params is not None:
            return BloodInput("biexp", t, y, params)
        note = ("fewer than 4 blood samples" if t.size < 4 else "bi-exponential fit did not converge") + \
            ": exponential interpolation used"
    if start_value is not None:
        if not (np.isfinite(start_value) and start_value > 0):
            raise ValueError("the blood start value must be a positive number")
        x, c = np.r_[0.0, t], np.r_[start_value, y]
    else:
        rate = np.log(y[0] / y[1]) / (t[1] - t[0])
        with np.errstate(over="ignore"):
            start = y[0] * np.exp(rate * t[0])
        if not (np.isfinite(start) and start <= MAX_BACK_EXTRAPOLATION * y[0]):
            start = y[0]
            note = (note + "; " if note else "") + (
                f"back-extrapolation to injection above {MAX_BACK_EXTRAPOLATION:g}x the first sample: "
                "the first sample's value held from injection instead")
        x, c = np.r_[0.0, t], np.r_[start, y]
    return BloodInput("loglinear", t, y, (), start_value, note, (x, c))
