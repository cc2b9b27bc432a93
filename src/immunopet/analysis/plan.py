"""Applying the prespecified analysis plan to the results: roles, families and Holm-adjusted p-values.

Every stat record in ``analysis.json`` is named by its path (``outcome.response.firth_adjusted``,
``biomarkers.auc_vs_pet.ihc_ic``). The plan (``study.yaml`` ``analysis:``,
:class:`immunopet.study.analysis_plan.AnalysisPlan`) makes one path the *primary* result, the
primary predictor's adjusted models on the other endpoints and the paired AUC comparisons
*secondary*, and everything else *exploratory*. Families of paths get Holm-adjusted p-values
(:mod:`immunopet.analysis.multiplicity`); each record gets ``role``, and in a family ``family`` and
``p_adjusted``.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase
from typing import Any

import pandas as pd

from immunopet.analysis.multiplicity import holm
from immunopet.analysis.record import stat_records
from immunopet.study.analysis_plan import AnalysisPlan

PET = "pet_uptake"
ROLES = ("primary", "secondary", "exploratory")


def split_covariates(table: pd.DataFrame, covariates: Sequence[str], *, exclude: Sequence[str] = ()) -> tuple[
        list[str], list[str]]:
    """(categorical, numeric) covariates present in ``table``; categorical ones stratify Cox models."""
    categorical, numeric = [], []
    for column in covariates:
        if column not in table.columns or column in exclude:
            continue
        values = pd.to_numeric(table[column], errors="coerce")
        (numeric if values.notna().sum() == table[column].notna().sum() else categorical).append(column)
    return categorical, numeric


def block_path(predictor: str) -> str:
    """Where a predictor's block sits in the summary."""
    return "outcome" if predictor == PET else f"biomarkers.predictors.{predictor}"


def result_path(predictor: str, endpoint: str) -> str:
    """The adjusted model of ``predictor`` on ``endpoint`` (the plan's unit of a primary/secondary result)."""
    head = block_path(predictor)
    return f"{head}.response.firth_adjusted" if endpoint == "response" else f"{head}.survival.{endpoint}.cox_adjusted"


def families(plan: AnalysisPlan) -> dict[str, list[str]]:
    """Family name -> path patterns: built-in ``primary``, ``secondary``, ``auc_vs_pet``, then the plan's."""
    primary = plan.primary
    secondary = [result_path(primary.predictor, e) for e in plan.secondary_endpoints if e != primary.endpoint]
    out = {"primary": [result_path(primary.predictor, primary.endpoint)], "secondary": secondary,
           "auc_vs_pet": ["biomarkers.auc_vs_pet.*"]}
    out.update({name: list(patterns) for name, patterns in plan.families.items()})
    return {name: patterns for name, patterns in out.items() if patterns}


def role_of(path: str, plan: AnalysisPlan, fams: dict[str, list[str]]) -> str:
    """``primary`` for the primary path, ``secondary`` for a secondary or paired-AUC result, else exploratory."""
    if path == fams["primary"][0]:
        return "primary"
    for name in ("secondary", "auc_vs_pet"):
        if any(fnmatchcase(path, pattern) for pattern in fams.get(name, [])):
            return "secondary"
    return "exploratory"


def apply_plan(summary: dict[str, Any], plan: AnalysisPlan) -> dict[str, Any]:
    """Mark every record of ``summary`` (in place) and return the ``multiplicity`` block.

    Returns
    -------
    dict
        ``primary`` (path, found), ``families``: name -> {patterns, method, members: [{path,
        p_value, p_adjusted}]}. A pattern that matches nothing is listed under ``unmatched``.
    """
    fams = families(plan)
    records = [(".".join(path), record) for path, record in stat_records(summary)]
    for path, record in records:
        record["role"] = role_of(path, plan, fams)
    block: dict[str, Any] = {"primary": {"path": fams["primary"][0],
                                         "found": any(p == fams["primary"][0] for p, _ in records),
                                         "predictor": plan.primary.predictor, "endpoint": plan.primary.endpoint},
                             "families": {}, "unmatched": []}
    for name, patterns in fams.items():
        members = [(path, record) for path, record in records if any(fnmatchcase(path, pat) for pat in patterns)]
        block["unmatched"] += [pat for pat in patterns if not any(fnmatchcase(p, pat) for p, _ in members)]
        adjusted = holm([record.get("p_value") for _, record in members])
        for (path, record), p_adj in zip(members, adjusted, strict=True):
            record["family"] = name
            record["p_adjusted"] = p_adj
        block["families"][name] = {"patterns": patterns, "method": "Holm", "size": sum(a is not None for a in adjusted),
                                   "members": [{"path": path, "p_value": record.get("p_value"), "p_adjusted": p_adj}
                                               for (path, record), p_adj in zip(members, adjusted, strict=True)]}
    return block
