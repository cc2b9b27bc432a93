"""The viewer's HTTP side, against the real server on loopback: access, traversal, privacy, values."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import httpx
import nibabel
import numpy as np
import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from immunopet.view.server import HOST


def _get(viewer, path: str, *, token: str | None = "good") -> httpx.Response:
    headers = {} if token is None else {"X-Viewer-Token": viewer.token if token == "good" else token}
    return httpx.get(f"http://{HOST}:{viewer.port}{path}", headers=headers, timeout=120)


def _raw(viewer, path: str) -> int:
    """Status of a GET whose path is sent byte for byte (no client-side normalisation of ``..``)."""
    conn = http.client.HTTPConnection(HOST, viewer.port, timeout=60)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.putheader("X-Viewer-Token", viewer.token)
    conn.endheaders()
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.parametrize("path", ["/", "/api/patients", "/static/niivue.js", "/api/scans/P01_D7/pet.nii"])
@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_a_wrong_or_missing_token_gets_403(viewer, path, token):
    assert _get(viewer, path, token=token).status_code == 403


def test_the_page_sets_the_token_cookie_for_its_own_requests(viewer):
    page = httpx.get(viewer.url, timeout=60)
    assert page.status_code == 200 and "immunopet view" in page.text
    cookie = page.cookies.get("immunopet_view")
    assert cookie == viewer.token
    assert httpx.get(f"http://{HOST}:{viewer.port}/static/viewer.js", cookies={"immunopet_view": cookie}).status_code == 200


@pytest.mark.parametrize("path", [
    "/static/../bundle.py", "/static/..%2Fbundle.py", "/static/%2e%2e%2fapp.py", "/api/scans/..%2F..%2Fstudy.yaml/pet.nii",
    "/api/scans/../../study.yaml", "/api/scans/P01_D7/..%2F..%2Fmeta.json", "/api/scans/P01_D7/meta.json",
    "/api/scans/%2e%2e/pet.nii", "/api/patients/..", "/static/viewer.js%00.png", "/api/scans/P01_D7/pet.nii/..",
    "/api/scans/P01_D7%5C..%5Cx/pet.nii", "/api/scans/NOPE/pet.nii", "/static/index.html",
])
def test_traversal_and_unknown_ids_get_404(viewer, path):
    assert _raw(viewer, path) == 404


def test_the_server_listens_on_loopback_only(viewer):
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) == viewer.port:  # 0A = LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket


def test_voi_table_matches_the_store_and_the_hottest_voxel_holds_suvmax(viewer, viewed_study):
    from immunopet.study import load_results

    measured = load_results(viewed_study).measurements
    body = _get(viewer, "/api/scans/P01_D7").json()
    stored = measured[measured["scan_id"] == "P01_D7"].set_index("voi_id")
    assert {row["voi_id"] for row in body["vois"]} == set(stored.index)
    pet = nibabel.load(_cached(viewed_study, "pet.nii", body)).get_fdata(dtype=np.float32)
    for row in body["vois"]:
        assert row["suv_max"] == pytest.approx(stored.loc[row["voi_id"], "suv_max"], rel=1e-9)
        i, j, k = row["hottest"]["ijk"]
        assert pet[i, j, k] == pytest.approx(row["suv_max"], rel=1e-6)  # the voxel the crosshair goes to


def _cached(study: Path, name: str, body: dict) -> Path:
    found = sorted((study / ".viewer-cache").glob(f"*/{name}"))
    matches = [p for p in found if json.loads((p.parent / "meta.json").read_text())["scan_id"] == body["scan_id"]]
    assert len(matches) == 1
    return matches[0]


def test_served_suv_volume_equals_an_independent_suv_computation(viewer, viewed_study):
    from immunopet.dicom import load_pet
    from immunopet.image import Image

    other = _other_patient_scan(viewed_study)
    served = _get(viewer, f"/api/scans/{other['scan_id']}/pet.nii")
    assert served.status_code == 200
    path = viewed_study / "served.nii"
    path.write_bytes(served.content)
    image = Image.from_nifti(str(path))
    pet = load_pet(viewed_study / other["pet"])
    expected = pet.image.array.astype(np.float64) * pet.suv_factor("bw")
    np.testing.assert_allclose(image.array, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(image.affine, pet.image.affine, atol=1e-4)


def test_responses_hold_no_patient_name_birth_date_or_dicom_uid(viewer, viewed_study):
    header = pydicom.dcmread(next((viewed_study / "dicom" / "P01" / "P01_D7" / "PT").iterdir()), stop_before_pixels=True)
    secrets_ = {str(header.get(k, "")) for k in ("PatientName", "PatientBirthDate", "StudyInstanceUID",
                                                   "SeriesInstanceUID", "FrameOfReferenceUID", "SOPInstanceUID")}
    secrets_ = {s for s in secrets_ if len(s) >= 4}
    assert secrets_, "the simulated DICOM should carry identifiers to look for"
    paths = ["/", "/api/patients", "/api/patients/P01", "/api/scans/P01_D7", "/api/scans/P01_D7/pet.nii",
             "/api/scans/P01_D7/ct.nii", "/api/scans/P01_D7/labels.nii", "/api/scans/P01_D7/mip.png",
             "/api/map/P01_D7/P01_D2?x=1&y=2&z=3"]
    for path in paths:
        response = _get(viewer, path)
        assert response.status_code == 200, path
        content = response.content.decode("latin-1")
        for secret in secrets_:
            assert secret not in content, (path, secret)
        assert str(viewed_study) not in content


def _other_patient_scan(study: Path) -> dict:
    """A scan of a patient other than P01 (the simulator's first patient), as its scans.csv row."""
    import pandas as pd

    scans = pd.read_csv(study / "scans.csv")
    return scans[scans["patient_id"] != "P01"].iloc[1].to_dict()


def test_points_map_only_between_scans_of_one_patient(viewer, viewed_study):
    same = _get(viewer, "/api/map/P01_D7/P01_D2?x=10&y=-20&z=-400").json()
    assert same["method"] in {"registration", "patient coordinates"}
    if same["method"] == "patient coordinates":
        assert same["lps_mm"] == [10.0, -20.0, -400.0]
    other = _other_patient_scan(viewed_study)["scan_id"]
    assert _get(viewer, f"/api/scans/{other}").status_code == 200
    assert _get(viewer, f"/api/map/P01_D7/{other}?x=10&y=-20&z=-400").status_code == 404
    for bad in ("nan", "inf", "-inf", "abc"):
        assert _get(viewer, f"/api/map/P01_D7/P01_D2?x={bad}&y=0&z=0").status_code in {400, 422}


def test_patient_list_and_values_over_days_equal_the_store(viewer, viewed_study):
    from immunopet.study import load_results

    results = load_results(viewed_study)
    listed = {p["patient_id"]: p for p in _get(viewer, "/api/patients").json()["patients"]}
    stored = results.patients.set_index("patient_id")
    assert set(listed) == set(stored.index)
    for pid, row in listed.items():
        assert row["pet_uptake"] == pytest.approx(stored.loc[pid, "pet_uptake"], rel=1e-12)
        assert row["n_lesions"] == stored.loc[pid, "n_lesions"]
        assert row["best_response"] == stored.loc[pid, "best_response"]
    measured = results.measurements[results.measurements["patient_id"] == "P01"]
    for entry in _get(viewer, "/api/patients/P01").json()["over_days"]:
        expected = "suv_max" if entry["kind"] == "lesion" else "suv_mean"
        assert entry["metric"] == expected
        voi = measured[measured["voi_id"] == entry["voi_id"]]
        by_day = voi.groupby("day")[expected].mean()  # retest scans of one day are averaged
        assert set(entry["by_day"]) == {f"{d:g}" for d in by_day.index}
        for day, value in by_day.items():
            assert entry["by_day"][f"{day:g}"] == pytest.approx(value, rel=1e-12)


_ID_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scan=_ID_TEXT, name=_ID_TEXT, x=st.one_of(st.floats(), st.text(max_size=8)))
def test_any_id_path_or_query_gets_a_clean_answer_never_a_server_error(viewer, scan, name, x):
    from urllib.parse import quote

    for path in (f"/api/scans/{quote(scan, safe='')}/{quote(name, safe='')}",
                 f"/api/patients/{quote(scan, safe='')}", f"/static/{quote(name, safe='')}",
                 f"/api/map/P01_D7/{quote(scan, safe='')}?x={quote(str(x), safe='')}&y=0&z=0",
                 f"/api/map/P01_D7/P01_D2?x={quote(str(x), safe='')}&y=0&z=0"):
        status = _get(viewer, path).status_code
        assert status in {200, 307, 400, 404, 422}, (path, status)  # 307: an empty id, the trailing-slash redirect
