"""`immunopet export --push` (STOW-RS) and `--host/--port` (C-STORE) into a real Orthanc."""

from __future__ import annotations

import sys
from pathlib import Path

import pydicom
import pytest

from immunopet.export import push_dicomweb, push_dimse

pytestmark = pytest.mark.pacs
SRC = Path(__file__).resolve().parents[2] / "src"

UPLOAD = """
import sys, urllib.request
from pathlib import Path
for f in sorted(Path(sys.argv[2]).iterdir()):
    req = urllib.request.Request(sys.argv[1] + "/instances", data=f.read_bytes(), method="POST")
    urllib.request.urlopen(req, timeout=60).read()
"""


def test_export_push_and_cstore_attach_seg_and_sr_to_the_pet_study(exported, orthanc, tmp_path):
    from immunopet.study import load_study

    study = load_study(exported.study)
    scan_id = sorted(study.scans["scan_id"])[0]
    pet_dir = study.path(study.scan(scan_id)["pet"])
    pet = pydicom.dcmread(sorted(pet_dir.iterdir())[0], stop_before_pixels=True)
    uploaded = orthanc.run([sys.executable, "-c", UPLOAD, orthanc.http_url, str(pet_dir)])
    assert uploaded.returncode == 0, uploaded.stderr[-2000:]
    done = orthanc.run(
        [sys.executable, "-m", "immunopet.cli", "export", str(exported.study), "--out", str(tmp_path / "out"),
         "--include-identifiers", "--push", orthanc.dicomweb_url, "--host", orthanc.host,
         "--port", str(orthanc.dicom_port), "--aet", orthanc.aet],
        env={"PYTHONPATH": str(SRC), "COLUMNS": "200"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "exported 2 scan(s) (4 objects: SEG + SR)" in output and "0 left out" in output
    assert "STOW-RS" in output and "C-STORE" in output and output.count("4 of 4 object(s) stored") == 2, output
    found = orthanc.rest("/tools/find", method="POST",
                         data=f'{{"Level": "Study", "Query": {{"StudyInstanceUID": "{pet.StudyInstanceUID}"}}}}'.encode())
    assert len(found) == 1
    series = {s["MainDicomTags"]["Modality"]: s for s in orthanc.rest(f"/studies/{found[0]}/series?expand")}
    assert set(series) == {"PT", "SEG", "SR"}
    assert series["PT"]["MainDicomTags"]["SeriesInstanceUID"] == pet.SeriesInstanceUID
    seg_tags = orthanc.rest(f"/instances/{series['SEG']['Instances'][0]}/tags?simplify")
    assert seg_tags["ReferencedSeriesSequence"][0]["SeriesInstanceUID"] == pet.SeriesInstanceUID
    sr_tags = orthanc.rest(f"/instances/{series['SR']['Instances'][0]}/tags?simplify")
    evidence = sr_tags["CurrentRequestedProcedureEvidenceSequence"][0]["ReferencedSeriesSequence"]
    assert {e["SeriesInstanceUID"] for e in evidence} == {pet.SeriesInstanceUID, seg_tags["SeriesInstanceUID"]}
    for kind in ("SEG", "SR"):
        assert orthanc.rest(f"/series/{series[kind]['ID']}/study")["ID"] == found[0]
    # every scan's SEG and SR arrived (2 scans, each in its own PET study)
    assert len(orthanc.rest("/tools/find", method="POST", data=b'{"Level": "Series", "Query": {"Modality": "SEG"}}')) >= 2


def test_unreachable_pacs_is_reported_per_object_never_silently(exported):
    files = exported.pseudonymous.files()[:2]
    for sent in (push_dicomweb(files, "http://127.0.0.1:9/dicom-web"),
                 push_dimse(files, host="127.0.0.1", port=9, called_aet="NOBODY", timeout=5)):
        assert [s.file for s in sent] == [str(f) for f in files]
        assert not any(s.ok for s in sent) and all(s.detail for s in sent)
