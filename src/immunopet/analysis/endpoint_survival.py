"""One predictor against one survival endpoint, as the analysis plan asks for it.

Per endpoint: Kaplan-Meier / log-rank at the prespecified cut-off (median only when none is given,
labelled data-driven), the median split as a sensitivity analysis and the log-rank p over the
25th-75th percentile cut-offs; the Cox model unadjusted and stratified by / adjusted for the plan's
covariates (likelihood-ratio p beside Wald, Schoenfeld test, C-index with a bootstrap interval);
the RMST difference at the plan's horizon and the piecewise hazard ratio at its break point (for PET
always, for another predictor when the Schoenfeld test rejects proportional hazards).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.analysis import cutoffs
from immunopet.analysis.nonproportional import piecewise_hr, rmst_difference
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.plan import split_covariates
from immunopet.analysis.record import Notes, clean, not_run
from immunopet.analysis.survival import ENDPOINTS, cox_fit, endpoint_data, km_split


def endpoint_analyses(data: pd.DataFrame, column: str, endpoint: str, *, log2: bool, params: AnalysisParams,
                      notes: Notes, section: str) -> tuple[dict, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The survival block of ``column`` for ``endpoint``; returns (block, km curves, at-risk, cut-off scan)."""
    analysis = f"{section}.survival.{endpoint}"
    override = None if column != "pet_uptake" or params.split == "median" else float(params.split)
    cut, source, label = cutoffs.resolve(data[column], cutoff=params.plan.cutoffs.get(column), override=override)
    km_args = {"endpoint": endpoint, "column": column, "times": params.at_risk_times, "ci_level": params.ci_level,
               "notes": notes, "analysis": analysis, "min_group": params.min_group}
    logrank, km, risk = km_split(data, split=cut, **km_args)
    logrank.update(cutoff_source=source, cutoff_label=label, split="median" if source.startswith("median") else "value")
    block = {"logrank": logrank}
    if not source.startswith("median"):
        block["logrank_median"], _, _ = km_split(data, split="median", **{**km_args, "notes": Notes()})
        block["logrank_median"]["cutoff_source"] = "median (sensitivity analysis)"
    times = endpoint_data(data, endpoint, [column])
    scan = cutoffs.scan(times, column) if len(times) else pd.DataFrame(columns=cutoffs.SCAN_COLUMNS)
    block["cutoff_scan"] = clean(scan.to_dict("records"))
    log2_cols = [column] if log2 else []
    cox_args = {"endpoint": endpoint, "log2": log2_cols, "ci_level": params.ci_level,
                "min_events_per_covariate": params.min_events_per_covariate, "n_boot": params.n_boot,
                "seed": params.seed}
    block["cox"] = cox_fit(data, covariates=[column], notes=notes, analysis=analysis, **cox_args)
    strata, numeric = split_covariates(data, params.plan.covariates, exclude=[column])
    if strata or numeric:
        block["cox_adjusted"] = cox_fit(data, covariates=[column, *numeric], strata=strata, notes=notes,
                                        analysis=f"{analysis}.adjusted", **cox_args)
    else:  # nothing to adjust for: the adjusted model is the unadjusted one (its own record for the plan's marks)
        block["cox_adjusted"] = dict(block["cox"])
    block["cox_adjusted"]["nested_test"] = f"{column} added to {' + '.join([*strata, *numeric]) or 'nothing'}"
    groups = times.assign(group=np.where(times[column] > cut, "high", "low"))
    what = f"{ENDPOINTS.get(endpoint, endpoint)} by {column} ({label})"
    block["rmst"] = rmst_difference(groups, horizon=params.plan.rmst_horizon_months, ci_level=params.ci_level,
                                    notes=notes, analysis=analysis, inputs=what)
    scaled = times
    if strata:
        scaled = scaled.join(data.loc[scaled.index, strata].astype(str))
    if log2:
        scaled = scaled[scaled[column] > 0].assign(**{column: lambda d: np.log2(d[column])})
    violated = any((block[k].get("ph_test_p") or 1.0) < 0.05 for k in ("cox", "cox_adjusted"))
    if column != "pet_uptake" and not violated:  # PET always; a biomarker when its hazards are not proportional
        block["piecewise"] = not_run("piecewise Cox", inputs=f"{ENDPOINTS.get(endpoint, endpoint)} ~ {column} x period",
                                     n=len(times), reason="proportional hazards not rejected (Schoenfeld p >= 0.05)",
                                     break_months=params.plan.piecewise_months)
        return block, km, risk, scan.assign(predictor=column, endpoint=endpoint)
    block["piecewise"] = piecewise_hr(scaled, column=column, cut=params.plan.piecewise_months, strata=strata,
                                      ci_level=params.ci_level, notes=notes, analysis=analysis,
                                      inputs=f"{ENDPOINTS.get(endpoint, endpoint)} ~ {column} x period"
                                      + "".join(f" + strata({s})" for s in strata),
                                      per="per doubling" if log2 else "per unit")
    return block, km, risk, scan.assign(predictor=column, endpoint=endpoint)
