"""Re-running init on a grown export: new scans and patients added, edited cells never overwritten."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.intake.conftest import read


def _partial_export(sim: Path, study: Path, target: Path) -> list[str]:
    """A hard-linked copy of the export without one patient stored in study/series folders (its folders)."""
    subprocess.run(["cp", "-al", str(sim / "dicom-export"), str(target)], check=True)
    series = read(study / "init" / "series.csv")
    tree = series[(series["patient_id"] != "") & ~series["folder"].str.contains("/CD")]
    patient = sorted(set(tree["patient_id"]) - {p for p in tree["patient_id"] if "i" in p})[-1]
    studies = {Path(f).parent.name for f in tree.loc[tree["patient_id"] == patient, "folder"]}
    for name in studies:  # the patient's study folders, decoys included
        shutil.rmtree(target / name)
    return sorted(studies)


def test_grown_export_adds_only_the_new_and_keeps_edits(pacs_export, init_of, tmp_path):
    from immunopet.intake import init_study
    from immunopet.study import load_study

    full = init_of(pacs_export)
    missing = _partial_export(pacs_export, full.study_dir, tmp_path / "export")
    study = tmp_path / "study"
    first = init_study(study, tmp_path / "export")
    n_first = len(first.plan.scans)
    ids_before = read(study / "identifiers.csv")
    patients = read(study / "patients.csv")
    patients.loc[0, "tumour_type"] = "bladder"
    patients.to_csv(study / "patients.csv", index=False)
    scans = read(study / "scans.csv")
    edited = scans.loc[1, "scan_id"]
    scans.loc[1, "day"] = "3"
    deleted = scans.loc[2, "pet_series_uid"]
    scans.drop(index=2).to_csv(study / "scans.csv", index=False)

    for name in missing:  # the export grows in place: the missing patient's studies arrive
        subprocess.run(["cp", "-al", str(pacs_export / "dicom-export" / name), str(tmp_path / "export" / name)], check=True)
    second = init_study(study, tmp_path / "export")
    scans = read(study / "scans.csv")
    assert len(scans) == n_first - 1 + (len(full.plan.scans) - n_first)  # the deleted row stays deleted
    assert deleted not in set(scans["pet_series_uid"])
    assert any("deleted by hand" in line for line in second.written.kept_out)
    assert scans.set_index("scan_id").loc[edited, "day"] == "3"
    assert [(c.file, c.column, c.old) for c in second.written.changes] == [("scans.csv", "day", "3")]
    assert read(study / "patients.csv").loc[0, "tumour_type"] == "bladder"
    assert second.written.added == {"scans.csv": len(full.plan.scans) - n_first, "patients.csv": 1,
                                    "vois.csv": len(full.plan.vois) - len(first.plan.vois)}
    ids = read(study / "identifiers.csv").set_index("patient_id")
    for row in ids_before.itertuples():  # pseudonyms never renumbered
        assert ids.loc[row.patient_id, "dicom_patient_id"] == row.dicom_patient_id
    new = sorted(set(ids.index) - set(ids_before["patient_id"]))
    assert len(new) == 1 and missing
    load_study(study)

    init_study(study, tmp_path / "export", force=True)
    rewritten = read(study / "scans.csv")
    assert len(rewritten) == len(full.plan.scans) and rewritten.set_index("scan_id").loc[edited, "day"] != "3"
    assert read(study / "patients.csv").loc[0, "tumour_type"] == "unknown"


def _series(folder: Path, names: list[str]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"DICM")
    return [folder / name for name in names]


def test_ct_in_its_own_folder_is_named_by_that_folder(tmp_path):
    from immunopet.intake.writer import series_folder

    study = tmp_path / "study"
    files = _series(study / "dicom" / "ct", ["b", "a"])
    assert series_folder(files, study, "P01_D2", "ct") == "dicom/ct"
    assert not (study / "init" / "ct").exists()


def test_ct_sharing_its_folder_gets_a_folder_of_links(tmp_path, monkeypatch):
    from immunopet.dicom.files import walk_files
    from immunopet.intake.writer import series_folder

    monkeypatch.chdir(tmp_path)  # paths spelled relative, as discovery spells them for a relative --dicom
    _series(Path("export/CD01/DICOM"), ["I0000001", "I0000002", "I0000003"])
    ct = [f for f in walk_files("export")[0] if f.name != "I0000003"]  # I0000003: another series
    study = tmp_path / "study"
    assert series_folder(ct, study, "P01_D2", "ct") == "init/ct/P01_D2"
    links = sorted((study / "init" / "ct" / "P01_D2").iterdir())
    assert [p.resolve() for p in links] == [f.resolve() for f in ct] and all(p.is_symlink() for p in links)
    # a hidden file in the CT's folder is another file too (the folder is then not the CT's alone)
    alone = _series(Path("export/ct"), ["1", "2"])
    assert series_folder(alone, study, "P01_D4", "ct") == str((tmp_path / "export" / "ct"))
    (Path("export/ct") / ".part").write_bytes(b"")
    assert series_folder(alone, study, "P01_D4", "ct") == "init/ct/P01_D4"


def test_pet_sharing_its_folder_gets_a_folder_of_links(tmp_path, monkeypatch):
    """A PET in a flat CD export is read from its own links, not from the 2000 files around it."""
    from immunopet.dicom.files import walk_files
    from immunopet.intake.writer import series_folder

    monkeypatch.chdir(tmp_path)
    _series(Path("export/CD01/DICOM"), ["I0000001", "I0000002", "I0000003"])
    pet = [f for f in walk_files("export")[0] if f.name != "I0000001"]
    study = tmp_path / "study"
    assert series_folder(pet, study, "P01_D7", "pet") == "init/pet/P01_D7"
    links = sorted((study / "init" / "pet" / "P01_D7").iterdir())
    assert [p.resolve() for p in links] == [f.resolve() for f in pet]
    assert not (study / "init" / "ct").exists()
