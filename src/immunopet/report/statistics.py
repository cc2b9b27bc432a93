"""Reading the analysis summary (``analysis/analysis.json``) for the report.

Every test and model in the summary is a *stat record* (a dict with ``test``, ``inputs``, ``n``,
``estimate``, ``ci_low``, ``ci_high``, ``p_value``, ``method``; see ``docs/analyses.md``). This
module finds them wherever they sit, so the methods text names exactly the tests that were run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from immunopet.analysis.record import stat_records

#: How the methods text describes each test (by its ``test`` name); unknown tests are named as they are.
TEST_PHRASES = {
    "Mann-Whitney U": "Mann-Whitney U tests (responders vs non-responders)",
    "Kruskal-Wallis H": "Kruskal-Wallis tests (across best-response categories)",
    "Kendall tau-b trend": "Kendall's tau-b trend tests across ordered response categories",
    "Spearman correlation": "Spearman rank correlations",
    "ROC AUC": "receiver-operating-characteristic analysis (AUC with stratified bootstrap confidence intervals)",
    "paired AUC difference": "paired comparisons of AUCs by DeLong's test (paired bootstrap as a second method)",
    "log-rank test": "Kaplan-Meier estimates compared by log-rank tests",
    "Cox proportional hazards": "Cox proportional-hazards models (Efron ties; unadjusted and stratified by the "
                                "covariates; Wald and likelihood-ratio tests; Schoenfeld-residual tests of "
                                "proportional hazards; Harrell's C with bootstrap intervals)",
    "linear mixed model": "linear mixed models with a random intercept per patient (and per lesion within patient "
                          "for repeated scans)",
    "Firth logistic regression": "Firth-penalised logistic regression adjusted for the covariates (penalised "
                                 "likelihood-ratio tests, profile-likelihood intervals)",
    "RMST difference": "restricted-mean-survival-time differences",
    "piecewise Cox": "piecewise Cox models (hazard ratios before and after a stated time)",
    "cross-validated AUC": "cross-validated AUCs of combined models",
    "log-linear OLS": "log-linear least-squares fits (blood-pool clearance half-times, organ uptake trends)",
}


def key_results(summary: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The records under ``key_results`` (a list or a mapping of records), in their order."""
    return [record for _, record in stat_records(summary.get("key_results", []))]


def statistics_sentences(summary: Mapping[str, Any]) -> list[str]:
    """Methods sentences naming each kind of test run, the CI level, resampling and warnings."""
    if not summary:
        return ["No statistical analyses were run."]
    run, skipped = [], set()
    for _, record in stat_records(summary):
        name = str(record["test"])
        if record.get("p_value") is None and record.get("estimate") is None and record.get("reason"):
            skipped.add(name)
            continue
        if name not in run:
            run.append(name)
    params = summary.get("parameters", {}) if isinstance(summary.get("parameters"), Mapping) else {}
    sentences = []
    if run:
        phrases = [TEST_PHRASES.get(name, name) for name in run]
        sentences.append("Statistics comprised " + _join(phrases) + ".")
    extras = []
    if params.get("ci_level"):
        extras.append(f"confidence intervals are {100 * float(params['ci_level']):g} %")
    if params.get("n_boot"):
        extras.append(f"bootstrap intervals used {int(params['n_boot'])} resamples (seed {params.get('seed', 0)})")
    if params.get("split") is not None:
        split = params["split"]
        extras.append("patients were split at the median of each predictor" if split == "median"
                      else f"PET uptake was split at {split}")
    if extras:
        sentences.append("All tests were two-sided; " + "; ".join(extras) + ".")
    sentences += plan_sentences(summary)
    not_run = sorted(skipped - set(run))
    if not_run:
        sentences.append("Not computable on these data (reason recorded in analysis.json): " + ", ".join(not_run) + ".")
    n_warnings = len(summary.get("warnings", []) or [])
    if n_warnings:
        sentences.append(f"The analyses recorded {n_warnings} small-sample or model warning(s), listed in analysis.json.")
    return sentences


def plan_sentences(summary: Mapping[str, Any]) -> list[str]:
    """The prespecified primary analysis with its result (raw and adjusted p), and how multiplicity was handled."""
    block = summary.get("multiplicity")
    if not isinstance(block, Mapping):
        return []
    primary = block.get("primary", {})
    record = next((r for path, r in stat_records(summary) if ".".join(path) == primary.get("path")), None)
    plan = (summary.get("parameters") or {}).get("plan") or {}
    covariates = ", ".join(plan.get("covariates") or []) or "nothing"
    out = []
    if record is not None and record.get("p_value") is not None:
        ci = ""
        if record.get("ci_low") is not None and record.get("ci_high") is not None:
            ci = f" ({100 * float(record.get('ci_level') or 0.95):g} % CI {record['ci_low']:.2f}-{record['ci_high']:.2f})"
        out.append(f"The prespecified primary analysis was {record['test']} of {primary.get('predictor')} for "
                   f"{primary.get('endpoint')} adjusted for {covariates}: {record.get('estimate_label')} "
                   f"{record['estimate']:.2f}{ci}, p = {_p(record['p_value'])} (n = {record['n']}).")
    elif primary:
        out.append(f"The prespecified primary analysis ({primary.get('predictor')} for {primary.get('endpoint')}) "
                   "could not be computed on these data.")
    families = block.get("families") or {}
    parts = []
    for name, family in families.items():
        if name == "primary" or not family.get("size"):
            continue
        adjusted = ", ".join(_p(m["p_adjusted"]) for m in family.get("members", []) if m.get("p_adjusted") is not None)
        parts.append(f"{name} ({family['size']} tests; adjusted p {adjusted})")
    if parts:
        out.append("P-values were Holm-adjusted within families: " + "; ".join(parts)
                   + ". All other results are exploratory and unadjusted.")
    return out


def km_notes(summary: Mapping[str, Any]) -> dict[str, str]:
    """Per endpoint (``pfs``, ``os``): the log-rank p and Cox hazard ratio of PET uptake, as text."""
    notes: dict[str, list[str]] = {}
    for path, record in stat_records(summary.get("outcome", summary)):
        inputs = str(record.get("inputs", ""))
        endpoint = "pfs" if inputs.startswith("progression-free") else "os" if inputs.startswith("overall") else None
        if endpoint is None or "pet" not in inputs.lower() or record.get("p_value") is None:
            continue
        if record["test"] == "log-rank test":
            notes.setdefault(endpoint, []).append(f"log-rank p = {_p(record['p_value'])}")
        elif record["test"] == "Cox proportional hazards" and record.get("estimate") is not None and "+" not in inputs:
            ci = ""
            if record.get("ci_low") is not None and record.get("ci_high") is not None:
                ci = f" ({record['ci_low']:.2f}-{record['ci_high']:.2f})"
            label = record.get("estimate_label") or "hazard ratio"
            notes.setdefault(endpoint, []).append(f"HR {record['estimate']:.2f}{ci}, {label}")
    return {k: "\n".join(dict.fromkeys(v)) for k, v in notes.items()}


def _p(value: float) -> str:
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]
