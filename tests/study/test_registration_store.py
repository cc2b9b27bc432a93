"""The registrations table: outside the store's shared schema, created when first stored; records round-trip."""

import json

import sqlalchemy as sa
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from immunopet.study import schema, store
from immunopet.study.registration_store import load_registrations, read_records, store_records, write_records

DONE = {"scan_id": "P01_D2", "reference_scan_id": "P01_D7", "modality": "CT", "status": "done", "verdict": "good",
        "error": None, "input_hash": "ab" * 32, "transform_path": "registration/P01_D2.tfm", "nmi_after": 1.61}
REFERENCE = {"scan_id": "P01_D7", "reference_scan_id": "P01_D7", "status": "reference", "verdict": "good"}


def test_importing_the_module_leaves_the_shared_schema_and_a_new_store_alone(tmp_path):
    assert "registrations" not in schema.metadata.tables
    engine = store.open_store(f"sqlite:///{tmp_path / 'r.sqlite'}")
    try:
        assert not sa.inspect(engine).has_table("registrations")
        assert load_registrations(engine, "S") == []
    finally:
        engine.dispose()


def test_store_records_creates_the_table_and_replaces_the_study_rows(tmp_path):
    engine = store.open_store(f"sqlite:///{tmp_path / 'r.sqlite'}")
    try:
        store_records(engine, "S", [DONE, REFERENCE])
        store_records(engine, "other", [REFERENCE])
        rows = {r["scan_id"]: r for r in load_registrations(engine, "S")}
        assert set(rows) == {"P01_D2", "P01_D7"}
        assert rows["P01_D2"]["transform_file"] == "registration/P01_D2.tfm"
        assert rows["P01_D2"]["quality"] == {"nmi_after": 1.61}
        store_records(engine, "S", [REFERENCE])
        assert [r["scan_id"] for r in load_registrations(engine, "S")] == ["P01_D7"]
        assert [r["scan_id"] for r in load_registrations(engine, "other")] == ["P01_D7"]
    finally:
        engine.dispose()


def test_records_file_round_trips_and_an_unreadable_one_reads_as_empty(tmp_path):
    path = write_records(tmp_path, [DONE, REFERENCE])
    assert read_records(tmp_path) == {"P01_D2": DONE, "P01_D7": REFERENCE}
    assert [p.name for p in path.parent.iterdir()] == ["registration.json"]
    path.write_text("{not json")
    assert read_records(tmp_path) == {}
    path.write_text(json.dumps({"scans": [1, {"no": "id"}]}))
    assert read_records(tmp_path) == {}


def test_a_record_naming_a_file_outside_the_registration_folder_counts_as_not_registered(tmp_path):
    outside = tmp_path / "elsewhere.tfm"
    outside.write_text("#Insight Transform File V1.0\n")
    (tmp_path / "registration").mkdir()
    (tmp_path / "registration" / "link.tfm").symlink_to(outside)
    bad = ["/etc/passwd", "../elsewhere.tfm", "registration/../elsewhere.tfm", "registration/link.tfm",
           "registration/sub/x.tfm", "", 7, ["registration/P01_D2.tfm"]]
    records = [DONE, REFERENCE] + [{**DONE, "scan_id": f"X{n}", "transform_path": p} for n, p in enumerate(bad)]
    write_records(tmp_path, records)
    assert sorted(read_records(tmp_path)) == ["P01_D2", "P01_D7"]


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.text(max_size=40), st.lists(st.sampled_from(["registration", "..", ".", "x.tfm", "/", "a"]),
                                               max_size=5).map("/".join)))
def test_read_records_keeps_only_file_names_in_the_registration_folder(tmp_path_factory, transform_path):
    root = tmp_path_factory.mktemp("study")
    (root / "registration").mkdir()
    (root / "registration" / "registration.json").write_text(json.dumps(
        {"scans": [{**DONE, "transform_path": transform_path}]}))
    kept = "P01_D2" in read_records(root)
    inside = "\x00" not in transform_path and (root / transform_path).resolve().parent == (root / "registration").resolve()
    assert kept == inside


@settings(max_examples=100, deadline=None)
@given(field=st.sampled_from(["scan_id", "reference_scan_id", "status"]),
       value=st.one_of(st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2), st.text(max_size=10),
                       st.dictionaries(st.text(max_size=2), st.integers(), max_size=1)))
def test_read_records_keeps_only_records_every_reader_can_take(tmp_path_factory, field, value):
    """An edited scan, reference scan or status that is not a string of the known kind: the record counts
    as not registered (lesion tracking, the report and run would otherwise fail on it)."""
    assume(not (field == "scan_id" and value == "P01_D7"))  # would be the reference's own record
    root = tmp_path_factory.mktemp("study")
    (root / "registration").mkdir()
    record = {**DONE, field: value} if value is not None else {k: v for k, v in DONE.items() if k != field}
    (root / "registration" / "registration.json").write_text(json.dumps({"scans": [record, REFERENCE]}))
    records = read_records(root)
    valid = isinstance(value, str) and (field != "status" or value in ("done", "failed", "reference"))
    assert "P01_D7" in records and len(records) == (2 if valid else 1)
