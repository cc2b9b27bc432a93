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
#: A bi-exponential that misses a sample by more than this share of its value is not used.
MAX_RELATIVE_RESIDUAL = 0.5
#: Largest fast rate (1/h) of an accepted bi-exponential.
MAX_RATE = 50.0
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


def fit_biexp(hours: np.ndarray, values: np.ndarray) -> tuple[float, float, float, float] | None:
    """Least-squares bi-exponential on relative residuals; ``None`` when it does not converge.

    Parameters are searched on the log scale (amplitudes and rates positive); starting values come
    from a mono-exponential through the later half of the samples and one through what is left of
    the early ones ("curve stripping").
    """
    t, y = np.asarray(hours, float), np.asarray(values, float)
    if t.size < 4:
        return None
    late = t >= np.median(t)
    slope, intercept = np.polyfit(t[late], np.log(y[late]), 1)
    k2 = max(-slope, 1e-4)
    a2 = float(np.exp(intercept))
    rest = y - a2 * np.exp(-k2 * t)
    early = (~late) & (rest > 0)
    if early.sum() >= 1 and rest[early].max() > 0:
        k1 = max(k2 * 5.0, 0.05)
        a1 = float(rest[early].max() * np.exp(k1 * t[early][np.argmax(rest[early])]))
    else:
        k1, a1 = k2 * 5.0, 0.1 * a2

    def residuals(p: np.ndarray) -> np.ndarray:
        a1_, k1_, a2_, k2_ = np.exp(p)
        return (a1_ * np.exp(-k1_ * t) + a2_ * np.exp(-k2_ * t)) / y - 1.0

    best = None
    for start in (np.log([a1, k1, a2, k2]), np.log([0.5 * y.max(), 0.2, 0.5 * y.max(), k2])):
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                fit = optimize.least_squares(residuals, start, method="lm", xtol=1e-12, ftol=1e-12, max_nfev=4000)
        except (ValueError, FloatingPointError):
            continue
        if fit.success and np.all(np.isfinite(fit.x)) and (best is None or fit.cost < best.cost):
            best = fit
    if best is None:
        return None
    with np.errstate(over="ignore"):
        a1_, k1_, a2_, k2_ = np.exp(best.x)
    if k1_ < k2_:
        a1_, k1_, a2_, k2_ = a2_, k2_, a1_, k1_
    with np.errstate(over="ignore", invalid="ignore"):
        worst = float(np.max(np.abs(residuals(best.x))))
    if not np.all(np.isfinite([a1_, k1_, a2_, k2_])) or k1_ > MAX_RATE or not worst <= MAX_RELATIVE_RESIDUAL:
        return None
    return float(a1_), float(k1_), float(a2_), float(k2_)


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
