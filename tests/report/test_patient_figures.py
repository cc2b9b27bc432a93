"""The per-patient figure jobs of the report: the MIPs `immunopet run` keeps per scan equal the MIPs
of the scan's DICOM and are used (reading the PET series only for the fusion scan) only while their
key matches the store; each patient's kinetics figures are drawn in the patient's job."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immunopet.projection import Projections, load_projections, projection_key, projections, save_projections
from immunopet.report import imaging
from immunopet.report.build import patient_jobs
from immunopet.report.inputs import read_inputs
from immunopet.study.kept_projections import forget, projection_file


@pytest.fixture(scope="module")
def jobs(demo_quick):
    _, study = demo_quick
    return study, patient_jobs(read_inputs(study, run_analyses=False), study / "report" / "figures", svg=False)


@pytest.mark.slow
def test_every_measured_scan_has_kept_mips_equal_to_those_of_its_dicom(jobs):
    study, patients = jobs
    scans = [scan for job in patients for scan in job.scans]
    assert scans
    for scan in scans:
        kept = load_projections(projection_file(study, scan.scan_id), scan.kept_key)
        assert kept is not None, f"{scan.scan_id}: no kept MIPs matching the store"
        again = projections(imaging.load_suv(scan))  # the report's own path from the DICOM series
        for name in ("coronal", "sagittal", "spacing", "origin"):
            np.testing.assert_array_equal(getattr(kept, name), getattr(again, name), err_msg=f"{scan.scan_id} {name}")


@pytest.mark.slow
def test_the_report_reads_only_the_fusion_scans_pet(jobs, monkeypatch, tmp_path):
    study, patients = jobs
    job = next(j for j in patients if any(s.fusion and s.lesions for s in j.scans))
    job = type(job)(**{**job.__dict__, "figures_dir": str(tmp_path)})
    read = []
    real = imaging.load_suv
    monkeypatch.setattr(imaging, "load_suv", lambda scan: read.append(scan.scan_id) or real(scan))
    out = imaging.patient_figures(job)
    assert not out.problems and {f.name for f in out.figures} >= {f"mip_{job.patient_id}", f"fusion_{job.patient_id}"}
    assert read == [s.scan_id for s in job.scans if s.fusion and s.lesions]
    # a key that no longer matches the store (PET files or SUV factor changed): every PET is read again
    read.clear()
    stale = tuple(type(s)(**{**s.__dict__, "kept_key": s.kept_key + "x"}) for s in job.scans)
    imaging.patient_figures(type(job)(**{**job.__dict__, "scans": stale}))
    assert sorted(read) == sorted(s.scan_id for s in job.scans)


@pytest.mark.slow
def test_each_patients_kinetics_figures_are_drawn_in_its_job_and_shown_in_its_section(jobs):
    import pandas as pd

    study, patients = jobs
    activity = pd.read_csv(study / "analysis" / "time_activity.csv")
    with_curves = sorted(activity["patient_id"].astype(str).unique())
    assert with_curves
    for job in patients:
        rows = job.kinetics["time_activity"] if job.kinetics else None
        if job.patient_id in with_curves:
            assert rows is not None and set(rows["patient_id"].astype(str)) == {job.patient_id}
        else:
            assert rows is None
    html = (study / "report" / "report.html").read_text(encoding="utf-8")
    for pid in with_curves:
        assert (study / "report" / "figures" / f"kinetics_curves_{pid}.png").is_file()
        assert f"kinetics_curves_{pid}" in html


def _proj(rng) -> Projections:
    return Projections(rng.random((5, 7), dtype=np.float32), rng.random((4, 7), dtype=np.float32),
                       np.array([2.0, 2.0, 3.0]), np.array([-10.0, 5.0, 100.0]))


def test_a_kept_file_is_used_only_with_its_key(tmp_path):
    path, proj = tmp_path / "P01_D7.npz", _proj(np.random.default_rng(0))
    key = projection_key("abc", 0.00123, "1.0")
    save_projections(path, proj, key)
    back = load_projections(path, key)
    assert back is not None and np.array_equal(back.coronal, proj.coronal) and np.array_equal(back.origin, proj.origin)
    assert load_projections(path, projection_key("abc", 0.00124, "1.0")) is None  # another SUV factor
    assert load_projections(path, projection_key("abd", 0.00123, "1.0")) is None  # other PET files
    assert load_projections(path, projection_key("abc", 0.00123, "1.1")) is None  # another version
    assert load_projections(tmp_path / "missing.npz", key) is None
    assert projection_key("abc", None, "1.0") == projection_key("abc", None, "1.0")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: b"PK\x03\x04" + b),
                 st.binary(max_size=300).map(lambda b: b"\x93NUMPY" + b)))
def test_a_damaged_kept_file_is_ignored_never_an_error(tmp_path, data):
    path = tmp_path / "damaged.npz"
    path.write_bytes(data)
    assert load_projections(path, "any") is None


def test_a_kept_file_of_the_wrong_shape_is_ignored(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, coronal=np.zeros((3, 4)), sagittal=np.zeros((3, 5)), spacing=np.ones(3), origin=np.zeros(3),
             key=np.array("k"))
    assert load_projections(path, "k") is None


def test_forget_removes_the_files_of_dropped_scans(tmp_path):
    for scan_id in ("P01_D2", "P01_D4"):
        save_projections(projection_file(tmp_path, scan_id), _proj(np.random.default_rng(1)), "k")
    forget(tmp_path, ["P01_D2", "P09_D9"])
    assert not projection_file(tmp_path, "P01_D2").exists() and projection_file(tmp_path, "P01_D4").exists()
