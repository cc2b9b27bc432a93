"""Survival analyses on the patient table (lifelines): Kaplan-Meier split, log-rank test, Cox models.

An endpoint ``e`` (``pfs``, ``os``) is the pair of columns ``<e>_months`` and ``<e>_event``
(1 = event, 0 = censored), as in ``patients.csv``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning
from lifelines.statistics import logrank_test
from lifelines.utils import median_survival_times

from immunopet.analysis.cox_checks import concordance_interval, lr_test, null_log_likelihood, schoenfeld_test
from immunopet.analysis.record import Notes, clean, not_run, stat

ENDPOINTS = {"pfs": "progression-free survival", "os": "overall survival"}


def endpoint_data(table: pd.DataFrame, endpoint: str, columns: Sequence[str]) -> pd.DataFrame:
    """Rows with a duration, an event flag and every one of ``columns``; renamed to ``T``, ``E``."""
    needed = [f"{endpoint}_months", f"{endpoint}_event", *columns]
    if any(c not in table.columns for c in needed):
        return pd.DataFrame(columns=["T", "E", *columns])
    data = table[needed].apply(pd.to_numeric, errors="coerce").dropna()
    data = data[data[f"{endpoint}_months"] >= 0]
    return data.rename(columns={f"{endpoint}_months": "T", f"{endpoint}_event": "E"}).astype(float)


def cox_fit(table: pd.DataFrame, *, endpoint: str, covariates: Sequence[str], log2: Sequence[str] = (),
            strata: Sequence[str] = (), ci_level: float = 0.95, notes: Notes | None = None, analysis: str = "cox",
            min_events_per_covariate: int = 10, n_boot: int = 0, seed: int = 0, checks: bool = True,
            first_given_rest: bool = True, reduced: dict | None = None) -> dict:
    """Cox proportional-hazards model of ``endpoint`` on ``covariates`` (:class:`lifelines.CoxPHFitter`).

    Parameters
    ----------
    table
        Patient table with ``<endpoint>_months``, ``<endpoint>_event`` and the covariate columns.
    covariates
        Columns entered as they are (per unit) ...
    log2
        ... except these, entered as log2 (hazard ratio per doubling; values must be > 0).
    strata
        Columns whose levels get their own baseline hazard (stratified Cox; e.g. tumour type).
    min_events_per_covariate
        Fewer events per covariate than this records a warning (the model is still fitted).
    n_boot, seed
        Bootstrap resamples of the C-index interval (0: no interval).
    checks
        Run the Schoenfeld test and the C-index (off: likelihood-ratio tests only, for nested tests).
    first_given_rest
        Compute ``lr_p_first`` (off: not needed).
    reduced
        The record of this model without its first covariate (e.g. the caller's own adjusted model):
        its log-likelihood gives ``lr_p_first`` when it was fitted on as many patients; otherwise the
        model is refitted without the first covariate on this model's patients.

    Returns
    -------
    dict
        Stat record of the first covariate (estimate = hazard ratio, ``p_value`` = Wald) with
        ``events``, ``strata``, ``lr_chi2``/``lr_df``/``lr_p`` (the model against no covariates,
        within the strata), ``lr_p_first`` (likelihood-ratio p of the first covariate given the
        others), ``ph_test_p`` (Schoenfeld test of the first covariate), ``ph_test_p_by_covariate``,
        ``concordance`` with ``concordance_ci_low``/``high`` and ``coefficients``: one entry per
        covariate with ``coef, se, hazard_ratio, ci_low, ci_high, p_value, scale``. Ties are
        handled by Efron's method (lifelines' default).
    """
    notes = notes if notes is not None else Notes()
    covariates = list(covariates)
    label = "hazard ratio per doubling" if covariates and covariates[0] in log2 else "hazard ratio per unit"
    strata = [c for c in strata if c in table.columns]
    inputs = f"{ENDPOINTS.get(endpoint, endpoint)} ~ " + " + ".join(
        f"log2({c})" if c in log2 else c for c in covariates) + "".join(f" + strata({c})" for c in strata)
    data = endpoint_data(table, endpoint, covariates)
    if strata:
        levels = table.loc[data.index, strata]
        data = data[levels.notna().all(axis=1)].join(levels.astype(str))
    for column in log2:
        bad = data[column] <= 0
        if bad.any():
            notes.warn(analysis, f"{int(bad.sum())} patient(s) with {column} <= 0 left out (log2 undefined)")
            data = data[~bad]
        data[column] = np.log2(data[column])
    n, events = len(data), int(data["E"].sum()) if len(data) else 0
    base = {"events": events, "covariates": covariates, "strata": strata}
    if events == 0 or n < 2:
        notes.warn(analysis, f"no events among {n} patient(s): no Cox model, no p-value")
        return not_run("Cox proportional hazards", inputs=inputs, n=n, reason="no events", **base)
    constant = [c for c in covariates if data[c].nunique() < 2]
    if constant:
        notes.warn(analysis, f"covariate(s) without variation: {', '.join(constant)}; no Cox model")
        return not_run("Cox proportional hazards", inputs=inputs, n=n, reason="covariate without variation", **base)
    few_events = events < min_events_per_covariate * len(covariates)
    if few_events:
        notes.warn(analysis, f"{events} events for {len(covariates)} covariate(s) (< {min_events_per_covariate} "
                             "per covariate): the hazard ratio is imprecise and may be biased")
        base["firth"] = _firth_beside(data, covariates, strata, ci_level, notes, analysis)
    fitter = CoxPHFitter(alpha=1.0 - ci_level)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            fitter.fit(data[["T", "E", *covariates, *strata]], duration_col="T", event_col="E",
                       strata=strata or None)
        except (ConvergenceError, np.linalg.LinAlgError, ValueError) as failed:
            notes.warn(analysis, f"Cox model did not converge ({str(failed).splitlines()[0]})")
            return not_run("Cox proportional hazards", inputs=inputs, n=n, reason="did not converge", **base)
    messages = sorted({str(w.message).splitlines()[0] for w in caught if issubclass(w.category, ConvergenceWarning)})
    for message in messages:
        notes.warn(analysis, f"lifelines convergence warning (estimates unreliable): {message}")
    ci, p_values = fitter.confidence_intervals_, fitter.summary["p"]  # summary is rebuilt on every access
    with np.errstate(over="ignore"):  # a separated fit gives huge coefficients: exp -> inf -> null
        rows = [{"covariate": c, "scale": "log2" if c in log2 else "unit", "coef": fitter.params_[c],
                 "se": fitter.standard_errors_[c], "hazard_ratio": float(np.exp(fitter.params_[c])),
                 "ci_low": float(np.exp(ci.loc[c].iloc[0])), "ci_high": float(np.exp(ci.loc[c].iloc[1])),
                 "p_value": float(p_values[c])} for c in covariates]
    base["convergence_warnings"] = messages
    first = rows[0]
    same = reduced is not None and reduced.get("log_likelihood") is not None and reduced.get("n") == n
    checks = model_checks(fitter, data, covariates=covariates, strata=strata, n_boot=n_boot, seed=seed,
                          ci_level=ci_level, full=checks, first_given_rest=first_given_rest,
                          ll_reduced=float(reduced["log_likelihood"]) if same else None)
    ph = checks["ph_test_p"]
    if ph is not None and ph < 0.05:
        notes.warn(analysis, f"proportional hazards rejected for {covariates[0]} (Schoenfeld p = {ph:.3g}): one "
                             "hazard ratio misleads; see the RMST difference and the piecewise hazard ratios")
    return stat("Cox proportional hazards", inputs=inputs, n=n, estimate=first["hazard_ratio"],
                estimate_label=label, ci=(first["ci_low"], first["ci_high"]), ci_level=ci_level,
                p_value=first["p_value"], method="lifelines CoxPHFitter (Efron ties)"
                + (f", stratified by {', '.join(strata)}" if strata else "") + "; Wald p, likelihood-ratio p beside it",
                coefficients=clean(rows), **checks, **base)


def _firth_beside(data: pd.DataFrame, covariates: list[str], strata: list[str], ci_level: float, notes: Notes,
                  analysis: str) -> dict:
    """The Firth-penalised Cox model of the same data (few events), with a note saying what it gave."""
    from immunopet.analysis.firth_cox import METHOD, firth_cox

    if strata:  # said in the record only: the unstratified model beside it has its Firth estimate
        return {"error": "not fitted for a stratified model (firthmodels has no strata); see the unstratified "
                         "model's Firth estimate", "method": METHOD}

    firth = firth_cox(data, covariates, ci_level=ci_level)
    if "error" in firth:
        notes.warn(analysis, f"Firth-penalised Cox not fitted ({firth['error']})")
    else:
        notes.warn(analysis, f"Firth-penalised Cox (Heinze & Schemper 2001): hazard ratio {firth['hazard_ratio']:.3g} "
                             f"({firth['ci_low']:.3g}-{firth['ci_high']:.3g}), penalised likelihood-ratio p "
                             f"{firth['p_value']:.3g}")
    return clean(firth)


def model_checks(fitter: CoxPHFitter, data: pd.DataFrame, *, covariates: list[str], strata: list[str], n_boot: int,
                 seed: int, ci_level: float, full: bool = True, first_given_rest: bool = True,
                 ll_reduced: float | None = None) -> dict:
    """Likelihood-ratio tests, Schoenfeld test and C-index (with interval) of a fitted Cox model.

    ``ll_reduced``: log-likelihood of the model without the first covariate on the same patients
    (fitted here when not given).
    """
    codes = data[strata].astype(str).agg("|".join, axis=1).to_numpy() if strata else None
    ll_null = null_log_likelihood(data["T"].to_numpy(), data["E"].to_numpy(), codes)
    chi2, p = lr_test(float(fitter.log_likelihood_), ll_null, len(covariates))
    p_first = p if len(covariates) == 1 else None
    if len(covariates) > 1 and first_given_rest:  # the first covariate given the others: without it, same strata
        if ll_reduced is None:
            ll_reduced = float(CoxPHFitter().fit(data[["T", "E", *covariates[1:], *strata]], duration_col="T",
                                                 event_col="E", strata=strata or None).log_likelihood_)
        p_first = lr_test(float(fitter.log_likelihood_), ll_reduced, 1)[1]
    out = {"lr_chi2": chi2, "lr_df": len(covariates), "lr_p": p, "lr_p_first": p_first,
           "log_likelihood": float(fitter.log_likelihood_)}
    if not full:
        return {**out, "ph_test_p": None, "ph_test_p_by_covariate": {}, "ph_transform": None,
                "concordance": float(fitter.concordance_index_)}
    ph = schoenfeld_test(fitter, data[["T", "E", *covariates, *strata]])
    by_covariate = ph["ph_test_p"] or {}
    risk = data[covariates].to_numpy(dtype=float) @ fitter.params_[covariates].to_numpy()
    c, c_low, c_high = concordance_interval(data["T"].to_numpy(), data["E"].to_numpy(), risk, n_boot=n_boot,
                                            seed=seed, ci_level=ci_level)
    return {**out, "ph_test_p": by_covariate.get(covariates[0]), "ph_test_p_by_covariate": by_covariate,
            "ph_transform": ph["ph_transform"], "concordance": c, "concordance_ci_low": c_low,
            "concordance_ci_high": c_high}


def at_risk_counts(kmf: KaplanMeierFitter, times: Sequence[float]) -> list[int]:
    """Numbers at risk just before each time, from the fitter's event table."""
    table = kmf.event_table
    out = []
    for t in times:
        later = table[table.index >= t]
        out.append(int(later["at_risk"].iloc[0]) if len(later) else 0)
    return out


