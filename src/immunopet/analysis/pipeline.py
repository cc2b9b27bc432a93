"""``analyze``: every analysis of a study on its tables (pure: DataFrames in, AnalysisResult out)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from immunopet.analysis.biodistribution import biodistribution
from immunopet.analysis.biomarkers import biomarkers
from immunopet.analysis.inputs import patient_table
from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.section import kinetics_section
from immunopet.analysis.outcome import outcome
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.plan import apply_plan
from immunopet.analysis.record import Notes, clean
from immunopet.analysis.result import SCHEMA_VERSION, AnalysisResult
from immunopet.analysis.tumour import tumour_uptake
from immunopet.errors import AnalysisError

CURVE_TABLES = {"_roc": "roc_curves", "_km": "km_curves", "_at_risk": "km_at_risk", "_cutoff_scan": "cutoff_scan"}


def _key(name: str, record: dict | None) -> dict[str, Any]:
    record = record or {}
    return {"name": name, "test": record.get("test"), "n": record.get("n"), "estimate": record.get("estimate"),
            "estimate_label": record.get("estimate_label"), "ci_low": record.get("ci_low"),
            "ci_high": record.get("ci_high"), "p_value": record.get("p_value"), "p_adjusted": record.get("p_adjusted"),
            "family": record.get("family"), "role": record.get("role", "exploratory"), "reason": record.get("reason")}


def _at(summary: dict, path: str) -> dict | None:
    """The record at a dotted path of the summary (list items by ``predictor``), or ``None``."""
    node: Any = summary
    for part in path.split("."):
        if isinstance(node, list):
            node = next((item for item in node if isinstance(item, dict) and str(item.get("predictor")) == part), None)
        elif isinstance(node, dict):
            node = node.get(part)
        if node is None:
            return None
    return node if isinstance(node, dict) else None


def key_results(summary: dict) -> list[dict[str, Any]]:
    """The headline numbers (the command's summary table), each with n, estimate, CI and p."""
    out = []
    primary = summary["multiplicity"]["primary"]
    record = _at(summary, primary["path"])
    out.append(_key(f"PRIMARY: {primary['predictor']} for {primary['endpoint']} (adjusted)", record))
    for member in summary["multiplicity"]["families"].get("secondary", {}).get("members", []):
        out.append(_key(f"secondary: {member['path']}", _at(summary, member["path"])))
    for fit in summary["biodistribution"].get("blood_clearance", []):
        out.append(_key(f"blood-pool half-time ({fit.get('group')})", fit))
    model = summary["tumour_uptake"]["mixed_model"]
    out.append({**_key("tumour uptake mixed model: ICC (patient)", model), "estimate": model.get("icc"),
                "estimate_label": "ICC"})
    pet = summary["outcome"]
    resp = pet["response"]
    out += [_key("PET: Kruskal-Wallis across CR/PR, SD, PD", resp["kruskal_wallis"]),
            _key("PET: trend across PD < SD < CR/PR", resp["trend"]),
            _key("PET: responders vs non-responders", resp["mann_whitney"]),
            _key("PET: ROC AUC for response", resp["auc"]),
            _key("PET vs best % change", pet["pct_change"])]
    for endpoint, result in pet["survival"].items():
        out += [_key(f"PET: {endpoint.upper()} log-rank (split {result['logrank'].get('split')})", result["logrank"]),
                _key(f"PET: {endpoint.upper()} Cox", result["cox"]),
                {**_key(f"PET: {endpoint.upper()} Cox, {result['cox_adjusted'].get('nested_test', 'adjusted')} "
                        "(likelihood-ratio p)", result["cox_adjusted"]),
                 "p_value": result["cox_adjusted"].get("lr_p_first"), "p_adjusted": None, "family": None}]
    out.append(_key("lesion uptake vs lesion size change", pet["lesion_level"]["mixed_model"]))
    for column, block in summary["biomarkers"]["predictors"].items():
        out.append(_key(f"{column}: ROC AUC for response", block["response"]["auc"]))
    for diff in summary["biomarkers"]["auc_vs_pet"]:
        out.append(_key(f"AUC PET - AUC {diff['predictor']}", diff))
    ki = summary.get("kinetics", {}).get("ki_predictor")
    if ki:  # Patlak Ki beside SUV (analysis/kinetics/section.py)
        out.append(_key("Patlak Ki: ROC AUC for response", ki["response"]["auc"]))
        out += [_key(f"Patlak Ki: {e.upper()} Cox", r["cox"]) for e, r in ki["survival"].items()]
    return clean(out)


def analyze(measurements: Any, patients: pd.DataFrame | None = None, lesions: pd.DataFrame | None = None,
            params: AnalysisParams | None = None, *, kinetics: KineticsParams | None = None,
            blood_samples: pd.DataFrame | None = None) -> AnalysisResult:
    """Run every analysis (A-E of ``docs/analyses.md``) on a study's tables.

    Parameters
    ----------
    measurements
        The measurements table (``results/measurements.csv`` columns), or a results object with
        ``.measurements``, ``.patients``, ``.lesions`` (and ``.config``) attributes.
    patients
        The patient table (``patients.csv`` columns).
    lesions
        The lesion table (``lesions.csv``), optional.
    params
        The analysis choices; default: :meth:`AnalysisParams.from_config` of the results' config.
    kinetics, blood_samples
        Choices of the kinetic analyses (default: :meth:`KineticsParams.from_config`) and blood
        samples (``patient_id, hours_pi, whole_blood``) replacing the image-derived input.

    Returns
    -------
    AnalysisResult
    """
    if hasattr(measurements, "measurements"):
        results = measurements
        params = params or AnalysisParams.from_config(getattr(results, "config", None))
        kinetics = kinetics or KineticsParams.from_config(getattr(results, "config", None), analysis=params)
        measurements, patients, lesions = results.measurements, results.patients, getattr(results, "lesions", None)
    if not isinstance(measurements, pd.DataFrame) or not isinstance(patients, pd.DataFrame):
        raise AnalysisError("analyze needs the measurements and patients tables as DataFrames",
                            fix="pass results from immunopet.study.load_results or the two tables")
    params = params or AnalysisParams()
    # the models here are small: multi-threaded BLAS only adds contention (seconds per fit on a busy host)
    with threadpool_limits(limits=1, user_api="blas"):
        return _analyze(measurements, patients, lesions, params, kinetics, blood_samples)


def _analyze(measurements: pd.DataFrame, patients: pd.DataFrame, lesions: pd.DataFrame | None,
             params: AnalysisParams, kinetics: KineticsParams | None = None,
             blood_samples: pd.DataFrame | None = None) -> AnalysisResult:
    notes = Notes()
    table = patient_table(measurements, patients, day=params.day, metric=params.metric,
                          responders=params.responders, biomarkers=list(params.biomarkers), notes=notes,
                          min_group=params.min_group)
    if table["pet_uptake"].notna().sum() == 0:
        raise AnalysisError(f"no patient has lesion {params.metric} on day {params.day:g}", attribute=params.metric,
                            fix="check the lesion VOIs in vois.csv and the outcome day")
    bio_block, bio_tables = biodistribution(measurements, params=params, notes=notes)
    tum_block, tum_tables = tumour_uptake(measurements, table, params=params, notes=notes)
    with_pet = table[table["pet_uptake"].notna()].reset_index(drop=True)
    out_block, out_tables = outcome(measurements, with_pet, lesions, params=params, notes=notes)
    mark_block, mark_tables = biomarkers(with_pet, out_block, params=params, notes=notes)
    kin_block, kin_tables = kinetics_section(measurements, with_pet, mark_block, mark_tables, params=params,
                                             kinetics_params=kinetics, notes=notes, samples=blood_samples)
    tables = {**bio_tables, **tum_tables}
    tables.update({k: v for k, v in {**out_tables, **mark_tables, **kin_tables}.items() if not k.startswith("_")})
    for private, name in CURVE_TABLES.items():
        parts = [t[private] for t in (out_tables, mark_tables, kin_tables) if private in t and not t[private].empty]
        tables[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    summary = {
        "schema_version": SCHEMA_VERSION,
        "parameters": params.as_dict(),
        "inputs": {"n_patients": int(len(table)), "n_patients_with_pet": int(len(with_pet)),
                   "n_evaluable": int(with_pet["responder"].notna().sum()),
                   "n_responders": int((with_pet["responder"] == 1).sum()),
                   "n_measurements": int(len(measurements)),
                   "n_lesions_on_day": int(with_pet["n_lesions"].sum()),
                   "days": sorted(float(d) for d in pd.to_numeric(measurements["day"], errors="coerce")
                                  .dropna().unique())},
        "biodistribution": bio_block, "tumour_uptake": tum_block, "outcome": out_block, "biomarkers": mark_block,
        "kinetics": kin_block,
    }
    summary["multiplicity"] = apply_plan(summary, params.plan)
    for name in summary["multiplicity"]["unmatched"]:
        notes.warn("multiplicity", f"family pattern {name!r} matches no result (check the path in docs/analyses.md)")
    if not summary["multiplicity"]["primary"]["found"]:
        notes.warn("multiplicity", f"the primary result {summary['multiplicity']['primary']['path']} was not computed "
                                   "(predictor or endpoint missing)")
    summary["key_results"] = key_results(summary)
    summary["warnings"] = list(notes.items)
    return AnalysisResult(tables=tables, summary=clean(summary))
