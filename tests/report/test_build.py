"""Scale rules of the report figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.report.build import mip_scale
from immunopet.report.figio import nice_ceiling


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (8.99, 10.0, 10.7, 4.1, 2.3, 0.034, 0.0)] == [10, 10, 20, 5, 2.5, 0.05, 1.0]


def test_mip_scale_is_the_rounded_up_lesion_quartile(synthetic_measurements):
    lesions = synthetic_measurements.loc[synthetic_measurements["kind"] == "lesion", "suv_max"]
    q3 = np.percentile(lesions, 75)
    scale = mip_scale(synthetic_measurements)
    assert scale >= q3 and scale == nice_ceiling(q3)
    organs_only = pd.DataFrame({"kind": "organ", "suv_max": np.nan, "suv_mean": np.arange(1.0, 101.0)})
    assert mip_scale(organs_only) == nice_ceiling(np.percentile(np.arange(1.0, 101.0), 99))


def test_failing_patient_job_is_recorded_and_the_rest_goes_on(tmp_path):
    from immunopet.report.build import image_figures
    from immunopet.report.imaging import PatientJob, ScanImageJob

    def job(pid: str, pet: str) -> PatientJob:
        scan = ScanImageJob(scan_id=f"{pid}_D7", day=7.0, pet=pet, suv_factor=0.002)
        return PatientJob(study_dir=str(tmp_path), patient_id=pid, scans=(scan,), figures_dir=str(tmp_path / "f"),
                          mip_vmax=5.0, svg=False)

    calls = []
    result = image_figures([job("P1", str(tmp_path / "missing")), job("P2", str(tmp_path / "missing2"))], workers=1,
                           progress=lambda description, total: (lambda: calls.append(description)))
    assert sorted(result) == ["P1", "P2"] and len(calls) == 2
    for pid in ("P1", "P2"):
        assert result[pid].figures == [] and result[pid].problems[0][0] == f"{pid}_D7"


def test_broken_pool_falls_back_to_this_process(tmp_path, monkeypatch):
    from concurrent.futures.process import BrokenProcessPool
    from contextlib import contextmanager

    from immunopet.report import build
    from immunopet.report.imaging import PatientFigures, PatientJob

    jobs = [PatientJob(study_dir=str(tmp_path), patient_id=p, scans=(), figures_dir=str(tmp_path), mip_vmax=1.0)
            for p in ("P1", "P2")]
    original = build._executor

    @contextmanager
    def breaking(workers):
        if workers <= 1:
            with original(1) as run:
                yield run
            return
        yield lambda fn, items: ((item, None, BrokenProcessPool("bootstrapping")) for item in items)

    monkeypatch.setattr(build, "_executor", breaking)
    result = build.image_figures(jobs, workers=2, progress=build.no_progress)
    assert sorted(result) == ["P1", "P2"]
    assert all(isinstance(r, PatientFigures) and not r.problems for r in result.values())
