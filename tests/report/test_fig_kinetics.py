"""Kinetics figures: Patlak points rebuilt from the stored blood curve lie on the true line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.study_kinetics import kinetics
from immunopet.analysis.record import Notes
from immunopet.report import fig_kinetics
from immunopet.simulate.kinetics import BloodCurve, tissue_suv

BLOOD = BloodCurve(5.0, 10.0, 8.0, 60.0)
HOURS = np.array([1.2, 47.0, 97.0, 166.0])
VOIS = {"blood_pool": ("organ", 1.0, 0.0), "liver": ("organ", 0.3, 0.006), "L1": ("lesion", 0.15, 0.012),
        "L2": ("lesion", 0.1, 0.004)}


@pytest.fixture(scope="module")
def tables():
    rows = []
    for voi, (kind, v_t, ki) in VOIS.items():
        suv = BLOOD.suv(HOURS) if voi == "blood_pool" else tissue_suv(BLOOD, v_t, ki, HOURS)
        for day, h, s in zip((0.04, 2, 4, 7), HOURS, suv, strict=True):
            rows.append({"patient_id": "P01", "scan_id": f"P01_{day}", "day": day, "hours_pi": h, "voi_id": voi,
                         "kind": kind, "site": voi, "suv_mean": s, "suv_max": s, "volume_ml": 10.0})
    _, out = kinetics(pd.DataFrame(rows), params=KineticsParams(), notes=Notes())
    return out


def test_patlak_points_and_lines(tables):
    x, y = fig_kinetics.patlak_points(tables["time_activity"], tables["blood_input"], tables["patlak"], "P01", "L1")
    t = HOURS[1:]
    np.testing.assert_allclose(x, BLOOD.integral(t) / BLOOD.suv(t), rtol=1e-6)
    np.testing.assert_allclose(y, 0.012 * x + 0.15, rtol=1e-6)
    fig = fig_kinetics.patlak_figure(tables["time_activity"], tables["blood_input"], tables["patlak"], "P01")
    labels = [line.get_label() for line in fig.axes[0].lines]
    assert any(label.startswith("L1: Ki 0.0120/h") for label in labels)
    assert any(label.startswith("L2: Ki 0.0040/h") for label in labels)


def test_curve_figures_and_saving(tables, tmp_path):
    fig = fig_kinetics.patient_curves_figure(tables["time_activity"], "P01")
    lesion_axis = fig.axes[1]
    l1 = next(line for line in lesion_axis.lines if line.get_label() == "L1")
    np.testing.assert_allclose(l1.get_ydata(), tissue_suv(BLOOD, 0.15, 0.012, HOURS), rtol=1e-9)
    fig_kinetics.median_curves_figure(tables["median_curves"])
    saved = fig_kinetics.patient_kinetics_figures(tables, tmp_path, svg=False)
    assert [f.name for f in saved["P01"]] == ["kinetics_curves_P01", "patlak_P01"]
    assert (tmp_path / "patlak_P01.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="no time-activity"):
        fig_kinetics.patient_curves_figure(tables["time_activity"], "P99")
    assert fig_kinetics.patient_kinetics_figures({}, tmp_path, svg=False) == {}
