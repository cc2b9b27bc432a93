"""Holm by hand; the plan's roles, families and Holm-adjusted p-values on a summary; plan validation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from immunopet.analysis.multiplicity import holm
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.plan import apply_plan, families, result_path
from immunopet.errors import AnalysisError
from immunopet.study.analysis_plan import AnalysisPlan, CutOff
from immunopet.study.config import StudyConfig


def test_holm_by_hand():
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.6])[1] is None and holm([0.5, None, 0.6])[0] == pytest.approx(1.0)
    assert holm([None]) == [None] and holm([]) == []


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=12))
def test_holm_is_at_least_raw_and_at_most_bonferroni(ps):
    from statsmodels.stats.multitest import multipletests

    adjusted = holm(ps)
    assert adjusted == pytest.approx(list(multipletests(ps, method="holm")[1]))
    for raw, adj in zip(ps, adjusted, strict=True):
        assert raw - 1e-12 <= adj <= min(1.0, len(ps) * raw) + 1e-12


def record(p):
    return {"test": "t", "n": 10, "p_value": p}


def summary():
    return {"parameters": {"plan": "ignored"},
            "outcome": {"response": {"firth_adjusted": record(0.01), "auc": record(None)},
                        "survival": {"pfs": {"cox_adjusted": record(0.02), "cox": record(0.001)},
                                     "os": {"cox_adjusted": record(0.04)}}},
            "biomarkers": {"auc_vs_pet": [{**record(p), "predictor": c} for c, p in
                                          (("ihc_ic", 0.002), ("ihc_tc", 0.005), ("rna_cd274", 0.035),
                                           ("rna_teff", 0.133))]}}


def test_roles_families_and_adjusted_p():
    s = summary()
    plan = AnalysisPlan(families={"unadjusted_cox": ["outcome.survival.*.cox"], "typo": ["outcome.nothing"]})
    block = apply_plan(s, plan)
    assert s["outcome"]["response"]["firth_adjusted"]["role"] == "primary"
    assert s["outcome"]["response"]["firth_adjusted"]["p_adjusted"] == 0.01
    assert s["outcome"]["survival"]["pfs"]["cox_adjusted"]["role"] == "secondary"
    assert s["outcome"]["survival"]["pfs"]["cox_adjusted"]["p_adjusted"] == pytest.approx(0.04)  # 2 x 0.02
    assert s["outcome"]["survival"]["os"]["cox_adjusted"]["p_adjusted"] == pytest.approx(0.04)
    assert s["outcome"]["response"]["auc"]["role"] == "exploratory" and "p_adjusted" not in s["outcome"]["response"]["auc"]
    aucs = {r["predictor"]: r["p_adjusted"] for r in s["biomarkers"]["auc_vs_pet"]}
    assert aucs == pytest.approx({"ihc_ic": 0.008, "ihc_tc": 0.015, "rna_cd274": 0.07, "rna_teff": 0.133})
    assert s["outcome"]["survival"]["pfs"]["cox"]["family"] == "unadjusted_cox"
    assert block["unmatched"] == ["outcome.nothing"] and block["primary"]["found"]
    assert block["families"]["auc_vs_pet"]["size"] == 4


def test_primary_on_a_survival_endpoint_of_a_biomarker():
    plan = AnalysisPlan(primary={"predictor": "ihc_ic", "endpoint": "pfs"}, secondary_endpoints=["pfs", "os"])
    assert families(plan)["primary"] == ["biomarkers.predictors.ihc_ic.survival.pfs.cox_adjusted"]
    assert families(plan)["secondary"] == ["biomarkers.predictors.ihc_ic.survival.os.cox_adjusted"]
    assert result_path("pet_uptake", "response") == "outcome.response.firth_adjusted"


def test_plan_from_study_yaml_and_its_errors():
    config = StudyConfig.model_validate({"name": "s", "nuclide": "Zr-89", "analysis": {
        "primary": {"predictor": "pet_uptake", "endpoint": "os"}, "cutoffs": {"pet_uptake": {"quantile": 0.33}}}})
    params = AnalysisParams.from_config(config)
    assert params.plan.primary.endpoint == "os" and params.plan.cutoffs["pet_uptake"].quantile == 0.33
    assert params.as_dict()["plan"]["covariates"] == ["tumour_type"]
    with pytest.raises(ValidationError, match="unknown|extra|Extra"):
        StudyConfig.model_validate({"name": "s", "nuclide": "Zr-89", "analysis": {"primery": {}}})
    with pytest.raises(AnalysisError, match="analysis.primary.endpoint"):
        AnalysisParams.from_config({"analysis": {"primary": {"endpoint": "survival"}}})
    with pytest.raises(AnalysisError, match="lists no results"):
        AnalysisParams.from_config({"analysis": {"families": {"empty": []}}})


@given(st.one_of(st.floats(allow_nan=True), st.none()), st.one_of(st.floats(allow_nan=True), st.none()))
def test_cutoff_needs_exactly_one_valid_definition(value, quantile):
    ok = (value is None) != (quantile is None) and (quantile is None or 0 < quantile < 1)
    try:
        CutOff(value=value, quantile=quantile)
    except ValidationError:
        assert not ok or (value is not None and value != value)
    else:
        assert ok
