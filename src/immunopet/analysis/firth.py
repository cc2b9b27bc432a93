"""Firth-penalised logistic regression of response (firthmodels), adjusted for covariates.

Firth D. Bias reduction of maximum likelihood estimates. *Biometrika* 1993;80:27-38; Heinze G,
Schemper M. A solution to the problem of separation in logistic regression. *Stat Med*
2002;21:2409-2419. The penalised log-likelihood ``l(b) + 1/2 log det I(b)`` gives finite, less
biased estimates with few events and under separation (a tumour type without responders). Inference
follows Heinze & Schemper: the penalised likelihood-ratio test and profile penalised-likelihood
intervals (Wald intervals are poor here). Fitting is by ``firthmodels.FirthLogisticRegression``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from immunopet.analysis.record import Notes, not_run, stat

#: Events per variable below which a warning is recorded (Peduzzi et al. 1996).
MIN_EPV = 10


def design(table: pd.DataFrame, columns: Sequence[str], *, log2: Sequence[str] = (),
           covariates: Sequence[str] = (), outcome: str = "responder") -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Complete rows as a design matrix (no intercept), the outcome, and the covariates left out.

    ``columns`` enter as numbers (``log2`` ones as log2, rows <= 0 dropped); ``covariates`` that are
    text become indicator columns (first level = reference), numeric ones enter as they are; a
    covariate without variation is left out (returned in the third value).
    """
    used = [c for c in dict.fromkeys([*columns, *covariates]) if c in table.columns]
    data = table[[outcome, *used]].dropna()
    for column in columns:
        data[column] = pd.to_numeric(data[column], errors="coerce")
        if column in log2:
            data = data[data[column] > 0]
            data[column] = np.log2(data[column])
    data = data.dropna()
    parts, dropped = [data[list(columns)].astype(float)], []
    for covariate in covariates:
        if covariate not in data.columns or covariate in columns or data[covariate].nunique() < 2:
            dropped.append(covariate)
            continue
        values = data[covariate]
        if pd.api.types.is_numeric_dtype(values):
            parts.append(values.astype(float).to_frame(covariate))
        else:
            dummies = pd.get_dummies(values.astype(str), prefix=covariate, prefix_sep="=", drop_first=True)
            parts.append(dummies.astype(float))
    return pd.concat(parts, axis=1), data[outcome].to_numpy(dtype=int), dropped


def fit(x: pd.DataFrame, y: np.ndarray):
    """A fitted ``FirthLogisticRegression`` (numpy backend) with its convergence warnings."""
    from firthmodels import FirthLogisticRegression

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = FirthLogisticRegression(backend="numpy", max_iter=100).fit(x, y)
    return model, sorted({str(w.message).splitlines()[0] for w in caught})


