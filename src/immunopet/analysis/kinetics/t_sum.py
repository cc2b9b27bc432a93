"""Quantiles of a sum of two independent scaled Student-t variables, ``a T_nu_a + b T_nu_b``.

The interval of an estimate whose error has two independent parts with separately estimated
variances, ``a^2`` on ``nu_a`` and ``b^2`` on ``nu_b`` degrees of freedom: the Behrens-Fisher form
(Fisher RA, *Ann Eugen* 1935;6:391-398). It is used instead of one Student t with Satterthwaite's
degrees of freedom, which fails when one part has one degree of freedom (a Patlak line through three
points): pooling in a little of a well-determined part would shrink ``t(0.975, 1) = 12.7`` towards 2
and the interval below the one part's own. By Anderson's theorem (Anderson TW, *Proc Am Math Soc*
1955;6:170-176) adding an independent symmetric unimodal error never narrows the interval, so the
result is at least ``t(nu_a) a`` and at least ``t(nu_b) b``.

``P(|a T_a + b T_b| <= h) = E_{T_b}[F_a((h - b T_b) / a) - F_a((-h - b T_b) / a)]``, the expectation
taken over ``K`` equally likely quantiles of ``T_b`` (midpoints), ``h`` found by bisection.
"""

from __future__ import annotations

import numpy as np
from scipy import special

#: Quantiles of ``T_b`` in the expectation.
N_NODES = 512
#: Bisection steps (the bracket shrinks 2^-40).
N_STEPS = 40


def sum_t_half_width(a: np.ndarray, nu_a: np.ndarray, b: np.ndarray, nu_b: np.ndarray,
                     level: float) -> np.ndarray:
    """``h`` with ``P(|a T_nu_a + b T_nu_b| <= h) = level``, elementwise (``a, b >= 0``)."""
    a, b, nu_a, nu_b = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, nu_a, nu_b)))
    upper = 0.5 + level / 2.0
    only_a = special.stdtrit(nu_a, upper) * a
    only_b = special.stdtrit(nu_b, upper) * b
    both = (a > 0) & (b > 0) & np.isfinite(a) & np.isfinite(b)
    out = np.where(b > 0, only_b, only_a)
    out = np.where(a > 0, np.maximum(out, only_a), out)
    finite = np.isfinite(a) & np.isfinite(b)  # a non-finite part: no interval, whatever the other rows
    if not both.any():
        return np.where(finite, out, np.nan)
    sa, sb, na = a[both][:, None], b[both][:, None], nu_a[both][:, None]
    nodes = special.stdtrit(nu_b[both][:, None], (np.arange(N_NODES) + 0.5) / N_NODES)
    lo = np.maximum(only_a[both], only_b[both])
    wide = 1.0 - (1.0 - level) / 4.0  # each part at 1 - alpha/2: the union bound gives at least ``level``
    hi = special.stdtrit(nu_a[both], wide) * a[both] + special.stdtrit(nu_b[both], wide) * b[both]
    for _ in range(N_STEPS):
        h = (lo + hi)[:, None] / 2.0
        p = np.mean(special.stdtr(na, (h - sb * nodes) / sa) - special.stdtr(na, (-h - sb * nodes) / sa), axis=1)
        low = p < level
        mid = (lo + hi) / 2.0
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
    out = out.copy()
    out[both] = (lo + hi) / 2.0
    return np.where(finite, out, np.nan)
