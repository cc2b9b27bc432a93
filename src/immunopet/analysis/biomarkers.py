"""D. PD-L1 IHC and RNA-seq biomarkers side by side with PET: same analyses, paired AUC comparison."""

from __future__ import annotations

import pandas as pd

from immunopet.analysis.comparisons import spearman
from immunopet.analysis.firth import firth_logistic
from immunopet.analysis.outcome import PET
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.plan import split_covariates
from immunopet.analysis.predictors import analyse_predictor, comparison_row
from immunopet.analysis.record import Notes
from immunopet.analysis.roc import paired_auc_difference
from immunopet.analysis.survival import ENDPOINTS, cox_fit


def pet_added(patients: pd.DataFrame, column: str, *, params: AnalysisParams, notes: Notes,
              own: dict | None = None) -> dict:
    """Does PET add to ``column`` (and the plan's covariates)? Nested likelihood-ratio tests.

    Response: Firth logistic regression of response on log2 PET + the biomarker + covariates, its
    ``p_value`` the penalised likelihood-ratio test of PET. Survival: Cox model of PET + biomarker
    (+ numeric covariates), stratified by the categorical ones; ``nested_lr_p`` is the
    likelihood-ratio test of PET given the rest (``lr_p_first``).
    """
    strata, numeric = split_covariates(patients, params.plan.covariates, exclude=[PET, column])
    section = f"biomarkers.pet_added.{column}"
    out = {"response": firth_logistic(patients[patients["responder"].notna()], predictor=PET, log2=True,
                                      extra=[column], covariates=[*strata, *numeric], ci_level=params.ci_level,
                                      notes=notes, analysis=section)}
    for endpoint in ENDPOINTS:
        if f"{endpoint}_months" not in patients.columns:
            continue
        record = cox_fit(patients, endpoint=endpoint, covariates=[PET, column, *numeric], log2=[PET], strata=strata,
                         ci_level=params.ci_level, notes=notes, analysis=f"{section}.{endpoint}",
                         min_events_per_covariate=params.min_events_per_covariate, checks=False,
                         reduced=(own or {}).get(endpoint, {}).get("cox_adjusted"))  # the biomarker's own model
        record["nested_lr_p"] = record.get("lr_p_first")
        record["nested_test"] = f"PET added to {' + '.join([column, *numeric, *strata])}"
        out[endpoint] = record
    return out


AUC_COLUMNS = ("predictor", "n", "n_responders", "n_non_responders", "estimate", "ci_low", "ci_high", "p_value",
               "delong_p", "delong_ci_low", "delong_ci_high", "bootstrap_p", "bootstrap_ci_low", "bootstrap_ci_high")


def comparison_tables(rows: list[dict], paired: list[dict]) -> dict[str, pd.DataFrame]:
    """``predictor_comparison`` (one row per predictor block) and ``auc_comparison`` (one row per
    paired AUC difference, ``estimate`` as ``auc_difference``)."""
    auc = pd.DataFrame([{k: r.get(k) for k in AUC_COLUMNS} for r in paired])
    return {"predictor_comparison": pd.DataFrame(rows),
            "auc_comparison": auc.rename(columns={"estimate": "auc_difference"})}


def biomarkers(patients: pd.DataFrame, pet_block: dict, *, params: AnalysisParams,
               notes: Notes) -> tuple[dict, dict[str, pd.DataFrame]]:
    """Section D: per-biomarker blocks, the comparison table, paired AUC differences, correlations.

    Biomarkers (``params.biomarkers``) absent from the patient table or empty are listed under
    ``not_available``. Kaplan-Meier splits of biomarkers are at their own medians (high: > median);
    Cox hazard ratios are per unit of the biomarker as recorded (IHC score step, log2 expression).
    """
    present = {c: label for c, label in params.biomarkers.items()
               if c in patients.columns and pd.to_numeric(patients[c], errors="coerce").notna().any()}
    absent = [c for c in params.biomarkers if c not in present]
    if absent:
        notes.warn("biomarkers", f"no values for {', '.join(absent)}: not compared")
    blocks, curves = {}, []
    for column, label in present.items():
        blocks[column], curve = analyse_predictor(patients, column, label=label, log2=False,
                                                  params=params, notes=notes, section=f"biomarkers.{column}")
        curves.append(curve)
    rows = [comparison_row(pet_block)] + [comparison_row(b) for b in blocks.values()]
    pet = pd.to_numeric(patients[PET], errors="coerce").to_numpy(dtype=float)
    responder = patients["responder"].to_numpy(dtype=float)
    paired, correlations = [], []
    for column in present:
        values = pd.to_numeric(patients[column], errors="coerce").to_numpy(dtype=float)
        diff = paired_auc_difference(responder, pet, values, inputs=f"AUC(PET uptake) - AUC({column}), "
                                     "patients with both", n_boot=params.n_boot, seed=params.seed,
                                     ci_level=params.ci_level)
        paired.append({"predictor": column, **diff})
        rho = spearman(pet, values, inputs=f"PET uptake vs {column}", ci_level=params.ci_level, **params.small_n())
        correlations.append({"predictor": column, **rho})
    block = {"predictors": blocks, "not_available": absent, "comparison": rows, "auc_vs_pet": paired,
             "pet_correlation": correlations, "pet_added": {c: pet_added(patients, c, params=params, notes=notes,
                                                                      own=blocks[c]["survival"]) for c in present}}
    tables = {
        **comparison_tables(rows, paired),
        "pet_biomarker_correlation": pd.DataFrame([{k: r.get(k) for k in ("predictor", "n", "estimate", "ci_low",
                                                   "ci_high", "p_value")} for r in correlations])
        .rename(columns={"estimate": "spearman_rho"}),
    }
    for name in ("roc", "km", "at_risk", "cutoff_scan"):
        tables[f"_{name}"] = pd.concat([c[name] for c in curves], ignore_index=True) if curves else pd.DataFrame()
    return block, tables
