"""The outcome figures agree with the independent analysis package on the same patients."""

from __future__ import annotations

import numpy as np
import pytest

from immunopet.analysis import AnalysisParams, analyze
from immunopet.report.fig_outcome import km_figure, roc_figure
from immunopet.report.statistics import km_notes, statistics_sentences


@pytest.fixture(scope="module")
def analysed(synthetic_patients, synthetic_measurements):
    patients = synthetic_patients.drop(columns=["pet_uptake", "n_lesions"])
    return analyze(synthetic_measurements, patients, params=AnalysisParams(n_boot=200))


def _line(fig, gid):
    return next(line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == gid)


def test_roc_area_equals_analysis_auc(analysed, synthetic_patients):
    uptake = analysed.tables["patient_uptake"][["patient_id", "pet_uptake"]]
    table = synthetic_patients.drop(columns="pet_uptake").merge(uptake, on="patient_id")
    fig = roc_figure(table)
    aucs = {r["name"].split(":")[0]: r["estimate"] for r in analysed.summary["key_results"]
            if r["name"].endswith("ROC AUC for response")}
    for column, key in (("pet_uptake", "PET"), ("ihc_ic", "ihc_ic"), ("rna_cd274", "rna_cd274")):
        line = _line(fig, f"roc-{column}")
        area = np.trapezoid(np.asarray(line.get_ydata()), np.asarray(line.get_xdata()))
        assert np.isclose(area, aucs[key]), column


def test_km_steps_and_at_risk_equal_analysis_tables(analysed):
    table = analysed.tables["patient_uptake"]
    fig = km_figure(table)
    curves, at_risk = analysed.tables["km_curves"], analysed.tables["km_at_risk"]
    for endpoint in ("pfs", "os"):
        for group in ("high", "low"):
            line = _line(fig, f"km-{endpoint}-{group}")
            x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
            rows = curves[(curves["predictor"] == "pet_uptake") & (curves["endpoint"] == endpoint)
                          & (curves["group"] == group)]
            assert np.allclose(np.sort(x[1:][np.diff(y) < 0]), rows.loc[rows["events"] > 0, "time"].sort_values())
            assert np.allclose(y, rows["survival"])
    panel = [ax for ax in fig.axes if ax.get_title(loc="left") == "number at risk"][1]  # OS table
    drawn = {(round(t.get_position()[0], 6), t.get_color()): int(t.get_text()) for t in panel.texts}
    expected = at_risk[(at_risk["predictor"] == "pet_uptake") & (at_risk["endpoint"] == "os")]
    colours = {"high": "#0072B2", "low": "#E69F00"}
    for row in expected.itertuples():
        assert drawn[(round(row.time, 6), colours[row.group])] == row.at_risk


def test_notes_and_sentences_from_the_analysis(analysed):
    notes = km_notes(analysed.summary)
    logrank = {r["name"]: r["p_value"] for r in analysed.summary["key_results"] if "log-rank" in r["name"]}
    assert f"log-rank p = {logrank['PET: OS log-rank (split median)']:.3f}" in notes["os"]
    cox = next(r for r in analysed.summary["key_results"] if r["name"] == "PET: PFS Cox")
    assert f"HR {cox['estimate']:.2f} ({cox['ci_low']:.2f}-{cox['ci_high']:.2f}), hazard ratio per doubling" in notes["pfs"]
    text = " ".join(statistics_sentences(analysed.summary))
    assert "log-rank tests" in text and "200 resamples" in text
