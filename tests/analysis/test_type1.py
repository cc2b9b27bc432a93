"""The primary test holds its level: 200 simulated null trials (no PET effect) of 22 patients.

The cohort model (``immunopet.simulate.draw_cohort``, no images) with ``beta_pet: 0`` and the latent
IHC marker uncorrelated with PET uptake (``ihc_corr: 0``), so PET uptake carries no information on
response; tumour type still affects both uptake and response, which the adjusted primary test must
absorb. The primary test is the plan's default: Firth logistic regression of response on log2 PET
uptake adjusted for tumour type, penalised likelihood-ratio p.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from immunopet.analysis.firth import firth_logistic
from immunopet.analysis.record import Notes

NULL = {"clinical": {"beta_pet": 0.0, "ihc_corr": 0.0}}
SEEDS = 200


def primary_table(cohort, seed: int) -> pd.DataFrame:
    """Patient PET uptake (geometric mean of noisy day-7 SUVmax) with type and response."""
    rng = np.random.default_rng(seed)
    lesions = cohort.lesions
    measured = np.log(lesions["suv_max_day7"].to_numpy()) + rng.normal(0.0, 0.10, len(lesions))
    uptake = np.exp(pd.Series(measured).groupby(lesions["patient_id"].to_numpy()).mean())
    patients = cohort.patients.set_index("patient_id")
    response = patients["best_response"]
    table = pd.DataFrame({"pet_uptake": uptake, "tumour_type": patients["tumour_type"],
                          "responder": np.where(response == "NE", np.nan, response.isin(["CR", "PR"]).astype(float))})
    return table[table["responder"].notna()]


@pytest.mark.slow
def test_primary_test_rejects_at_its_nominal_rate_under_the_null():
    from immunopet.simulate import draw_cohort

    rejections, run = 0, 0
    for seed in range(SEEDS):
        table = primary_table(draw_cohort(22, seed, params=NULL, days=(7,)), seed)
        record = firth_logistic(table, predictor="pet_uptake", log2=True, covariates=["tumour_type"], ci_level=0.95,
                                notes=Notes(), analysis="null", profile_ci=False)
        if record["p_value"] is None:
            continue
        run += 1
        rejections += record["p_value"] < 0.05
    assert run >= 180  # a trial without any responder has no test
    rate = rejections / run
    # 99 % binomial range around 5 % for ~200 trials: about 1.5 % to 9.5 %
    low, high = stats.binom.ppf([0.005, 0.995], run, 0.05) / run
    assert low <= rate <= high, f"type-I error {rate:.3f} over {run} null trials"
