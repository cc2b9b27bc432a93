"""One predictor against one endpoint: the adjusted Cox model without covariates is the unadjusted one."""

from __future__ import annotations

import pytest
from lifelines.datasets import load_rossi

from immunopet.analysis.endpoint_survival import endpoint_analyses
from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.record import Notes
from immunopet.analysis.survival import cox_fit
from immunopet.study.analysis_plan import AnalysisPlan


def rossi_patients():
    return load_rossi().rename(columns={"week": "os_months", "arrest": "os_event"})


def _block(covariates: list[str]) -> dict:
    params = AnalysisParams(n_boot=100, plan=AnalysisPlan(covariates=covariates))
    block, *_ = endpoint_analyses(rossi_patients(), "prio", "os", log2=False, params=params, notes=Notes(),
                                  section="t")
    return block


def test_no_covariates_adjusted_model_is_the_unadjusted_one():
    block = _block([])
    cox, adjusted = block["cox"], block["cox_adjusted"]
    assert adjusted is not cox and "nested_test" not in cox
    assert adjusted["nested_test"] == "prio added to nothing"
    for key in ("n", "events", "estimate", "ci_low", "ci_high", "p_value", "lr_p", "lr_p_first", "ph_test_p"):
        assert adjusted[key] == cox[key], key
    direct = cox_fit(rossi_patients(), endpoint="os", covariates=["prio"])
    assert adjusted["estimate"] == pytest.approx(direct["estimate"], rel=1e-9)


def test_adjusted_model_against_a_direct_fit():
    block = _block(["age", "wexp"])  # both numeric in the Rossi data: entered as covariates, not strata
    direct = cox_fit(rossi_patients(), endpoint="os", covariates=["prio", "age", "wexp"])
    adjusted = block["cox_adjusted"]
    assert adjusted["nested_test"] == "prio added to age + wexp"
    assert adjusted["estimate"] == pytest.approx(direct["estimate"], rel=1e-9)
    assert adjusted["lr_p_first"] == pytest.approx(direct["lr_p_first"], rel=1e-9)
    assert adjusted["estimate"] != block["cox"]["estimate"]


def test_likelihood_ratio_of_the_first_covariate_from_a_given_reduced_model(monkeypatch):
    from lifelines import CoxPHFitter

    from immunopet.analysis.cox_checks import lr_test

    rossi = rossi_patients()
    refitted = cox_fit(rossi, endpoint="os", covariates=["prio", "age"])
    reduced = cox_fit(rossi, endpoint="os", covariates=["age"])
    fits = []
    original = CoxPHFitter.fit
    monkeypatch.setattr(CoxPHFitter, "fit", lambda self, *a, **k: fits.append(1) or original(self, *a, **k))
    given = cox_fit(rossi, endpoint="os", covariates=["prio", "age"], reduced=reduced)
    assert len(fits) == 1  # the full model only
    assert given["lr_p_first"] == pytest.approx(refitted["lr_p_first"], rel=1e-9)
    bogus = cox_fit(rossi, endpoint="os", covariates=["prio", "age"], reduced={**reduced, "log_likelihood": -700.0})
    assert bogus["lr_p_first"] == pytest.approx(lr_test(given["log_likelihood"], -700.0, 1)[1])
    other = cox_fit(rossi, endpoint="os", covariates=["prio", "age"], reduced={**reduced, "n": 100})
    assert len(fits) == 4  # other patients: the reduced model refitted on this model's patients
    assert other["lr_p_first"] == pytest.approx(refitted["lr_p_first"], rel=1e-9)
