"""init --pacs against a real Orthanc: the same tables as the folder path on the same export."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.intake.conftest import read

pytestmark = pytest.mark.pacs
ROOT = Path(__file__).resolve().parents[2]

UPLOAD = """
import os, sys, urllib.request
n = 0
for folder, _, names in os.walk(sys.argv[1]):
    for name in names:
        with open(os.path.join(folder, name), 'rb') as f:
            req = urllib.request.Request(sys.argv[2] + '/instances', data=f.read(), method='POST')
        urllib.request.urlopen(req, timeout=60).read()
        n += 1
print(n)
"""


def _without(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    keep = [c for c in frame.columns if c not in columns]
    return frame[keep].sort_values(keep).reset_index(drop=True)


def test_init_from_dicomweb_gives_the_tables_of_the_folder_path(orthanc, pacs_export_small, init_of, tmp_path):
    folder_study = init_of(pacs_export_small).study_dir
    orthanc.empty()  # other tests of this session (export --push) store their own studies in it
    uploaded = orthanc.run([sys.executable, "-c", UPLOAD, str(pacs_export_small / "dicom-export"), orthanc.http_url])
    assert uploaded.returncode == 0, uploaded.stderr[-2000:]
    assert int(uploaded.stdout) == sum(len(n) for _, _, n in os.walk(pacs_export_small / "dicom-export"))
    study = tmp_path / "from-pacs"
    env = {"PYTHONPATH": str(ROOT / "src")}
    done = orthanc.run([sys.executable, "-m", "immunopet.cli", "init", str(study), "--pacs", orthanc.dicomweb_url,
                        "--workers", "1"], env=env)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (study / "dicom").is_dir()
    for name, paths in (("scans.csv", ["pet", "ct"]), ("patients.csv", []), ("vois.csv", ["path"]),
                        ("identifiers.csv", []), ("init/series.csv", ["folder"])):
        pd.testing.assert_frame_equal(_without(read(study / name), paths), _without(read(folder_study / name), paths))
    # a second run retrieves nothing new and changes nothing
    again = orthanc.run([sys.executable, "-m", "immunopet.cli", "init", str(study), "--pacs", orthanc.dicomweb_url,
                         "--patient", read(study / "identifiers.csv")["dicom_patient_id"].iloc[0]], env=env)
    assert again.returncode == 0 and "0 new row(s) in scans.csv" in " ".join((again.stdout + again.stderr).split())


def test_unreachable_server_is_a_clear_error(tmp_path):
    from immunopet.cli import main

    assert main(["init", str(tmp_path / "s"), "--pacs", "http://127.0.0.1:9/dicom-web"]) == 3
    assert main(["init", str(tmp_path / "s"), "--pacs", "pacs:8042"]) == 3
