"""The kinetic analyses on a simulated study: noise-free images recover Ki, V_T and the TIAC.

The study is the simulator's quick study with the scanner's noise switched off
(``scanner.noise_equivalent_sensitivity`` 1e12: noise SD ~1e-6 of the signal) and without PSF
blur (``scanner.psf_fwhm_mm`` 0), without breathing blur, necrotic cores or day-to-day poses, so
what is left is the kinetic method itself; partial-volume
effects with the PSF are documented in docs/kinetics.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.study_kinetics import kinetics
from immunopet.analysis.kinetics.time_activity import time_activity
from immunopet.analysis.record import Notes
from immunopet.errors import AnalysisError

NOISE_FREE = {"scanner": {"psf_fwhm_mm": 0.0, "noise_equivalent_sensitivity": 1e12, "noise_long_cv": 0.0},
              # image effects that a lesion's measured mean separates from its kinetic truth: breathing
              # blur (truth is the static lesion) and a necrotic core (lower uptake inside the label)
              # and partial volume (the label's edge voxels hold tissue with other kinetics too)
              "lesions": {"breathing_mm": {"lung": 0.0, "liver": 0.0}, "shape": {"necrosis_prob": 0.0},
                          "partial_volume": False},
              # and the day-to-day pose (resampling a rotated phantom moves VOI edges by a voxel)
              "motion": {"enabled": False}}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    from immunopet.simulate import simulate_study
    from immunopet.study import run_study

    root = simulate_study(tmp_path_factory.mktemp("kin") / "study", quick=True, seed=0, params=NOISE_FREE)
    run_study(root, workers=1)
    measurements = pd.read_csv(root / "results" / "measurements.csv")
    notes = Notes()
    block, tables = kinetics(measurements, params=KineticsParams(), notes=notes)
    return root, measurements, block, tables, notes


def _truth(root) -> pd.DataFrame:
    """True Ki and V_T of each VOI's mean: organs as drawn; lesions scaled by the mean of their radial profile."""
    organs = pd.read_csv(root / "truth" / "organs.csv").drop_duplicates(["patient_id", "organ"])
    organs = organs.rename(columns={"organ": "voi_id"})[["patient_id", "voi_id", "ki", "v_t"]]
    lesions = pd.read_csv(root / "truth" / "lesions.csv")
    voxels = pd.read_csv(root / "truth" / "truth.csv")
    last = voxels[voxels["kind"] == "lesion"].sort_values("day").drop_duplicates(["patient_id", "voi_id"], keep="last")
    lesions = lesions.merge(last[["patient_id", "voi_id", "day", "true_suv_mean"]], on=["patient_id", "voi_id"])
    centre = [row[f"suv_max_day{row['day']:g}"] for _, row in lesions.iterrows()]
    factor = lesions["true_suv_mean"] / np.asarray(centre)
    lesions = lesions.assign(ki=lesions["ki"] * factor, v_t=lesions["v_t"] * factor)
    return pd.concat([organs, lesions[["patient_id", "voi_id", "ki", "v_t", "baseline_diameter_mm"]]])


def test_noise_free_ki_within_2_and_v_t_within_5_percent(study):
    root, _, block, tables, notes = study
    fits = tables["patlak"].merge(_truth(root), on=["patient_id", "voi_id"], suffixes=("", "_true"))
    judged = fits[(fits["kind"] == "organ") | (fits["baseline_diameter_mm"] >= 20.0)]
    assert len(judged) >= 50 and judged["ki_per_h"].notna().all()
    np.testing.assert_allclose(judged["ki_per_h"], judged["ki"], rtol=0.02)
    np.testing.assert_allclose(judged["v_t"], judged["v_t_true"], rtol=0.05)
    assert (judged["n_points"] == 3).all() and (judged["first_day"] == 2.0).all()
    assert block["n_patlak_fits"] == len(tables["patlak"])
    assert list(tables["patlak"].columns[:10]) == ["patient_id", "voi_id", "kind", "ki_per_h", "ki_ci_low",
                                                   "ki_ci_high", "v_t", "v_t_se", "n_points", "first_day"]
    assert list(tables["tiac"].columns[:4]) == ["patient_id", "voi_id", "tiac_h", "method"]
    assert not notes.items  # noise-free: every blood curve is the bi-exponential, every VOI fitted


