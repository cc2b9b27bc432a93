"""`simulate --vois drawn-once`: VOIs given once per patient, measured on every scan by `run`."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import ImmunoPETError
from immunopet.simulate import simulate_study
from immunopet.simulate.drawn_once import RULE_ORGANS, search_diameter_mm
from immunopet.study import load_results, load_study, run_study

#: Noise-free, lesions of whole voxels: a partial-volume edge voxel of a lesion colder than the organ
#: around it is hotter than the lesion, and the seed's 41 % delineation then grows into the organ.
QUIET = {"scanner": {"noise_equivalent_sensitivity": 1e12, "noise_long_cv": 0.0}, "lesions": {"partial_volume": False}}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same two noise-free moving patients with per-day and with drawn-once VOIs, both measured."""
    root = tmp_path_factory.mktemp("drawn")
    per_day = simulate_study(root / "per_day", patients=2, quick=True, days=(2, 7), seed=5, params=QUIET)
    once = simulate_study(root / "once", patients=2, quick=True, days=(2, 7), seed=5, params=QUIET, vois="drawn-once")
    assert run_study(per_day, workers=1).exit_code == 0
    assert run_study(once, workers=1).exit_code == 0
    return per_day, once


def test_each_patient_gets_rule_organs_and_lesion_seeds_on_the_segmented_scan(both):
    per_day, once = both
    vois = pd.read_csv(once / "vois.csv")
    study = load_study(once)  # validate accepts the table
    scans = pd.read_csv(once / "scans.csv")
    drawn = vois[vois["drawn_on"].notna()]
    for patient_id, rows in drawn.groupby("patient_id"):
        (segmented,) = set(rows["drawn_on"])
        assert (once / "segmentations" / segmented).is_dir()
        assert scans.set_index("scan_id").loc[segmented, "day"] == 7.0  # the outcome day, the registration reference
        organs = rows[rows["kind"] == "organ"]
        assert sorted(organs["voi_id"]) == sorted(RULE_ORGANS) and set(organs["source"]) == {"segmenter-rules"}
        lesions = rows[rows["kind"] == "lesion"]
        truth = pd.read_csv(per_day / "vois.csv")
        assert sorted(lesions["voi_id"]) == sorted(truth[(truth.scan_id == segmented) & (truth.kind == "lesion")].voi_id)
        assert set(lesions["source"]) == {"seed"} and lesions["diameter_mm"].between(30, 60).all()
    per_day_rows = vois[vois["scan_id"].notna()]
    assert set(per_day_rows["kind"]) == {"organ"} and not per_day_rows["voi_id"].isin(RULE_ORGANS).any()
    assert set(study.vois.scan_id) == set(scans.scan_id)  # every drawn-once row applies to each scan


def test_every_voi_is_measured_on_every_scan_like_the_per_day_truth(both):
    per_day, once = both
    mine = load_results(once).measurements.set_index(["scan_id", "voi_id"])
    truth = load_results(per_day).measurements.set_index(["scan_id", "voi_id"])
    for scan_id in pd.read_csv(once / "scans.csv")["scan_id"]:
        lesions = truth.xs(scan_id, level="scan_id").query("kind == 'lesion'").index
        assert set(RULE_ORGANS) | set(lesions) <= set(mine.xs(scan_id, level="scan_id").index)
        for lesion in lesions:  # noise-free: the seed's delineation holds the lesion's hottest voxel
            assert mine.loc[(scan_id, lesion), "suv_max"] == pytest.approx(truth.loc[(scan_id, lesion), "suv_max"], rel=0.02)
        assert mine.loc[(scan_id, "liver"), "suv_mean"] == pytest.approx(truth.loc[(scan_id, "liver"), "suv_mean"], rel=0.05)


def test_rule_organs_on_moving_patients_measure_like_the_same_rule_on_the_per_day_truth(both):
    """Patients who move between days (the simulator's default poses: rotation, translation, soft-tissue
    deformation, another axial field of view): the organ VOIs of the day-7 CT's segmenter folder,
    registered rigidly onto day 2, against the same rule applied to day 2's true organ masks."""
    import numpy as np

    from immunopet.dicom import load_pet
    from immunopet.study import build_scan_masks
    from immunopet.voi.organ_rules import OrganRules, erode_mm

    per_day, once = both
    moved, drawn, margins = load_study(per_day), load_study(once), OrganRules().margins_mm
    scans = pd.read_csv(once / "scans.csv")
    for scan in scans[scans.day == 2].scan_id:
        pet = load_pet(moved.path(moved.scan(scan)["pet"]))
        true_masks, mapped = build_scan_masks(moved, scan, pet), build_scan_masks(drawn, scan, pet)
        values = pet.image.array
        for organ, margin in margins.items():
            per_day_rule = erode_mm(true_masks[organ], np.asarray(pet.image.spacing), margin)
            assert per_day_rule.sum() > 20 and mapped[organ].sum() > 20, (scan, organ)
            ratio = values[mapped[organ]].mean() / values[per_day_rule].mean()
            assert abs(ratio - 1) < 0.03, (scan, organ, ratio)


def test_search_sphere_follows_the_lesion_size():
    assert list(search_diameter_mm([5.0, 15.0, 30.0])) == [30.0, 40.0, 60.0]


def test_an_unknown_voi_layout_is_refused(tmp_path):
    with pytest.raises(ImmunoPETError, match="drawn-once"):
        simulate_study(tmp_path / "x", patients=1, quick=True, vois="once")


def test_drawn_once_on_the_raw_export_layout_is_a_usage_error(tmp_path, capsys):
    from immunopet.cli import main

    assert main(["simulate", str(tmp_path / "x"), "--quick", "--layout", "pacs", "--vois", "drawn-once"]) == 3
    assert "--vois" in capsys.readouterr().err and not (tmp_path / "x").exists()
    assert main(["simulate", str(tmp_path / "y"), "--quick", "--vois", "all"]) == 3


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=20).filter(lambda t: t not in ("per-day", "drawn-once")))
def test_any_other_voi_layout_is_refused_before_anything_is_written(tmp_path_factory, text):
    out = tmp_path_factory.mktemp("layout") / "study"
    with pytest.raises(ImmunoPETError, match="--vois"):
        simulate_study(out, patients=1, quick=True, vois=text)
    assert not out.exists()
