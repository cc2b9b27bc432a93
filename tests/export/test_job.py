"""One export task: the checks made before any object is built."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

from immunopet.export import job
from immunopet.image import Image


def _task(pet: str) -> job.ExportTask:
    scan = SimpleNamespace(scan_id="P01_D2", pet=pet, series_uid=None, root=".", overrides={}, suv_type="bw")
    row = {"voi_id": "liver", "source": "mask", "delineation": None}
    return job.ExportTask(scan=scan, patient_id="P01", study="S", measured=[row], values={"liver": {}}, day=2.0,
                          hours_pi=48.0, order=1, include_identifiers=False, out_dir=".", uids={}, version="0",
                          parameters={"suv_type": "bw"})


def test_a_multi_frame_pet_is_refused_with_its_slice_count(monkeypatch):
    grid = Image(np.zeros((2, 2, 3), dtype=np.float32), np.eye(4), "SUV", {"files": ["pet.dcm"]})
    monkeypatch.setattr(job, "_pet_grid", lambda scan: (grid, []))
    result = job.export_scan(_task("pet/"))
    assert result.status == "failed"
    assert "1 file(s) for 3 slices" in result.error and "single-frame" in result.error, result.error


def test_a_nifti_pet_is_refused():
    result = job.export_scan(_task("suv.nii.gz"))
    assert result.status == "failed" and "NIfTI" in result.error, result.error


def _first_scan(study_dir):
    from immunopet.study import load_study
    from immunopet.study.planning import plan_scans, run_parameters

    study = load_study(study_dir)
    return plan_scans(study, {}, parameters=run_parameters(study, version="0"))[0].task


def test_the_suv_and_the_slice_headers_come_from_one_parse_of_each_file(quick_study, monkeypatch):
    import pydicom

    from immunopet.study.worker import load_scan_pet

    scan = _first_scan(quick_study)
    reference = load_scan_pet(scan).suv
    files = list(reference.meta["files"])
    reads = []
    real = pydicom.dcmread
    def counting(fp, *args, **kwargs):  # a path, or an in-memory copy named after the file
        reads.append(fp if isinstance(fp, (str, os.PathLike)) else fp.name)
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
    suv, headers = job._pet_suv(scan)
    assert sorted(map(str, reads)) == sorted(map(str, files))  # each file once, none again for the headers
    monkeypatch.setattr(pydicom, "dcmread", real)
    np.testing.assert_array_equal(suv.array, reference.array)
    np.testing.assert_array_equal(suv.affine, reference.affine)
    assert suv.units == reference.units
    expected = [str(real(f, stop_before_pixels=True).SOPInstanceUID) for f in files]
    assert [str(h.SOPInstanceUID) for h in headers] == expected
    assert [str(h.SOPInstanceUID) for h in job._pet_grid(scan)[1]] == expected


def test_pool_workers_watch_the_exporting_process(monkeypatch):
    import concurrent.futures
    import os

    from immunopet.export.pipeline import _execute
    from immunopet.study.executors import _init_worker

    made = []
    real = concurrent.futures.ProcessPoolExecutor

    def recording(*args, **kwargs):
        made.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", recording)
    results = list(_execute([_task("a.nii"), _task("b.nii.gz")], workers=2))
    # the run's worker initializer: it starts watch_parent(starter pid) in every worker
    assert made and made[0]["initializer"] is _init_worker and made[0]["initargs"][1] == os.getpid()
    assert [r.status for r in results] == ["failed", "failed"] and all("NIfTI" in r.error for r in results)
