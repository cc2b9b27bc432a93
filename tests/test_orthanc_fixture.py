"""The Orthanc the PACS tests talk to is real, takes DICOM, and is unreachable from outside its namespace."""

import socket
from pathlib import Path

import pytest

pytestmark = pytest.mark.pacs


def test_orthanc_stores_a_real_pet_slice_and_answers_dicomweb(orthanc, shared_data):
    first = next(p for p in sorted((shared_data / "tcia-sts-cropped").rglob("*")) if p.is_file() and p.suffix != ".md")
    stored = orthanc.rest("/instances", method="POST", data=Path(first).read_bytes())
    assert stored["Status"] in {"Success", "AlreadyStored"}
    assert orthanc.rest(f"/instances/{stored['ID']}")["ID"] == stored["ID"]
    studies = orthanc.run(["curl", "-sf", f"{orthanc.dicomweb_url}/studies"])
    assert studies.returncode == 0 and '"0020000D"' in studies.stdout


def test_orthanc_is_not_reachable_from_this_namespace(orthanc):
    for port in (orthanc.dicom_port, 8042):
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex(("127.0.0.1", port)) != 0