def default_times(durations: np.ndarray, step: float = 6.0) -> list[float]:
    """0, 6, 12, ... months up to the longest follow-up."""
    top = float(np.nanmax(durations)) if len(durations) else 0.0
    return [float(t) for t in np.arange(0.0, top + 1e-9, step)]


def km_split(table: pd.DataFrame, *, endpoint: str, column: str, split: str | float, times: Sequence[float] | None,
             ci_level: float, notes: Notes, analysis: str, min_group: int) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    """Kaplan-Meier curves of ``endpoint`` for ``column`` above ("high") vs at or below ("low") the split.

    Returns
    -------
    record, curves, at_risk
        ``record``: the log-rank stat record with ``split_value`` and per-group ``n, events,
        median, median_ci_low, median_ci_high``; ``curves``: one row per group and time with
        ``survival, ci_low, ci_high, at_risk, events, censored``; ``at_risk``: numbers at risk at
        ``times``.
    """
    data = endpoint_data(table, endpoint, [column])
    inputs = f"{ENDPOINTS.get(endpoint, endpoint)} by {column} (high: > split)"
    if data.empty:
        return not_run("log-rank test", inputs=inputs, n=0, reason="no patients with data"), pd.DataFrame(), \
            pd.DataFrame()
    cut = float(data[column].median()) if split == "median" else float(split)
    data["group"] = np.where(data[column] > cut, "high", "low")
    times = list(times) if times is not None else default_times(data["T"].to_numpy())
    groups, curves, risk = {}, [], []
    for name, part in data.groupby("group", sort=True):
        kmf = KaplanMeierFitter(alpha=1.0 - ci_level).fit(part["T"], part["E"], label=name)
        med_ci = median_survival_times(kmf.confidence_interval_)
        groups[name] = {"n": len(part), "events": int(part["E"].sum()), "median": float(kmf.median_survival_time_),
                        "median_ci_low": float(med_ci.iloc[0, 0]), "median_ci_high": float(med_ci.iloc[0, 1])}
        sf = kmf.survival_function_.iloc[:, 0]
        band = kmf.confidence_interval_survival_function_
        ev = kmf.event_table.reindex(sf.index)
        curves.append(pd.DataFrame({"group": name, "time": sf.index.to_numpy(), "survival": sf.to_numpy(),
                                    "ci_low": band.iloc[:, 0].to_numpy(), "ci_high": band.iloc[:, 1].to_numpy(),
                                    "at_risk": ev["at_risk"].to_numpy(), "events": ev["observed"].to_numpy(),
                                    "censored": ev["censored"].to_numpy()}))
        risk.append(pd.DataFrame({"group": name, "time": times, "at_risk": at_risk_counts(kmf, times)}))
    extra = {"split": split if split == "median" else "value", "split_value": cut, "groups": groups,
             "at_risk_times": times}
    curve_table = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
    risk_table = pd.concat(risk, ignore_index=True) if risk else pd.DataFrame()
    n = len(data)
    if len(groups) < 2:
        notes.warn(analysis, f"all {n} patient(s) fall in one group at split {cut:g}: no log-rank test")
        return not_run("log-rank test", inputs=inputs, n=n, reason="one group only", **extra), curve_table, risk_table
    notes.small_groups(analysis, {k: v["n"] for k, v in groups.items()}, min_group)
    if data["E"].sum() == 0:
        notes.warn(analysis, f"no events among {n} patients: no log-rank p-value")
        return not_run("log-rank test", inputs=inputs, n=n, reason="no events", **extra), curve_table, risk_table
    high, low = data[data["group"] == "high"], data[data["group"] == "low"]
    result = logrank_test(high["T"], low["T"], event_observed_A=high["E"], event_observed_B=low["E"])
    return (stat("log-rank test", inputs=inputs, n=n, p_value=float(result.p_value),
                 method="lifelines logrank_test (chi-square, 1 df)", statistic=float(result.test_statistic),
                 **extra), curve_table, risk_table)
