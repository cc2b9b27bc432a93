"""VOIs drawn once on the reference scan, measured on every scan of the patient by `immunopet run`."""

import shutil

import numpy as np
import pandas as pd
import pytest

from immunopet.simulate import simulate_study
from immunopet.study import load_study, load_results, run_study
from immunopet.study.problems import StudyValidationError

ORGANS = ["liver", "spleen", "kidneys", "lungs", "brain", "muscle", "blood_pool", "bone_marrow"]


@pytest.fixture(scope="module")
def per_day(tmp_path_factory):
    """A simulated study measured with the simulator's per-day (true) VOIs."""
    # Table shift only (the simulator's day-to-day poses switched off) and no image noise, so the numbers
    # show the VOI geometry alone: this checks drawn-once VOIs through `run`. Patients who move are checked
    # on moved phantoms in tests/register and tests/voi, and with the segmenter-rule organs in
    # tests/simulate/test_drawn_once.py; whole label-map organs mapped onto a moving patient differ by up to
    # 5 % (docs/registration.md).
    quiet = {"noise_equivalent_sensitivity": 1e12, "noise_long_cv": 0.0}
    study = simulate_study(tmp_path_factory.mktemp("prop") / "per_day", patients=1, quick=True, days=(2, 7),
                           params={"motion": {"enabled": False}, "scanner": quiet})
    run_study(study, workers=1)
    return study


def _drawn_once(per_day, target):
    """The same study with only the reference day's VOIs, given as drawn-once rows (lesions as seeds)."""
    shutil.copytree(per_day, target, ignore=shutil.ignore_patterns("results", "registration"))
    vois = pd.read_csv(target / "vois.csv")
    once = vois[vois.scan_id == "P01_D7"].copy()
    positions = pd.read_csv(target / "truth" / "lesion_positions.csv").set_index(["scan_id", "voi_id"])
    lesions = once.kind == "lesion"
    for column in ("x_mm", "y_mm", "z_mm"):
        once.loc[lesions, column] = [positions.loc[("P01_D7", v), column] for v in once.loc[lesions, "voi_id"]]
    once.loc[lesions, ["source", "path", "label"]] = ["seed", np.nan, np.nan]
    once.loc[lesions, "diameter_mm"] = 50.0
    once.insert(0, "drawn_on", "P01_D7")
    once.insert(0, "patient_id", "P01")
    once["scan_id"] = np.nan
    once.to_csv(target / "vois.csv", index=False)
    return target


def test_drawn_once_vois_measure_every_day_like_the_true_per_day_vois(per_day, tmp_path):
    study = _drawn_once(per_day, tmp_path / "once")
    loaded = load_study(study)
    assert set(loaded.vois.scan_id) == {"P01_D2", "P01_D7"}
    assert (loaded.vois.drawn_on == "P01_D7").all()
    summary = run_study(study, workers=1)
    assert summary.exit_code == 0
    assert (study / "registration" / "P01_D2.tfm").is_file()
    mine = load_results(study).measurements.set_index(["scan_id", "voi_id"])
    truth = load_results(per_day).measurements.set_index(["scan_id", "voi_id"])
    for organ in ORGANS:
        ratio = mine.loc[("P01_D2", organ), "suv_mean"] / truth.loc[("P01_D2", organ), "suv_mean"]
        assert abs(ratio - 1) < 0.03, organ
    lesions = truth.xs("P01_D2", level="scan_id").query("kind == 'lesion'").index
    assert set(lesions) <= set(mine.xs("P01_D2", level="scan_id").index)  # each lesion keeps its voi_id


def test_a_per_day_row_overrides_the_drawn_once_row(per_day, tmp_path):
    study = _drawn_once(per_day, tmp_path / "override")
    vois = pd.read_csv(study / "vois.csv")
    extra = vois[vois.voi_id == "liver"].copy()
    extra[["scan_id", "patient_id", "drawn_on"]] = ["P01_D2", np.nan, np.nan]
    pd.concat([vois, extra]).to_csv(study / "vois.csv", index=False)
    liver = load_study(study).vois.query("voi_id == 'liver'").set_index("scan_id")
    assert pd.isna(liver.loc["P01_D2", "drawn_on"]) and liver.loc["P01_D7", "drawn_on"] == "P01_D7"


