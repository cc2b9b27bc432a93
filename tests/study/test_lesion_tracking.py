"""``results/lesion_tracking.csv`` on a hand-made case: known transform, known answer.

Patient P01 of the analytic study is registered by hand (a pure translation from day 2 to the day-7
reference); P02 has no registration. The day-2 lesions of P01 carry other ids than the reference's: ``x`` is L1 moved
by the translation plus 1 mm, ``y`` is L2 moved by the translation, ``w`` lies 12 mm from where L3
would be, and L3 itself is missing on day 2.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.cli import main
from immunopet.study import run_study
from immunopet.study.lesion_tracking import COLUMNS

SHIFT = np.array([6.0, -4.0, 5.0])  # day-2 frame -> reference frame: p_ref = p + SHIFT
REFERENCE = {"L1": (-30.0, -30.0, -15.0), "L2": (30.0, -30.0, 10.0), "L3": (0.0, 30.0, 0.0)}
DAY2 = {"x": np.add(REFERENCE["L1"], (1.0, 0, 0)) - SHIFT, "y": np.asarray(REFERENCE["L2"]) - SHIFT,
        "w": np.add(REFERENCE["L3"], (12.0, 0, 0)) - SHIFT}


def _sphere(scan_id, voi_id, centre):
    return {"scan_id": scan_id, "voi_id": voi_id, "kind": "lesion", "site": "lung", "source": "sphere",
            "x_mm": centre[0], "y_mm": centre[1], "z_mm": centre[2], "diameter_mm": 8}


@pytest.fixture
def hand_made(analytic_study):
    import SimpleITK as sitk

    from immunopet.register.transforms import write_transform

    study = analytic_study  # P03 keeps no lesion
    (study / "lesions.csv").unlink()
    vois = pd.read_csv(study / "vois.csv")
    vois = vois[vois.kind != "lesion"]
    lesions = [_sphere(f"{p}_D7", v, c) for p in ("P01", "P02") for v, c in REFERENCE.items()]
    lesions += [_sphere(f"{p}_D2", v, c) for p in ("P01", "P02") for v, c in DAY2.items()]
    pd.concat([vois, pd.DataFrame(lesions)]).to_csv(study / "vois.csv", index=False)
    (study / "registration").mkdir()
    write_transform(sitk.TranslationTransform(3, tuple(SHIFT)), study / "registration" / "P01_D2.tfm")
    records = [{"scan_id": "P01_D7", "reference_scan_id": "P01_D7", "status": "reference", "transform_path": None},
               {"scan_id": "P01_D2", "reference_scan_id": "P01_D7", "status": "done",
                "transform_path": "registration/P01_D2.tfm"}]
    (study / "registration" / "registration.json").write_text(json.dumps({"scans": records}))
    return study


def _table(study):
    return pd.read_csv(study / "results" / "lesion_tracking.csv", keep_default_na=False)


def test_matches_new_and_vanished_lesions_of_a_known_case(hand_made, caplog):
    caplog.set_level(logging.INFO, logger="immunopet")
    summary = run_study(hand_made, workers=1, progress=False)
    table = _table(hand_made)
    assert list(table.columns) == COLUMNS
    assert set(table.patient_id) == {"P01"}  # P02 has no registration: no rows ...
    said = [r.getMessage() for r in caplog.records if "P02" in r.getMessage()]
    assert len(said) == 1 and "not registered" in said[0]  # ... and one line saying why
    rows = {(r.scan_id, r.voi_id or r.tracked_id): r for r in table.itertuples()}
    assert [(rows[("P01_D7", v)].status, rows[("P01_D7", v)].tracked_id) for v in REFERENCE] == [
        ("reference", v) for v in REFERENCE]
    assert (rows[("P01_D2", "x")].tracked_id, rows[("P01_D2", "x")].status) == ("L1", "matched")
    assert float(rows[("P01_D2", "x")].distance_mm) == pytest.approx(1.0, abs=0.01)
    assert (rows[("P01_D2", "y")].tracked_id, rows[("P01_D2", "y")].status) == ("L2", "matched")
    assert float(rows[("P01_D2", "y")].distance_mm) == pytest.approx(0.0, abs=0.01)
    # w is 12 mm from L3: within the default 20 mm, so it matches L3
    assert (rows[("P01_D2", "w")].tracked_id, rows[("P01_D2", "w")].status) == ("L3", "matched")
    assert float(rows[("P01_D2", "w")].day) == 2.0
    assert (summary.lesions.matched, summary.lesions.new, summary.lesions.vanished) == (3, 0, 0)


def test_the_maximum_distance_of_study_yaml_makes_a_far_lesion_new(hand_made, capsys):
    with open(hand_made / "study.yaml", "a") as yaml:
        yaml.write("lesion_match_max_mm: 10\n")
    assert main(["run", str(hand_made), "--workers", "1"]) == 0
    table = _table(hand_made)
    day2 = table[table.scan_id == "P01_D2"].set_index(["status", "tracked_id"])
    assert day2.loc[("new", "N1"), "voi_id"] == "w" and day2.loc[("new", "N1"), "distance_mm"] == ""
    assert day2.loc[("vanished", "L3"), "voi_id"] == ""  # L3 is absent on day 2
    assert sorted(day2.index) == [("matched", "L1"), ("matched", "L2"), ("new", "N1"), ("vanished", "L3")]
    printed = " ".join(capsys.readouterr().err.split())  # the console wraps long lines
    counts = table[table.scan_id != "P01_D7"].status.value_counts()
    assert counts.to_dict() == {"matched": 2, "new": 1, "vanished": 1}
    assert (f"lesions over days: {counts['matched']} matched, {counts['new']} new, {counts['vanished']} vanished; "
            "see results/lesion_tracking.csv") in printed


@pytest.mark.parametrize("value", ["0", "-5", "500", "far"])
def test_a_bad_maximum_distance_is_refused(hand_made, value):
    from immunopet.study import load_study
    from immunopet.study.problems import StudyValidationError

    with open(hand_made / "study.yaml", "a") as yaml:
        yaml.write(f"lesion_match_max_mm: {value}\n")
    with pytest.raises(StudyValidationError, match="lesion_match_max_mm"):
        load_study(hand_made)



@settings(max_examples=60, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                 st.sampled_from(["far", "", "twenty", "10 mm"]), st.none()))
def test_the_maximum_distance_is_taken_exactly_when_it_is_a_number_in_0_to_200(value):
    import math

    from pydantic import ValidationError

    from immunopet.study.config import StudyConfig

    base = {"name": "S", "tracer": "89Zr-atezolizumab", "nuclide": "Zr-89"}
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    try:
        config = StudyConfig(**base, lesion_match_max_mm=value)
    except ValidationError:
        assert not (number and 0 < value <= 200)
    else:
        assert number and 0 < value <= 200 and config.lesion_match_max_mm == value


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.text(max_size=12), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6)))
def test_a_label_cell_is_a_number_or_a_name_never_an_error(cell):
    """Lesion centres read a mask's label as the measurement does (study.masks.label_key): a named
    label gives no centre instead of dropping the patient's tracking."""
    from immunopet.study.masks import label_key

    key = label_key(cell)
    assert isinstance(key, (int, str))
    if isinstance(key, int):
        assert key == int(float(str(cell).strip()))
    else:
        assert key == str(cell).strip()


def test_a_mask_lesion_with_a_named_label_has_no_centre_and_a_numbered_one_its_centre_of_mass(tmp_path):
    from types import SimpleNamespace

    import nibabel as nib

    from immunopet.study.lesion_tracking import _Centres

    labels = np.zeros((6, 6, 6), dtype=np.int16)
    labels[1:3, 2, 4] = 2
    nib.save(nib.Nifti1Image(labels, np.eye(4)), tmp_path / "labels.nii.gz")
    centres = _Centres(SimpleNamespace(path=lambda p: tmp_path / p))
    row = {"source": "mask", "path": "labels.nii.gz"}
    assert centres.of({**row, "label": "lesion_a"}) is None
    x, y, z = centres.of({**row, "label": "2.0"})
    assert (x, y, z) == pytest.approx((-1.5, -2.0, 4.0))  # voxels (1, 2, 4) and (2, 2, 4); NIfTI RAS -> LPS
