"""Derived UIDs, tracking identifiers, pseudonymous headers and segment codes: properties over any input."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset

from immunopet.export import codes
from immunopet.export.identity import PSEUDO_EPOCH, Privacy, derived_uid, source_stand_ins, stamp, tracking

UID = re.compile(r"^2\.25\.(0|[1-9][0-9]*)$")
text = st.text(min_size=0, max_size=80)


@given(st.lists(text, min_size=1, max_size=5))
def test_derived_uids_are_valid_and_deterministic(parts):
    uid = derived_uid(*parts)
    assert UID.match(uid) and len(uid) <= 64
    assert derived_uid(*parts) == uid


@given(text, text, text, text)
def test_tracking_uid_depends_on_study_patient_and_voi_only(study, patient, voi, other):
    identifier, uid = tracking(study, patient, voi)
    assert identifier == f"{patient}/{voi}" and UID.match(uid)
    assert tracking(study, patient, voi) == (identifier, uid)
    if other != voi:
        assert tracking(study, patient, other)[1] != uid


@given(st.floats(min_value=0, max_value=24 * 400, allow_nan=False))
def test_pseudonymous_moment_is_the_time_since_injection_from_2000(hours):
    moment = Privacy(False, "S", "P01", "P01_D7", hours).moment()
    assert abs((moment - PSEUDO_EPOCH) - timedelta(hours=hours)) <= timedelta(seconds=0.5)


def _pet_header(k: int) -> Dataset:
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Doe^Jane", "MRN-123", "19600101", "F"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = "1.2.3", "1.2.3.4", f"1.2.3.4.{k}"
    ds.FrameOfReferenceUID, ds.StudyDate, ds.StudyTime, ds.AccessionNumber = "1.2.9", "20170111", "115808", "ACC9"
    ds.Modality, ds.ImagePositionPatient = "PT", [0.0, 0.0, float(k)]
    return ds


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet=st.characters(codec="ascii", categories=("L", "N")), min_size=1, max_size=16))
def test_pseudonymous_stand_ins_keep_nothing_that_names_the_patient(patient_id):
    headers = [_pet_header(k) for k in range(3)]
    privacy = Privacy(False, "S", patient_id, f"{patient_id}_D2", 49.5)
    out = source_stand_ins(headers, privacy)
    values = " ".join(str(e.value) for ds in out for e in ds)
    for secret in ("Doe", "MRN-123", "19600101", "1.2.3", "20170111", "ACC9"):
        assert secret not in values
    assert {str(ds.StudyInstanceUID) for ds in out} == {derived_uid("pseudonym", "S", "1.2.3")}
    assert len({str(ds.SOPInstanceUID) for ds in out}) == 3
    assert headers[0].PatientName == "Doe^Jane" and headers[0].SOPInstanceUID == "1.2.3.4.0"  # inputs untouched
    stamped = Dataset()
    stamped.ContentDate, stamped.ContentTime = "20261201", "103000"
    stamp(stamped, privacy)
    assert (stamped.ContentDate, stamped.ContentTime) == ("20000103", "013000")


def test_stand_ins_with_identifiers_copy_the_source():
    out = source_stand_ins([_pet_header(0)], Privacy(True, "S", "P01", "P01_D2", 49.5))
    assert (out[0].PatientName, out[0].PatientID, out[0].StudyInstanceUID) == ("Doe^Jane", "MRN-123", "1.2.3")


@given(st.sampled_from(["organ", "lesion"]), text)
def test_every_site_gets_a_category_and_type(kind, site):
    category, kind_code, region = codes.segment_property(kind, site)
    assert category.scheme_designator == "SCT" and kind_code.scheme_designator == "SCT"
    assert (kind_code == codes.LESION_TYPE) == (kind == "lesion")


def test_known_organs_and_derivations():
    assert codes.segment_property("organ", "Liver")[1].value == "10200004"
    assert codes.segment_property("lesion", "lung")[2].value == "39607008"
    assert codes.derivation({"source": "mask"}).algorithm_type == "MANUAL"
    assert codes.derivation({"source": "seed", "delineation": "a50p"}).name.startswith("seed + A50%P")
    assert codes.derivation({"source": "segmenter"}).algorithm_type == "AUTOMATIC"
    assert codes.tlu_unit("bw").value == "{SUVbw}g/ml.ml"