def test_bad_drawn_once_rows_are_reported_with_row_and_column(per_day, tmp_path):
    study = _drawn_once(per_day, tmp_path / "bad")
    vois = pd.read_csv(study / "vois.csv")
    vois.loc[0, "drawn_on"] = "P09_D7"
    vois.loc[1, ["patient_id", "drawn_on"]] = [np.nan, np.nan]
    vois["scan_id"] = vois["scan_id"].astype(object)
    vois.loc[2, "scan_id"] = "P01_D2"
    vois.to_csv(study / "vois.csv", index=False)
    with pytest.raises(StudyValidationError) as raised:
        load_study(study)
    text = str(raised.value)
    assert "row 2, column drawn_on" in text and "'P09_D7' is not in scans.csv" in text
    assert "row 3" in text and "give scan_id (a VOI of one scan), or patient_id and drawn_on" in text
    assert "row 4" in text and "not both" in text


def test_segmenter_rule_organs_of_one_ct_are_measured_on_every_day(per_day, tmp_path):
    """Organ VOIs derived from the simulator's segmenter folder of the day-7 CT, measured on both days."""
    study = _drawn_once(per_day, tmp_path / "rules")
    vois = pd.read_csv(study / "vois.csv")
    organs = vois.kind == "organ"
    vois.loc[organs, ["source", "path", "label", "x_mm", "y_mm", "z_mm", "volume_ml"]] = [
        "segmenter-rules", "segmentations/P01_D7", np.nan, np.nan, np.nan, np.nan, np.nan]
    vois = vois[~organs | vois.voi_id.isin(ORGANS)]
    vois.to_csv(study / "vois.csv", index=False)
    assert run_study(study, workers=1).exit_code == 0
    mine = load_results(study).measurements.set_index(["scan_id", "voi_id"])
    truth = pd.read_csv(study / "truth" / "truth.csv").set_index(["scan_id", "voi_id"])
    for scan in ("P01_D2", "P01_D7"):
        for organ in ("liver", "spleen", "brain", "lungs", "kidneys"):
            ratio = mine.loc[(scan, organ), "suv_mean"] / truth.loc[(scan, organ), "true_suv_mean"]
            assert abs(ratio - 1) < 0.03, (scan, organ)  # eroded VOIs: little spill-over at 8 mm voxels
        blood = mine.loc[(scan, "blood_pool")]
        assert blood["volume_ml"] == pytest.approx(2.9, rel=0.5)  # 2.9 mL voxelised on the 8 mm grid
        assert mine.loc[(scan, "bone_marrow"), "volume_ml"] > 0
    # study.yaml organ_rules: a wider liver margin re-measures the scans with a smaller liver VOI;
    # the other organs keep their values, and the next run has nothing to do
    config = study / "study.yaml"
    config.write_text(config.read_text() + "organ_rules:\n  margins_mm: {liver: 20}\n")
    again = run_study(study, workers=1)
    assert again.exit_code == 0 and sorted(o.scan_id for o in again.done) == ["P01_D2", "P01_D7"]
    wider = load_results(study).measurements.set_index(["scan_id", "voi_id"])
    for scan in ("P01_D2", "P01_D7"):
        assert wider.loc[(scan, "liver"), "volume_ml"] < 0.8 * mine.loc[(scan, "liver"), "volume_ml"]
        for organ in ("spleen", "kidneys", "blood_pool", "bone_marrow"):
            assert wider.loc[(scan, organ), "suv_mean"] == mine.loc[(scan, organ), "suv_mean"]
    assert run_study(study, workers=1).done == []


