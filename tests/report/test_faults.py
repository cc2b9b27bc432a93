"""The report under hostile names and faults: no file outside its folder, no patient folder named
in the QA section, and a full disk leaves no truncated file."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from support.disks import fill_disk, small_disk
from support.tables import copy_patients, edit_table, set_cell

from immunopet.report.figio import new_figure, save_figure
from immunopet.study import run_study

PATIENT_FOLDER = "DOE_JANE_MRN99887766"


def test_a_hostile_figure_name_stays_inside_the_figures_folder(tmp_path):
    figures = tmp_path / "report" / "figures"
    fig = new_figure(1, 1)
    fig.add_subplot().plot([0, 1])
    saved = save_figure(fig, figures, "mip_x/../../../escaped", svg=True)
    assert saved.png.parent == figures and saved.svg.parent == figures
    assert saved.png.name == "mip_x_.._.._.._escaped.png"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        "mip_x_.._.._.._escaped.png", "mip_x_.._.._.._escaped.svg"]
    assert save_figure(fig, figures, ".hidden", svg=False).png.name == "hidden.png"


@pytest.fixture
def one_patient_run(quick_study, tmp_path):
    """One patient, below a folder named after a patient, with one scan that fails; run and analysed."""
    from immunopet.analysis import analyze_study

    def make(root):
        study = copy_patients(quick_study, root, [0])
        (study / "dicom" / "broken").mkdir()
        (study / "dicom" / "broken" / "junk.dcm").write_text("not DICOM")
        edit_table(study / "scans.csv", lambda t: set_cell(t, 3, "pet", "dicom/broken"))
        assert run_study(study, workers=1, progress=False).exit_code == 1
        analyze_study(study)
        return study

    return make


def test_the_qa_section_names_paths_inside_the_study_only(one_patient_run, tmp_path):
    from immunopet.report.build import write_report

    study = one_patient_run(tmp_path / PATIENT_FOLDER / "study")
    summary = write_report(study, workers=1, svg=False)
    html = summary.path.read_text(encoding="utf-8")
    assert "dicom/broken" in html  # the failed scan's folder, relative to the study
    assert PATIENT_FOLDER not in html and str(tmp_path) not in html
    assert "the study folder only (every path resolved inside it)" in html
    assert sorted(p.name for p in study.rglob("*.partial")) == []


def test_disk_full_during_report_leaves_no_truncated_file(one_patient_run, tmp_path):
    from PIL import Image

    with small_disk(tmp_path / "disk", size_kb=14 * 1024) as disk:
        study = one_patient_run(disk / "study")
        fill_disk(disk, leave_kb=60)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        done = subprocess.run([sys.executable, "-m", "immunopet.cli", "report", str(study), "--workers", "1"],
                              capture_output=True, text=True, timeout=300, env=env)
        said = " ".join(done.stderr.split())
        assert done.returncode == 3, done.stderr
        assert "disk full while writing" in said and "Traceback" not in said
        report = study / "report"
        assert not (report / "report.html").exists()
        assert sorted(p.name for p in study.rglob("*.partial")) == []
        for png in report.rglob("*.png"):  # whatever was written is whole
            with Image.open(png) as image:
                image.verify()
        for svg in report.rglob("*.svg"):
            assert svg.read_text().rstrip().endswith("</svg>")


def test_the_summary_says_where_data_were_read_from_without_naming_folders():
    from immunopet.report.assemble import _paths_allowed

    assert _paths_allowed(False) == "the study folder only (every path resolved inside it)"
    assert _paths_allowed(True).startswith("anywhere: allow_outside_paths is true")
    listed = _paths_allowed(["/pacs/DOE_JANE", "/data/x"])
    assert "2 folder(s) outside it" in listed and "DOE_JANE" not in listed
