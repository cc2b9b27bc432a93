"""What `immunopet export` accepts as a destination: a --push URL or AE title the senders cannot use is
refused as a usage error before anything is exported, never as a traceback after it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from immunopet.cli import main
from immunopet.export import push_dimse

#: No study here: a destination that passes its check goes on to "study folder not found" (exit 3).
MISSING = "/nonexistent/immunopet-export-study"
USAGE, INPUT = 2, 3


def test_unusable_destinations_are_usage_errors():
    assert main(["export", MISSING, "--push", "foo"]) == USAGE
    assert main(["export", MISSING, "--push", "ftp://pacs/dicom-web"]) == USAGE
    assert main(["export", MISSING, "--push", "http://pacs:8042/dicom-web"]) == INPUT
    dimse = ["export", MISSING, "--host", "127.0.0.1", "--port", "104"]
    assert main([*dimse, "--aet", "A" * 17]) == USAGE
    assert main([*dimse, "--aet", ""]) == USAGE
    assert main([*dimse, "--calling-aet", "back\\slash"]) == USAGE
    assert main([*dimse, "--aet", "PACS"]) == INPUT
    assert main(["export", MISSING, "--aet", "A" * 17]) == INPUT  # no --host: the AE title is not used


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=40))
def test_any_push_url_is_refused_or_taken_never_a_crash(url):
    assert main(["export", MISSING, "--push", url]) in (USAGE, INPUT)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=20), st.text(max_size=20))
def test_any_ae_titles_are_refused_or_taken_never_a_crash(called, calling):
    code = main(["export", MISSING, "--host", "127.0.0.1", "--port", "104", "--aet", called, "--calling-aet", calling])
    assert code in (USAGE, INPUT)


def test_a_host_that_does_not_resolve_fails_every_object(tmp_path):
    files = []
    for k in range(2):
        ds = Dataset()
        ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.66.4", generate_uid()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(tmp_path / f"{k}.dcm", enforce_file_format=True)
        files.append(tmp_path / f"{k}.dcm")
    sent = push_dimse(files, host="no-such-host.invalid", port=104, called_aet="PACS", timeout=2)
    assert [s.ok for s in sent] == [False, False]
    assert all("cannot connect to no-such-host.invalid:104" in s.detail for s in sent), sent