@pytest.mark.parametrize("rules, named", [
    ("organ_rules: {margins_mm: {heart: 5}}", "heart"),
    ("organ_rules: {cortex_mm: -1}", "cortex_mm"),
    ("organ_rules: {blood_pool_ml: .nan}", "blood_pool_ml"),
    ("organ_rules: {margin_mm: {liver: 5}}", "margin_mm"),
    ("organ_rules: {margins_mm: {liver: 80}}", "0-50 mm"),
])
def test_organ_rules_in_study_yaml_are_checked(per_day, tmp_path, rules, named):
    study = _drawn_once(per_day, tmp_path / "bad")
    config = study / "study.yaml"
    config.write_text(config.read_text() + rules + "\n")
    with pytest.raises(StudyValidationError) as raised:
        load_study(study)
    assert "organ_rules" in str(raised.value) and named in str(raised.value)


def test_seg_and_rtstruct_vois_drawn_once_are_rasterised_on_their_scan_then_mapped(per_day, tmp_path):
    """Lesions given once as the day-7 SEG's segments, and one as an RTSTRUCT box, measured on day 2
    like the per-day true lesion VOIs."""
    import pydicom

    from support.rtstruct import square, synthetic_rtstruct

    study = _drawn_once(per_day, tmp_path / "seg")
    vois = pd.read_csv(study / "vois.csv")
    lesions = vois.kind == "lesion"
    vois.loc[lesions, ["source", "path", "delineation", "x_mm", "y_mm", "z_mm", "diameter_mm"]] = [
        "seg", "masks/P01_D7_lesions_seg.dcm", np.nan, np.nan, np.nan, np.nan, np.nan]
    vois["label"] = vois["label"].astype(object)
    vois.loc[lesions, "label"] = vois.loc[lesions, "voi_id"]
    # one more lesion VOI: an RTSTRUCT box of 2 x 25 mm around L1's centre on the day-7 PET's planes
    centre = pd.read_csv(study / "truth" / "lesion_positions.csv").set_index(["scan_id", "voi_id"]).loc[("P01_D7", "L1")]
    pet_files = sorted((study / pd.read_csv(study / "scans.csv").set_index("scan_id").loc["P01_D7", "pet"]).iterdir())
    first = pydicom.dcmread(pet_files[0], stop_before_pixels=True)
    planes = sorted({float(pydicom.dcmread(f, stop_before_pixels=True).ImagePositionPatient[2]) for f in pet_files})
    near = [z for z in planes if abs(z - centre["z_mm"]) <= 12.5]
    synthetic_rtstruct(study / "masks" / "P01_D7_box.dcm",
                       {"box": [square(centre["x_mm"], centre["y_mm"], 12.5, z) for z in near]},
                       str(first.FrameOfReferenceUID))
    box = vois[vois.voi_id == "L1"].iloc[0].copy()
    box[["voi_id", "source", "path", "label"]] = ["L1box", "rtstruct", "masks/P01_D7_box.dcm", "box"]
    vois.loc[len(vois)] = box
    vois.to_csv(study / "vois.csv", index=False)

    assert run_study(study, workers=1).exit_code == 0
    mine = load_results(study).measurements.set_index(["scan_id", "voi_id"])
    truth = load_results(per_day).measurements.set_index(["scan_id", "voi_id"])
    names = truth.xs("P01_D2", level="scan_id").query("kind == 'lesion'").index
    assert len(names) >= 2
    for scan in ("P01_D2", "P01_D7"):
        for lesion in names:
            assert mine.loc[(scan, lesion), "volume_ml"] == pytest.approx(truth.loc[(scan, lesion), "volume_ml"], rel=0.1)
            assert mine.loc[(scan, lesion), "suv_mean"] == pytest.approx(truth.loc[(scan, lesion), "suv_mean"], rel=0.03)
        # the box holds the lesion's hottest voxel on both days, and its volume is the box's
        assert mine.loc[(scan, "L1box"), "suv_max"] == pytest.approx(truth.loc[(scan, "L1"), "suv_max"], rel=0.05)
    assert mine.loc[("P01_D2", "L1box"), "volume_ml"] == pytest.approx(mine.loc[("P01_D7", "L1box"), "volume_ml"], rel=0.2)

