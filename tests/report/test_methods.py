"""The methods text states the parameters actually used, and only those."""

from __future__ import annotations

import pandas as pd
import pytest

from immunopet.report.methods import methods_parameters, methods_text
from immunopet.report.statistics import statistics_sentences


@pytest.fixture()
def config():
    return {"tracer": "89Zr-atezolizumab", "nuclide": "89Zr", "suv_type": "lbm", "suv_peak": "local",
            "lesion_metric": "suv_peak", "outcome_day": 4, "responders": ["CR", "PR", "SD"]}


def test_methods_text_names_every_parameter(config, synthetic_measurements):
    m = synthetic_measurements.copy()
    m.loc[m["day"] == 2, "hours_pi"] = m.loc[m["day"] == 2, "hours_pi"] + [i % 5 for i in range(int((m["day"] == 2).sum()))]
    scans = pd.DataFrame({"patient_id": ["P01", "P02", "P03"], "injected_mbq": [36.0, 37.5, 39.0]})
    params = methods_parameters(config, m, scans=scans, statistics=["Statistics X were run."], software_version="9.9.9")
    text = " ".join(methods_text(params))
    assert "22 patients received a single injection of 89Zr-atezolizumab" in text
    assert "injected activity median 37.5 MBq, range 36.0-39.0 MBq" in text
    assert "nominal scan days 0.04, 2, 4 and 7" in text
    assert "day 2: median 50 h (range 48-52 h)" in text  # 48 + 0..4 h
    assert "lean body mass by the Janmahasatian formula" in text
    assert "Zr-89 half-life of 78.41 h" in text
    assert "centred on the lesion's hottest voxel (IBSI local intensity peak" in text
    assert "geometric mean of lesion SUVpeak over all lesions on the day-4 scan" in text
    assert "CR, PR or SD" in text
    assert "blood pool, kidneys, liver and spleen" in text
    assert "Lesions (66 in 22 patients)" in text
    assert "Statistics X were run." in text
    assert "immunopet 9.9.9" in text
    assert "body weight" not in text and "PERCIST" not in text


def test_global_peak_and_body_weight(config, synthetic_measurements):
    params = methods_parameters({**config, "suv_type": "bw", "suv_peak": "global"}, synthetic_measurements)
    text = " ".join(methods_text(params))
    assert "normalised to body weight (SUVbw)" in text
    assert "placed anywhere inside the lesion VOI (PERCIST" in text
    assert "injected activity median" not in text  # no activities given: not claimed


def test_statistics_sentences_from_stat_records():
    summary = {
        "parameters": {"ci_level": 0.9, "n_boot": 500, "seed": 4, "split": "median"},
        "outcome": {"a": {"test": "ROC AUC", "n": 20, "estimate": 0.8, "p_value": None},
                    "b": {"test": "log-rank test", "n": 20, "estimate": None, "p_value": 0.03},
                    "c": {"test": "Cox proportional hazards", "n": 3, "estimate": None, "p_value": None,
                          "reason": "no events"}},
        "warnings": [{"analysis": "x", "message": "small"}],
    }
    text = " ".join(statistics_sentences(summary))
    assert "receiver-operating-characteristic analysis" in text and "log-rank tests" in text
    assert "confidence intervals are 90 %" in text and "500 resamples (seed 4)" in text
    assert "Not computable on these data (reason recorded in analysis.json): Cox proportional hazards." in text
    assert "1 small-sample or model warning(s)" in text
    assert statistics_sentences({}) == ["No statistical analyses were run."]


def test_plan_sentences_state_the_primary_result_and_the_adjustment():
    from immunopet.analysis.plan import apply_plan
    from immunopet.study.analysis_plan import AnalysisPlan

    record = {"test": "Firth logistic regression", "n": 21, "estimate": 3.2, "estimate_label": "odds ratio per doubling",
              "ci_low": 1.1, "ci_high": 12.5, "ci_level": 0.95, "p_value": 0.012}
    summary = {"parameters": {"plan": {"covariates": ["tumour_type"]}},
               "outcome": {"response": {"firth_adjusted": record},
                           "survival": {"pfs": {"cox_adjusted": {"test": "Cox proportional hazards", "n": 22,
                                                                 "p_value": 0.02}},
                                        "os": {"cox_adjusted": {"test": "Cox proportional hazards", "n": 22,
                                                                "p_value": 0.03}}}}}
    summary["multiplicity"] = apply_plan(summary, AnalysisPlan())
    text = " ".join(statistics_sentences(summary))
    assert ("The prespecified primary analysis was Firth logistic regression of pet_uptake for response adjusted "
            "for tumour_type: odds ratio per doubling 3.20 (95 % CI 1.10-12.50), p = 0.012 (n = 21).") in text
    assert "secondary (2 tests; adjusted p 0.040, 0.040)" in text and "exploratory and unadjusted" in text
