"""Linear mixed models with a random intercept per patient (statsmodels MixedLM), reported honestly.

Convergence warnings and boundary fits are caught and recorded, never hidden; a model that cannot be
fitted returns a record with its reason instead of raising.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from immunopet.analysis.record import Notes, clean, not_run, stat


def categorical_terms(data: pd.DataFrame, columns: list[str], *, notes: Notes, analysis: str) -> list[str]:
    """``C(column)`` terms for the columns with at least two levels; the others are dropped with a note."""
    terms = []
    for column in columns:
        if data[column].nunique() >= 2:
            terms.append(f"C({column})")
        else:
            notes.warn(analysis, f"only one {column} present: term left out of the model")
    return terms


def fit_mixed(data: pd.DataFrame, *, response: str, terms: list[str], group: str, inputs: str, notes: Notes,
              analysis: str, ci_level: float, focus: str | None = None, nested: str | None = None,
              reml: bool = True) -> dict:
    """Fit ``response ~ terms + (1 | group)`` (``+ (1 | group:nested)``) by REML and report it.

    Parameters
    ----------
    data
        One row per observation, with ``response``, the term columns and ``group``.
    focus
        Name of the fixed effect whose estimate/CI/p become the record's headline (default: none).
    nested
        Column naming a unit within the group (a lesion within a patient) measured repeatedly: a
        second random intercept as a statsmodels variance component (``vc_formula``).

    Returns
    -------
    dict
        Stat record (``n`` observations, ``n_groups``) with ``fixed_effects`` (term, estimate, se,
        ci_low, ci_high, p_value), ``group_variance``, ``residual_variance``, ``icc`` (group variance
        / total), ``converged`` and ``convergence_warnings``; with ``nested`` also
        ``nested_variance``, ``n_nested`` and ``icc_nested`` ((group + nested) / total: the
        correlation of two measurements of the same unit).
    """
    formula = f"{response} ~ " + (" + ".join(terms) if terms else "1")
    n, n_groups = len(data), int(data[group].nunique()) if len(data) else 0
    if n_groups < 2 or n <= n_groups:
        notes.warn(analysis, f"{n} observation(s) in {n_groups} patient(s): too few for a mixed model")
        return not_run("linear mixed model", inputs=inputs, n=n, reason="too few patients or observations",
                       n_groups=n_groups, formula=formula)
    vc = {"nested": f"0 + C({nested})"} if nested else None
    model = smf.mixedlm(formula, data, groups=data[group], re_formula="1", vc_formula=vc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(reml=reml)
        except (np.linalg.LinAlgError, ValueError) as failed:
            notes.warn(analysis, f"mixed model could not be fitted: {failed}")
            return not_run("linear mixed model", inputs=inputs, n=n, reason=str(failed), n_groups=n_groups,
                           formula=formula)
    messages = sorted({str(w.message).splitlines()[0] for w in caught
                       if issubclass(w.category, (ConvergenceWarning, RuntimeWarning, UserWarning))})
    for message in messages:
        notes.warn(analysis, f"statsmodels: {message}")
    if not fit.converged:
        notes.warn(analysis, "the optimiser reports no convergence; estimates are unreliable")
    ci = fit.conf_int(alpha=1.0 - ci_level)
    fixed = [{"term": term, "estimate": float(fit.fe_params[term]), "se": float(fit.bse_fe[term]),
              "ci_low": float(ci.loc[term, 0]), "ci_high": float(ci.loc[term, 1]),
              "p_value": float(fit.pvalues[term])} for term in fit.fe_params.index]
    group_var = float(fit.cov_re.iloc[0, 0])
    resid_var = float(fit.scale)
    nested_var = float(fit.vcomp[0]) if nested else 0.0
    total = group_var + nested_var + resid_var
    icc = group_var / total if total > 0 else np.nan
    extra = {} if not nested else {"nested": nested, "nested_variance": nested_var, "n_nested": int(data[nested].nunique()),
                                   "icc_nested": (group_var + nested_var) / total if total > 0 else np.nan}
    if group_var <= 1e-8:
        notes.warn(analysis, "patient variance estimated at the boundary (zero): ICC is 0")
    head = next((f for f in fixed if f["term"] == focus), None)
    return stat("linear mixed model", inputs=inputs, n=n,
                estimate=None if head is None else head["estimate"],
                estimate_label=None if head is None else focus,
                ci=None if head is None else (head["ci_low"], head["ci_high"]),
                ci_level=ci_level, p_value=None if head is None else head["p_value"],
                method=f"statsmodels MixedLM, {'REML' if reml else 'ML'}, random intercept per patient"
                       + (f" and per {nested} within patient (variance component)" if nested else "") + "; Wald CI and p",
                n_groups=n_groups, formula=formula + f" + (1 | {group})" + (f" + (1 | {group}:{nested})" if nested else ""),
                fixed_effects=clean(fixed), log_likelihood=float(fit.llf), **extra,
                group_variance=group_var, residual_variance=resid_var, icc=icc, converged=bool(fit.converged),
                convergence_warnings=messages)


def fixed_effects_table(record: dict, model: str) -> pd.DataFrame:
    """The record's fixed effects as a table with the model's n (observations) and patients."""
    rows = record.get("fixed_effects") or []
    sizes = {"n": record.get("n"), "n_patients": record.get("n_groups")}
    return pd.DataFrame([{"model": model, **sizes, **r} for r in rows],
                        columns=["model", "n", "n_patients", "term", "estimate", "se", "ci_low", "ci_high", "p_value"])
