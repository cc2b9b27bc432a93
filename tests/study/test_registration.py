"""``immunopet register`` on a simulated study: transforms, records, store, reuse and failures."""

import json
import shutil

import numpy as np
import pytest
import sqlalchemy as sa

from immunopet.cli import main
from immunopet.simulate import simulate_study
from immunopet.study.registration import reference_scans, register_study, scan_transform
from immunopet.study.registration_store import load_registrations


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    return simulate_study(tmp_path_factory.mktemp("reg") / "study", patients=1, quick=True, days=(2, 7))


@pytest.fixture(scope="module")
def registered(study):
    """The study after one registration (so each test also runs alone or on another worker)."""
    register_study(study)
    return study


def test_register_writes_transforms_records_and_store_rows(study):
    assert main(["register", str(study)]) == 0
    records = json.loads((study / "registration" / "registration.json").read_text())["scans"]
    by_scan = {r["scan_id"]: r for r in records}
    assert by_scan["P01_D7"]["status"] == "reference"
    moved = by_scan["P01_D2"]
    assert moved["status"] == "done" and moved["verdict"] == "good" and moved["modality"] == "CT"
    assert moved["landmark_mean_mm"] < 4.0  # from truth/lesion_positions.csv
    assert (study / moved["transform_path"]).is_file()
    engine = sa.create_engine(f"sqlite:///{study / 'results' / 'immunopet.sqlite'}")
    rows = {r["scan_id"]: r for r in load_registrations(engine, "ZR-ATEZO-SIM")}
    engine.dispose()
    assert rows["P01_D2"]["verdict"] == "good"
    assert rows["P01_D2"]["quality"]["landmark_mean_mm"] == pytest.approx(moved["landmark_mean_mm"])


def test_unchanged_inputs_reuse_the_transform_and_force_recomputes(registered):
    study = registered
    first = register_study(study)
    assert first.computed == [] and first.reused == ["P01_D2"]
    forced = register_study(study, force=True)
    assert forced.computed == ["P01_D2"]


def test_the_reference_is_the_outcome_day_and_scan_transform_reads_it(registered):
    study = registered
    from immunopet.study import load_study

    loaded = load_study(study)
    assert reference_scans(loaded) == {"P01": "P01_D7"}
    assert scan_transform(loaded, "P01_D7").GetName() in ("Transform", "IdentityTransform")
    assert scan_transform(loaded, "P01_D2").GetDimension() == 3


def test_an_unreadable_ct_is_recorded_as_failed_not_fatal(study, tmp_path):
    copy = tmp_path / "broken"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("registration", "results"))
    for file in (copy / "dicom" / "P01" / "P01_D2" / "CT").iterdir():
        file.write_bytes(b"not dicom")
    summary = register_study(copy)
    record = {r["scan_id"]: r for r in summary.records}["P01_D2"]
    assert record["status"] == "failed" and record["error"]
    assert summary.exit_code == 1
    assert main(["register", str(copy)]) == 1


def test_an_unknown_registration_setting_is_a_usage_error(study, tmp_path):
    copy = tmp_path / "typo"
    shutil.copytree(study, copy, ignore=shutil.ignore_patterns("registration", "results"))
    with (copy / "study.yaml").open("a") as handle:
        handle.write("registration:\n  deformabel: true\n")
    assert main(["register", str(copy)]) == 3


def test_json_output_is_the_records_and_the_landmark_error_recomputes_from_the_stored_transform(study, capsys):
    import numpy as np
    import pandas as pd

    from immunopet.register.transforms import read_transform, to_reference

    assert main(["register", str(study)]) == 0
    capsys.readouterr()
    assert main(["register", str(study), "--json"]) == 0
    out = capsys.readouterr()
    printed = {r["scan_id"]: r for r in json.loads(out.out)}
    stored = {r["scan_id"]: r for r in json.loads((study / "registration" / "registration.json").read_text())["scans"]}
    assert printed == stored
    assert "0 registered, 1 unchanged (reused), 0 failed, 0 poor" in " ".join(out.err.split())
    moved = printed["P01_D2"]
    truth = pd.read_csv(study / "truth" / "lesion_positions.csv").set_index(["scan_id", "voi_id"])
    cols = ["x_mm", "y_mm", "z_mm"]
    common = truth.loc["P01_D2"].index.intersection(truth.loc["P01_D7"].index)
    on_scan = truth.loc["P01_D2"].loc[common, cols].to_numpy(float)
    on_reference = truth.loc["P01_D7"].loc[common, cols].to_numpy(float)
    errors = np.linalg.norm(to_reference(read_transform(study / moved["transform_path"]), on_scan) - on_reference,
                            axis=1)
    assert moved["landmark_mean_mm"] == pytest.approx(errors.mean(), rel=1e-9)
    assert moved["landmark_max_mm"] == pytest.approx(errors.max(), rel=1e-9)


def test_each_registration_keeps_a_snapshot_and_the_report_shows_its_checkerboard(registered, tmp_path):
    from immunopet.register.snapshot import read_snapshot, snapshot_path
    from immunopet.report.assemble import _with_registration
    from immunopet.study.registration_store import read_records

    records = read_records(registered)
    planes = read_snapshot(registered / snapshot_path(records["P01_D2"]["transform_path"]))
    assert planes is not None and np.isfinite(planes["fixed"]).all()
    section = {"status_class": "qa-ok", "headline": "ok.", "blocks": []}
    shown, saved = _with_registration(section, registered, {}, figures_dir=tmp_path, svg=False, dpi=72)
    assert [f.name for f in saved] == ["registration_P01_D2"] and saved[0].png.is_file()
    assert [f.name for f in shown["blocks"][0]["figures"]] == ["registration_P01_D2"]