def firth_logistic(table: pd.DataFrame, *, predictor: str, log2: bool, covariates: Sequence[str] = (),
                   extra: Sequence[str] = (), ci_level: float, notes: Notes, analysis: str,
                   profile_ci: bool = True) -> dict:
    """Odds ratio of response per doubling (``log2``) or per unit of ``predictor``, adjusted.

    Parameters
    ----------
    predictor
        The column whose odds ratio is the headline (entered first).
    covariates
        Adjusted for (``tumour_type`` indicators by default in the plan).
    extra
        Further numeric predictors entered as they are (e.g. a biomarker PET is added to).
    profile_ci
        Profile penalised-likelihood interval (a constrained fit per bound); off for speed in
        simulation studies.

    Returns
    -------
    dict
        Stat record "Firth logistic regression": estimate = odds ratio, ``p_value`` = penalised
        likelihood-ratio test of the predictor (``wald_p`` beside it), ``lr_chi2``, ``events``,
        ``non_events``, ``events_per_variable``, ``terms`` (covariate columns), ``coefficients``.
    """
    scale = "per doubling" if log2 else "per unit"
    names = [*covariates]
    inputs = (f"response ~ {'log2(' + predictor + ')' if log2 else predictor}"
              + "".join(f" + {c}" for c in [*extra, *names]))
    x, y, dropped = design(table, [predictor, *extra], log2=[predictor] if log2 else [], covariates=covariates)
    n, events = len(y), int(y.sum())
    base = {"events": events, "non_events": n - events, "covariates": list(covariates)}
    for covariate in dropped:
        notes.warn(analysis, f"covariate {covariate} has no variation (or is missing): left out of the model")
    if events == 0 or events == n or x[predictor].nunique() < 2:
        notes.warn(analysis, f"{events} responders among {n}: no logistic model")
        return not_run("Firth logistic regression", inputs=inputs, n=n, reason="no responders, no non-responders "
                       "or no spread of the predictor", **base)
    epv = min(events, n - events) / x.shape[1]
    if epv < MIN_EPV:
        notes.warn(analysis, f"{min(events, n - events)} events for {x.shape[1]} variable(s) (EPV {epv:.1f} < "
                             f"{MIN_EPV}): Firth-penalised estimates, wide intervals")
    try:
        model, messages = fit(x, y)
    except (np.linalg.LinAlgError, ValueError) as failed:
        notes.warn(analysis, f"Firth logistic model not fitted ({str(failed).splitlines()[0]}): too few patients "
                             "for the covariates?")
        return not_run("Firth logistic regression", inputs=inputs, n=n, reason="design matrix rank deficient", **base)
    for message in messages:
        notes.warn(analysis, f"firthmodels: {message}")
    model.lrt(0)
    p = float(model.lrt_pvalues_[0])
    coef, se = float(model.coef_[0]), float(model.bse_[0])
    alpha = 1.0 - ci_level
    if profile_ci:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            low, high = model.conf_int(alpha=alpha, method="pl", features=[0])[0]
    else:
        low, high = model.conf_int(alpha=alpha, method="wald", features=[0])[0]
    rows = [{"term": term, "coef": float(b), "se": float(s), "odds_ratio": float(np.exp(b))}
            for term, b, s in zip(x.columns, model.coef_, model.bse_, strict=False)]
    with np.errstate(over="ignore"):
        ci = (float(np.exp(low)), float(np.exp(high)))
    return stat("Firth logistic regression", inputs=inputs, n=n, estimate=float(np.exp(coef)),
                estimate_label=f"odds ratio {scale}", ci=ci, ci_level=ci_level, p_value=p,
                method="firthmodels FirthLogisticRegression (Firth 1993); penalised likelihood-ratio test, "
                       + ("profile penalised-likelihood interval" if profile_ci else "Wald interval"),
                coef=coef, se=se, wald_p=float(model.pvalues_[0]), lr_chi2=float(stats.chi2.isf(p, 1)) if p > 0 else None,
                events_per_variable=epv, terms=list(x.columns), coefficients=rows, converged=bool(model.converged_),
                **base)


def loo_auc(table: pd.DataFrame, *, columns: Sequence[str], log2: Sequence[str], covariates: Sequence[str],
            inputs: str, seed: int = 0, max_loo: int = 60) -> dict:
    """Cross-validated AUC of a Firth logistic model (e.g. PET + tumour type).

    Each patient's predicted probability comes from the model fitted without them (leave-one-out up
    to ``max_loo`` patients, stratified 10-fold above, seeded); the AUC of those predictions
    estimates how well the *combined model* discriminates in new patients (the in-sample AUC of a
    fitted model is optimistic). No interval: the predictions share training data.
    """
    from firthmodels import FirthLogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import LeaveOneOut, StratifiedKFold, cross_val_predict

    x, y, _ = design(table, list(columns), log2=log2, covariates=covariates)
    n, events = len(y), int(y.sum())
    if events < 2 or n - events < 2 or x.shape[1] == 0:
        return not_run("cross-validated AUC", inputs=inputs, n=n, reason="too few responders or non-responders")
    folds = LeaveOneOut() if n <= max_loo else StratifiedKFold(n_splits=10, shuffle=True, random_state=seed)
    scheme = "leave-one-out" if n <= max_loo else f"stratified 10-fold (seed {seed})"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            predicted = cross_val_predict(FirthLogisticRegression(backend="numpy", max_iter=100), x.to_numpy(), y,
                                          cv=folds, method="predict_proba")[:, 1]
    except (np.linalg.LinAlgError, ValueError) as failed:
        return not_run("cross-validated AUC", inputs=inputs, n=n,
                       reason=f"a training fold cannot be fitted ({str(failed).splitlines()[0]})")
    return stat("cross-validated AUC", inputs=inputs, n=n, estimate=float(roc_auc_score(y, predicted)),
                estimate_label=f"{scheme} AUC",
                method=f"Firth logistic model refitted without each held-out patient ({scheme}); AUC of the "
                       "held-out predictions", terms=list(x.columns), events=events)
