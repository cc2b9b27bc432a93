"""Blood samples (Bq/mL at the sample time) as the Patlak input give the true Ki and V_T."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from immunopet.analysis.kinetics.blood_samples import injection_times, samples_input
from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.study_kinetics import kinetics
from immunopet.analysis.record import Notes
from immunopet.errors import AnalysisError
from immunopet.simulate.kinetics import BloodCurve, tissue_suv

BLOOD = BloodCurve(5.0, 10.0, 8.0, 60.0)
LAM = np.log(2) / 78.41
INJECTED, WEIGHT_G = 37e6, 70000.0
INJECTION = dt.datetime(2017, 1, 9, 10, 0)


def bq_measured(suv, hours):
    return suv * INJECTED * np.exp(-LAM * hours) / WEIGHT_G


def test_samples_replace_the_image_input():
    scan_hours = np.array([1.1, 47.5, 96.2, 167.0])
    rows = []
    for voi, v_t, ki in (("liver", 0.3, 0.006), ("L1", 0.15, 0.012)):
        suv = tissue_suv(BLOOD, v_t, ki, scan_hours)
        for day, h, s in zip((0.04, 2, 4, 7), scan_hours, suv, strict=True):
            rows.append({"patient_id": "P01", "scan_id": f"S{day}", "day": day, "hours_pi": h, "voi_id": voi,
                         "kind": "lesion" if voi == "L1" else "organ", "site": voi, "suv_mean": s,
                         "mean_bqml": bq_measured(s, h), "volume_ml": 20.0})
    sample_hours = np.array([0.25, 2.0, 24.0, 72.0, 160.0])
    raw = pd.DataFrame({"patient_id": "P01",
                        "sample_datetime": [INJECTION + dt.timedelta(hours=float(h)) for h in sample_hours],
                        "whole_blood_bqml": bq_measured(BLOOD.suv(sample_hours), sample_hours)})
    samples = samples_input(raw, {"P01": INJECTION}, decay_per_h=LAM)
    np.testing.assert_allclose(samples["whole_blood"], BLOOD.suv(sample_hours) * INJECTED / WEIGHT_G, rtol=1e-12)
    _, tables = kinetics(pd.DataFrame(rows), params=KineticsParams(), notes=Notes(), samples=samples)
    assert tables["blood_input"]["source"].tolist() == ["blood samples"]
    patlak = tables["patlak"].set_index("voi_id")
    assert patlak.loc["L1", "ki_per_h"] == pytest.approx(0.012, rel=1e-5)
    assert patlak.loc["liver", "v_t"] == pytest.approx(0.3, rel=1e-4)


def test_injection_times_and_bad_samples():
    scans = pd.DataFrame({"patient_id": ["P01"], "suv_audit": [
        '{"inputs": {"injection_datetime": {"value": "2017-01-09T10:00:00"}}}']})
    assert injection_times(scans) == {"P01": INJECTION}
    early = pd.DataFrame({"patient_id": ["P01"], "sample_datetime": [INJECTION], "whole_blood_bqml": [1.0]})
    with pytest.raises(AnalysisError, match="not after the injection"):
        samples_input(early, {"P01": INJECTION}, decay_per_h=LAM)
    with pytest.raises(AnalysisError, match="no measured scan"):
        samples_input(early.assign(patient_id="P02"), {"P01": INJECTION}, decay_per_h=LAM)
