"""The kinetics methods paragraph states the parameters and counts actually used."""

from __future__ import annotations

from immunopet.analysis.kinetics.methods import kinetics_methods
from immunopet.analysis.kinetics.params import KineticsParams


def _block(**changes):
    params = KineticsParams(**changes).as_dict()
    return {"parameters": params, "n_patlak_fits": 7, "patlak": [{}] * 9,
            "blood_input": [{"source": "image", "early_fraction": f} for f in (0.02, 0.018, 0.025)]}


def test_defaults_are_stated():
    text = kinetics_methods(_block())
    assert "SUVmean of the scans from nominal day 2 on" in text
    assert "bi-exponential curve fitted" in text and "counting statistics" in text
    assert "(7 of 9 VOIs fitted)" in text and "95 % confidence intervals" in text
    assert "median 2.0 % (range 1.8-2.5 %)" in text and "78.41 h" in text


def test_other_choices_change_the_text():
    text = kinetics_methods(_block(patlak_from_day=1, weights="uniform", blood_method="loglinear", metric="suv_peak",
                                   ci_level=0.9))
    assert "SUVpeak of the scans from nominal day 1 on" in text and "ordinary least squares" in text
    assert "exponential interpolation" in text and "90 % confidence intervals" in text
    no_run = kinetics_methods({"parameters": {}, "reason": "no uptake times (hours_pi)"})
    assert no_run == "Kinetic analyses were not run (no uptake times (hours_pi))."


def test_analyze_without_uptake_times_skips_kinetics_with_a_reason():
    import pandas as pd

    from immunopet.analysis.kinetics.section import kinetics_section
    from immunopet.analysis.params import AnalysisParams
    from immunopet.analysis.record import Notes

    notes = Notes()
    m = pd.DataFrame({"patient_id": ["P1"], "scan_id": ["S"], "day": [7.0], "voi_id": ["L1"], "kind": ["lesion"],
                      "site": ["lung"], "suv_mean": [3.0]})
    block, tables = kinetics_section(m, pd.DataFrame(), {}, {}, params=AnalysisParams(), kinetics_params=None,
                                     notes=notes)
    assert tables == {} and block["reason"] == "no uptake times (hours_pi)" and "not run" in block["methods"]
    assert notes.items[0]["analysis"] == "kinetics"
