"""One predictor (PET uptake or a biomarker) against every outcome: response, size change, survival."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.analysis.comparisons import describe, kendall_trend, kruskal_groups, mann_whitney, spearman
from immunopet.analysis.endpoint_survival import endpoint_analyses
from immunopet.analysis.firth import firth_logistic
from immunopet.analysis.inputs import RESPONSE_ORDER
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.plan import split_covariates
from immunopet.analysis.record import Notes
from immunopet.analysis.roc import auc_with_ci, curve_points
from immunopet.analysis.survival import ENDPOINTS


def response_analyses(table: pd.DataFrame, column: str, *, params: AnalysisParams, notes: Notes,
                      section: str) -> dict:
    """Kruskal-Wallis across CR/PR, SD, PD; Kendall trend; responders vs non-responders (MWU, AUC)."""
    data = table[table[column].notna() & table["response_class"].notna()]
    groups = {c: data.loc[data["response_class"] == c, column].to_numpy(dtype=float) for c in RESPONSE_ORDER}
    what = f"{column} by best response"
    kruskal = kruskal_groups(groups, inputs=f"{what} (CR/PR, SD, PD; NE excluded)", notes=notes,
                             analysis=f"{section}.response_groups", min_group=params.min_group,
                             **params.small_n())
    trend = kendall_trend(data[column].to_numpy(dtype=float), data["response_rank"].to_numpy(dtype=float),
                          inputs=f"{what}, ordered PD < SD < CR/PR", **params.small_n())
    resp = data[data["responder"] == 1][column].to_numpy(dtype=float)
    non = data[data["responder"] == 0][column].to_numpy(dtype=float)
    notes.small_groups(f"{section}.responders", {"responders": resp.size, "non-responders": non.size},
                       params.min_group)
    responders = "/".join(params.responders)
    mw = mann_whitney(resp, non, inputs=f"{column}: responders ({responders}) vs non-responders",
                      **params.two_group_n())
    auc = auc_with_ci(data["responder"].to_numpy(dtype=float), data[column].to_numpy(dtype=float),
                      inputs=f"{column} for response ({responders}); higher value = response",
                      n_boot=params.n_boot, seed=params.seed, ci_level=params.ci_level, notes=notes,
                      analysis=f"{section}.response.auc")
    return {"group_summary": {c: describe(v) for c, v in groups.items()}, "kruskal_wallis": kruskal,
            "trend": trend, "mann_whitney": mw, "auc": auc}


def analyse_predictor(table: pd.DataFrame, column: str, *, label: str, log2: bool, params: AnalysisParams,
                      notes: Notes, section: str) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Every outcome analysis of ``column``; returns the JSON block and curve tables.

    Returns
    -------
    block, curves
        ``block``: ``predictor, label, scale, n`` plus ``response``, ``pct_change`` and ``survival``
        (per endpoint: :func:`immunopet.analysis.endpoint_survival.endpoint_analyses`). ``curves``:
        ``roc``, ``km``, ``at_risk`` and ``cutoff_scan`` tables tagged with the predictor.
    """
    values = table[column] if column in table.columns else pd.Series(np.nan, index=table.index)
    data = table.assign(**{column: pd.to_numeric(values, errors="coerce")})
    n = int(data[column].notna().sum())
    missing = len(data) - n
    if missing:
        notes.warn(f"{section}", f"{column} missing for {missing} of {len(data)} patients: analyses use n={n}")
    block = {"predictor": column, "label": label, "scale": "log2" if log2 else "unit", "n": n,
             "n_missing": missing, "values": describe(data[column])}
    block["response"] = response_analyses(data, column, params=params, notes=notes, section=section)
    categorical, numeric = split_covariates(data, params.plan.covariates, exclude=[column])
    block["response"]["firth_adjusted"] = firth_logistic(
        data[data["responder"].notna()], predictor=column, log2=log2, covariates=[*categorical, *numeric],
        ci_level=params.ci_level, notes=notes, analysis=f"{section}.response.adjusted")
    pct = data["best_pct_change"] if "best_pct_change" in data else pd.Series(np.nan, index=data.index)
    block["pct_change"] = spearman(data[column].to_numpy(dtype=float), pct.to_numpy(dtype=float),
                                   inputs=f"{column} vs best % change in tumour size", ci_level=params.ci_level,
                                   **params.small_n())
    survival, km_tables, risk_tables, scans = {}, [], [], []
    for endpoint in ENDPOINTS:
        if f"{endpoint}_months" not in data.columns or data[f"{endpoint}_months"].notna().sum() == 0:
            continue
        survival[endpoint], km, risk, scan = endpoint_analyses(data, column, endpoint, log2=log2, params=params,
                                                               notes=notes, section=section)
        km_tables.append(km.assign(predictor=column, endpoint=endpoint))
        risk_tables.append(risk.assign(predictor=column, endpoint=endpoint))
        scans.append(scan)
    block["survival"] = survival
    roc = pd.DataFrame(curve_points(data["responder"].to_numpy(dtype=float), data[column].to_numpy(dtype=float)))
    curves = {"roc": roc.assign(predictor=column),
              "km": pd.concat(km_tables, ignore_index=True) if km_tables else pd.DataFrame(),
              "at_risk": pd.concat(risk_tables, ignore_index=True) if risk_tables else pd.DataFrame(),
              "cutoff_scan": pd.concat(scans, ignore_index=True) if scans else pd.DataFrame()}
    return block, curves


def comparison_row(block: dict) -> dict:
    """One row of the side-by-side predictor table from a predictor block."""
    resp, pct = block["response"], block["pct_change"]
    row = {"predictor": block["predictor"], "label": block["label"], "scale": block["scale"], "n": block["n"],
           "auc_n": resp["auc"]["n"], "auc": resp["auc"]["estimate"], "auc_ci_low": resp["auc"]["ci_low"],
           "auc_ci_high": resp["auc"]["ci_high"], "mw_n": resp["mann_whitney"]["n"],
           "mw_p": resp["mann_whitney"]["p_value"], "mw_method": resp["mann_whitney"]["method"],
           "kw_p": resp["kruskal_wallis"]["p_value"], "trend_tau": resp["trend"]["estimate"],
           "trend_p": resp["trend"]["p_value"], "spearman_n": pct["n"], "spearman_rho": pct["estimate"],
           "spearman_ci_low": pct["ci_low"], "spearman_ci_high": pct["ci_high"], "spearman_p": pct["p_value"],
           "or_adjusted": resp["firth_adjusted"]["estimate"], "or_adjusted_p": resp["firth_adjusted"]["p_value"]}
    for endpoint, result in block["survival"].items():
        cox, logrank = result["cox"], result["logrank"]
        adjusted = result["cox_adjusted"]
        row.update({f"{endpoint}_hr_adjusted": adjusted["estimate"], f"{endpoint}_hr_adjusted_lr_p": adjusted.get("lr_p_first"),
                    f"{endpoint}_ph_test_p": cox.get("ph_test_p")})
        row.update({f"{endpoint}_cox_n": cox["n"], f"{endpoint}_events": cox.get("events"),
                    f"{endpoint}_hr": cox["estimate"], f"{endpoint}_hr_ci_low": cox["ci_low"],
                    f"{endpoint}_hr_ci_high": cox["ci_high"], f"{endpoint}_cox_p": cox["p_value"],
                    f"{endpoint}_logrank_n": logrank["n"], f"{endpoint}_logrank_p": logrank["p_value"]})
    return row
