"""Paths in the tables: nothing outside the study folder is read unless study.yaml allows it, no
special file is opened, and an unreadable entry fails its own scan only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support.tables import edit_table, problems_of, set_cell

from immunopet.study import load_results, load_study, run_study


def _allow(study, value: str) -> None:
    (study / "study.yaml").write_text((study / "study.yaml").read_text() + f"allow_outside_paths: {value}\n")


def test_paths_outside_the_study_are_refused(linked_quick_study, tmp_path):
    study = linked_quick_study()
    outside = tmp_path / "elsewhere"
    shutil.copytree(study / "dicom" / "P01" / "P01_D7" / "PT", outside / "PT")
    mask = next((study / "masks").iterdir())
    shutil.copy(mask, tmp_path / "outside_mask.nii.gz")
    edit_table(study / "vois.csv", lambda t: (set_cell(t, 2, "path", "../outside_mask.nii.gz"),
                                              set_cell(t, 3, "path", "/etc/shadow")))
    edit_table(study / "scans.csv", lambda t: set_cell(t, 2, "pet", "/"))
    series = study / "dicom" / "P01" / "P01_D2" / "PT"
    shutil.rmtree(series)
    series.symlink_to(outside / "PT")  # a symlinked series is resolved, then checked
    problems = {(f, r, c): m for f, r, c, m in problems_of(study)}
    for where in [("vois.csv", 2, "path"), ("vois.csv", 3, "path"), ("scans.csv", 2, "pet"), ("scans.csv", 3, "pet")]:
        assert "is outside the study folder" in problems[where], where
        assert "allow_outside_paths" in problems[where]
    assert str(outside / "PT") in problems[("scans.csv", 3, "pet")]  # where the link leads


def test_allow_outside_paths_lets_a_listed_folder_in_and_the_run_reads_it(linked_quick_study, tmp_path):
    study = linked_quick_study(patients=[0])
    outside = tmp_path / "pacs-export"
    first = load_study(study).scans.iloc[0]
    shutil.copytree(study / first["pet"], outside / "PT")
    edit_table(study / "scans.csv", lambda t: set_cell(t, 2, "pet", str(outside / "PT")))
    assert any("outside the study folder" in m for *_, m in problems_of(study))
    _allow(study, f"[{tmp_path / 'other'}]")
    assert any("outside the study folder" in m for *_, m in problems_of(study))  # another folder: still refused
    (study / "study.yaml").write_text((study / "study.yaml").read_text().replace(str(tmp_path / "other"), str(outside)))
    summary = run_study(study, workers=1, progress=False)
    assert summary.exit_code == 0 and len(summary.done) == 4
    scans = load_results(study).scans.set_index("scan_id")
    audit = scans.loc[first["scan_id"], "suv_audit"]
    assert str(outside) not in audit and "<outside folder 1>/PT" in audit  # the store names no outside folder


def test_special_files_are_refused_even_when_outside_paths_are_allowed(linked_quick_study):
    study = linked_quick_study()
    fifo = study / "masks" / "pipe.nii.gz"
    os.mkfifo(fifo)
    edit_table(study / "vois.csv", lambda t: (set_cell(t, 2, "path", "masks/pipe.nii.gz"),
                                              set_cell(t, 3, "path", "/dev/zero")))
    _allow(study, "true")
    problems = {(f, r, c): m for f, r, c, m in problems_of(study)}
    assert set(problems) == {("vois.csv", 2, "path"), ("vois.csv", 3, "path")}
    assert all("special file (FIFO, device or socket)" in m for m in problems.values())


def test_a_path_part_longer_than_255_bytes_is_a_problem_not_a_crash(linked_quick_study):
    study = linked_quick_study()
    edit_table(study / "scans.csv", lambda t: set_cell(t, 2, "pet", "dicom/" + "é" * 130 + "/PT"))
    [(file, row, column, message)] = problems_of(study)
    assert (file, row, column) == ("scans.csv", 2, "pet") and "longer than 255 bytes" in message


def _run_cli(study, *args, timeout=120):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run([sys.executable, "-m", "immunopet.cli", "run", str(study), "--workers", "1", *args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def test_a_fifo_inside_a_pet_folder_fails_that_scan_only_and_never_hangs(linked_quick_study):
    study = linked_quick_study(patients=[0])
    scans = load_study(study).scans
    os.mkfifo(study / scans.iloc[1]["pet"] / "zz_pipe.dcm")
    done = _run_cli(study)  # a hang would exceed the timeout
    assert done.returncode == 1, done.stderr
    results = load_results(study).scans.set_index("scan_id")
    assert list(results["status"]).count("done") == 3
    error = results.loc[scans.iloc[1]["scan_id"], "error"]
    assert "special file (FIFO, device or socket)" in error and "zz_pipe.dcm" in error
    assert str(study) not in error  # relative to the study folder in the store


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to change user")
def test_an_entry_that_cannot_be_stat_ed_fails_its_scan_only(linked_quick_study):
    """Run as user nobody (root may stat anything): a sub-folder without search permission in one
    PET folder makes its entries un-stat-able (EACCES)."""
    import pwd

    import tempfile

    nobody = pwd.getpwnam("nobody")
    home = Path(tempfile.mkdtemp(prefix="immunopet-nobody-", dir="/tmp"))
    try:
        _run_as_nobody(linked_quick_study, home, nobody)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _run_as_nobody(linked_quick_study, home: Path, nobody) -> None:
    home.chmod(0o755)
    study = linked_quick_study(patients=[0], under=home)
    scans = load_study(study).scans
    locked = study / scans.iloc[2]["pet"] / "locked"
    locked.mkdir()
    (locked / "x.dcm").write_bytes(b"x")
    subprocess.run(["chown", "-R", f"{nobody.pw_uid}:{nobody.pw_gid}", str(home)], check=True)
    locked.chmod(0o600)  # listable, but nothing inside can be stat'ed
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(home)}
    done = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups",
                           sys.executable, "-m", "immunopet.cli", "run", str(study), "--workers", "1"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    results = load_results(study).scans.set_index("scan_id")
    assert list(results["status"]).count("done") == 3
    error = results.loc[scans.iloc[2]["scan_id"], "error"]
    assert "permission denied" in error and "locked/x.dcm" in error
