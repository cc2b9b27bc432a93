"""``analyze_study`` wiring: the store is read once, blood samples become the kinetic input."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import pandas as pd
import pytest

import immunopet.study
from immunopet.analysis import study_io
from immunopet.analysis.kinetics.params import KineticsParams


def test_blood_samples_from_the_one_store_read(tmp_path, monkeypatch):
    audit = {"inputs": {"injection_datetime": {"value": "2017-01-09T10:00:00", "source": "dicom"}}}
    scans = pd.DataFrame({"patient_id": ["P01", "P01"], "suv_audit": [json.dumps(audit)] * 2})
    results = SimpleNamespace(measurements=pd.DataFrame(), patients=pd.DataFrame(), lesions=None, config=None,
                              scans=scans)
    reads, seen = [], {}

    def load_results(root, *, db_url=None):
        reads.append(root)
        return results

    def analyze(measurements, patients, lesions, params, *, kinetics, blood_samples):
        seen["samples"] = blood_samples
        return SimpleNamespace(write=lambda target: target / "analysis.json", tables={}, warnings=[])

    monkeypatch.setattr(immunopet.study, "load_results", load_results)
    monkeypatch.setattr(study_io, "analyze", analyze)
    (tmp_path / "blood.csv").write_text("patient_id,sample_datetime,whole_blood_bqml\n"
                                        "P01,2017-01-09T12:30:00,1000\nP01,2017-01-11T10:00:00,400\n")
    study_io.analyze_study(tmp_path)
    assert len(reads) == 1
    samples = seen["samples"]
    decay = KineticsParams().decay_per_h
    assert samples["hours_pi"].tolist() == pytest.approx([2.5, 48.0])
    assert samples["whole_blood"].tolist() == pytest.approx([1000 * math.exp(decay * 2.5),
                                                             400 * math.exp(decay * 48.0)])
