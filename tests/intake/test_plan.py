"""The decision rules on crafted headers: PET choice, CT pairing, injections and pseudonyms."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.dicom.discover import SeriesInfo
from immunopet.intake import rules
from immunopet.intake.headers import SeriesHeader
from immunopet.intake.plan import build_plan, identity_warnings
from immunopet.nuclides import get_nuclide

ZR = get_nuclide("Zr-89")
INJECTED = datetime(2020, 3, 2, 10, 0)


def header(uid: str, modality: str = "PT", *, pid: str = "MRN1", hours: float = 48.0, slices: int = 100,
           number: int = 3, frame: str = "FOR1", study: str = "ST1", **extra) -> SeriesHeader:
    start = INJECTED + timedelta(hours=hours)
    info = SeriesInfo(modality=modality, patient_id=pid, study_uid=study, series_uid=uid, study_date=start.date(),
                      series_datetime=start, description=extra.pop("description", ""), n_instances=slices,
                      files=[Path(f"/x/{uid}/1.dcm")], frame_of_reference_uid=frame,
                      shape=(128, 128, slices) if slices > 2 else None, spacing=(4.0, 4.0, 4.0), units="BQML")
    fields = dict(image_type=("ORIGINAL", "PRIMARY"), series_number=number, acquisition=start, sop_class_uid="1.2",
                  injection=INJECTED if modality == "PT" else None, half_life_s=ZR.half_life_s,
                  corrected=frozenset({"ATTN", "DECY"}) if modality == "PT" else frozenset())
    fields.update(extra)
    return SeriesHeader(info, **fields)


def plan(headers, **options):
    return build_plan(headers, nuclide=ZR, days=(0.04, 2, 4, 7), **options)


def reasons(result):
    return {d.header.uid: d.reason.split(":")[0] for d in result.decisions if d.role == "left out"}


def test_pet_choice_order_and_ct_pairing():
    result = plan([
        header("main"), header("recon2", number=4), header("short", slices=60),
        header("nac", corrected=frozenset({"DECY"})),
        header("ct", "CT", hours=47.95, number=2), header("scout", "CT", slices=1, image_type=("ORIGINAL", "PRIMARY", "LOCALIZER")),
        header("ct-other-frame", "CT", frame="FOR9", study="ST9", hours=47.9),
    ])
    (scan,) = result.scans
    assert (scan.pet.uid, scan.ct.uid, scan.day, scan.scan_id) == ("main", "ct", 2.0, "P01_D2")
    assert reasons(result) == {"recon2": rules.SECOND_RECON, "short": rules.SMALLER_FOV, "nac": rules.NAC,
                               "scout": rules.SCOUT, "ct-other-frame": rules.UNPAIRED_CT}


def test_reconstruction_preference_wins_over_series_number():
    result = plan([header("main", description="WB OSEM"), header("earl", number=9, description="WB EARL")],
                  preference="earl")
    assert result.scans[0].pet.uid == "earl"
    assert "preference 'earl'" in {d.header.uid: d.reason for d in result.decisions}["main"]


def test_ct_in_another_frame_pairs_within_the_same_study_and_30_minutes():
    result = plan([header("pet"), header("ct", "CT", frame="FOR2", hours=48 - 0.4)])
    assert result.scans[0].ct is not None
    result = plan([header("pet"), header("ct", "CT", frame="FOR2", hours=48 - 0.6)])
    assert result.scans[0].ct is None and reasons(result)["ct"] == rules.UNPAIRED_CT


def test_off_schedule_repeat_and_injection_rules():
    result = plan([header("d2"), header("d2-late", hours=57), header("d5", hours=5.5 * 24),
                   header("noinj", hours=96, injection=None),
                   header("ga", hours=96, half_life_s=4057.7)])
    assert [s.pet.uid for s in result.scans] == ["d2"]
    assert reasons(result) == {"d2-late": rules.REPEAT, "d5": rules.OFF_SCHEDULE, "noinj": rules.NO_INJECTION,
                               "ga": rules.HALF_LIFE}


def test_second_injection_is_a_second_entry_and_pseudonyms_are_kept():
    later = INJECTED + timedelta(days=40)
    headers = [header("a1", pid="MRN7"), header("b1", pid="MRN2", hours=96),
               header("a2", pid="MRN7", hours=40 * 24 + 48, injection=later)]
    result = plan(headers)
    assert sorted((e.patient_id, e.dicom_patient_id, e.injection_number) for e in result.entries) == [
        ("P01", "MRN2", 1), ("P02", "MRN7", 1), ("P02i2", "MRN7", 2)]  # same first injection time: by ID
    assert any("2 injections" in w for w in result.warnings)
    again = plan(headers, known={("MRN2", INJECTED.isoformat()): "P01", ("MRN7", INJECTED.isoformat()): "P05"})
    assert sorted(e.patient_id for e in again.entries) == ["P01", "P05", "P05i2"]


def test_identity_clashes_are_warned_not_merged():
    one = header("a", pid="MRN1", patient_name="DOE^JO", birth_date="19500101")
    two = header("b", pid="MRN1", patient_name="ROE^AL", birth_date="19600101", hours=96)
    three = header("c", pid="MRN3", patient_name="DOE^JO", birth_date="19500101")
    warnings = identity_warnings([one, two, three], {"MRN1": "P01", "MRN3": "P02"})
    assert len(warnings) == 2 and warnings[0].startswith("P01: one PatientID with 2") and "(P01, P02)" in warnings[1]
    result = plan([one, three])
    assert len(result.entries) == 2 and len(result.warnings) == 1
    assert not any("MRN" in w or "DOE" in w for w in plan([one, two, three]).warnings)  # pseudonyms only


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 400), st.integers(1, 3), st.integers(2, 300), st.booleans()),
                min_size=1, max_size=8))
def test_every_series_gets_exactly_one_decision(specs):
    headers = [header(f"s{k}", hours=h, number=n, slices=z, corrected=frozenset({"ATTN"}) if ac else frozenset({"DECY"}))
               for k, (h, n, z, ac) in enumerate(specs)]
    result = plan(headers)
    assert sorted(d.header.uid for d in result.decisions) == sorted(h.uid for h in headers)
    assert len({s.scan_id for s in result.scans}) == len(result.scans)
    for s in result.scans:
        assert abs(s.hours_pi / 24 - s.day) <= 0.5 + 1e-9
