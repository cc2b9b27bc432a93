"""Combining a fit's own variance with the variance between fits on drawn inputs (Rubin's rules).

Rubin DB. *Multiple Imputation for Nonresponse in Surveys.* New York: Wiley; 1987 (ch. 3): with
``m`` analyses on ``m`` drawn inputs, within-fit variance ``W`` and estimates ``Q_d``, the total
variance is ``T = W + (1 + 1/m) B``, ``B`` the sample variance of the ``Q_d``.

The interval. Rubin's t with ``(m - 1)(1 + 1/r)^2`` degrees of freedom assumes a within-fit variance
known almost exactly; a Patlak line through three points estimates it on one degree of freedom, and
a Satterthwaite-type single t (Barnard J, Rubin DB, *Biometrika* 1999;86:948-955) then swings
between 12.7 and 2. So the two parts keep their own degrees of freedom and the half-width is the
quantile of ``sqrt(W) T_nu_W + sqrt((1 + 1/m) B) T_nu_B`` (``t_sum.py``): ``nu_W`` the fit's
``n - 2``; ``nu_B`` from the Monte-Carlo error of ``m`` draws (``m - 1``) and the degrees of freedom
of the noise estimate that scales the draws, ``1 / (1/(m - 1) + 1/df_noise)``. The interval is never
narrower than the within-fit one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from immunopet.analysis.kinetics.t_sum import sum_t_half_width


@dataclass(frozen=True)
class Combined:
    """Per estimate: the within-fit and between-draw variances, the total, and both parts' degrees of freedom."""

    within: np.ndarray
    between: np.ndarray
    total: np.ndarray
    df_within: np.ndarray
    df_between: np.ndarray
    m: int

    def half_width(self, level: float) -> np.ndarray:
        """Half-width of the ``level`` interval (module docstring)."""
        return sum_t_half_width(np.sqrt(self.within), self.df_within, np.sqrt(self.total - self.within),
                                self.df_between, level)


def combine(within: np.ndarray, estimates: np.ndarray, *, df_within: np.ndarray | float,
            df_noise: np.ndarray | float = np.inf) -> Combined:
    """Rubin's total variance of ``m`` draws (axis 0 of ``estimates``) about a fit with variance ``within``.

    Parameters
    ----------
    within
        The within-fit variance of each estimate (shape of ``estimates[0]``).
    estimates
        The ``m >= 2`` estimates on the drawn inputs.
    df_within
        Degrees of freedom of ``within`` (``n - 2`` for a line).
    df_noise
        Degrees of freedom of the noise variance that scaled the draws (``inf``: known).
    """
    q = np.asarray(estimates, dtype=np.float64)
    m = q.shape[0]
    if m < 2:
        raise ValueError("Rubin's rules need at least two draws")
    w = np.asarray(within, dtype=np.float64)
    b = q.var(axis=0, ddof=1)
    total = w + (1.0 + 1.0 / m) * b
    df_w = np.broadcast_to(np.asarray(df_within, dtype=np.float64), total.shape)
    df_b = np.broadcast_to(1.0 / (1.0 / (m - 1) + 1.0 / np.asarray(df_noise, dtype=np.float64)), total.shape)
    return Combined(w, b, total, df_w, df_b, m)