def test_noise_free_tiac_within_3_percent_of_the_analytic_integral(study):
    root, _, _, tables, _ = study
    subjects = pd.read_csv(root / "truth" / "subjects.csv").set_index("patient_id")
    truth = _truth(root).set_index(["patient_id", "voi_id"])
    lam = np.log(2) / 78.41
    checked = 0
    for row in tables["tiac"].itertuples():
        if (row.patient_id, row.voi_id) not in truth.index:
            continue
        s = subjects.loc[row.patient_id]
        true = truth.loc[(row.patient_id, row.voi_id)]
        laplace = sum(a / (np.log(2) / h + lam) for a, h in ((s["blood_a_fast"], s["blood_t_fast_h"]),
                                                              (s["blood_a_slow"], s["blood_t_slow_h"])))
        # fraction = SUV x V / W (1 g = 1 mL); integral of (v_t b + ki B) exp(-lambda t) in closed form
        expected = row.volume_ml / (s["weight_kg"] * 1000.0) * (true["v_t"] * laplace + true["ki"] * laplace / lam)
        assert row.tiac_h == pytest.approx(expected, rel=0.03), (row.patient_id, row.voi_id, row.method)
        checked += 1
    assert checked >= 60


def test_time_activity_table(study):
    _, measurements, _, tables, _ = study
    table = tables["time_activity"]
    row = table[(table["voi_id"] == "liver")].iloc[-1]
    lam = np.log(2) / 78.41
    assert row["bqml_at_injection"] == pytest.approx(row["bqml_measured"] * np.exp(lam * row["hours_pi"]))
    m = measurements[(measurements["scan_id"] == row["scan_id"]) & (measurements["voi_id"] == "liver")].iloc[0]
    blood = measurements[(measurements["scan_id"] == row["scan_id"]) & (measurements["voi_id"] == "blood_pool")].iloc[0]
    assert row["to_blood"] == pytest.approx(m["suv_mean"] / blood["suv_mean"])
    assert row["fraction_injected"] == pytest.approx(m["pct_id"] / 100 * np.exp(-lam * m["hours_pi"]))
    early = tables["blood_input"]["early_fraction"]
    assert ((early > 0.005) & (early < 0.05)).all()  # a 1 h scan: the part before it is ~2 % of the area
    curves = tables["median_curves"]
    assert {"lesion", "liver", "blood_pool"} <= set(curves["site"])


def test_fewer_than_three_points_is_no_fit_and_stated(study):
    _, measurements, _, _, _ = study
    notes = Notes()
    _, tables = kinetics(measurements, params=KineticsParams(patlak_from_day=4), notes=notes)
    assert tables["patlak"]["ki_per_h"].isna().all()
    assert tables["patlak"]["reason"].str.contains("at least 3").all()
    assert any("without a Patlak fit" in n["message"] for n in notes.items)


def test_missing_columns_and_parameters_are_clear_errors(study):
    _, measurements, _, _, _ = study
    with pytest.raises(AnalysisError, match="hours_pi"):
        time_activity(measurements.drop(columns=["hours_pi"]), KineticsParams())
    with pytest.raises(AnalysisError, match="weights"):
        KineticsParams(weights="poisson")
    with pytest.raises(AnalysisError, match="patlak_from_day"):
        KineticsParams(patlak_from_day=-1)


def test_the_kinetics_take_the_seed_and_level_of_the_analyses_and_the_studys_nuclide():
    """Every caller builds the kinetic parameters through one constructor: the blood-curve draws use
    the seed the user chose for the analyses, the intervals its confidence level."""
    from immunopet.analysis.kinetics.params import KineticsParams
    from immunopet.analysis.params import AnalysisParams

    analysis = AnalysisParams(seed=7, ci_level=0.9)
    kp = KineticsParams.from_config({"nuclide": "Zr-89"}, analysis=analysis)
    assert (kp.seed, kp.ci_level, kp.nuclide) == (7, 0.9, "Zr-89")
    assert KineticsParams.from_config(analysis=analysis, seed=3).seed == 3  # an explicit override wins
