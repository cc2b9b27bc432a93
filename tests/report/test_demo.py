"""End to end: ``immunopet demo DIR --quick`` writes a self-contained, de-identified report."""

from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pydicom
import pytest

from immunopet.report import build_report


@pytest.mark.slow
def test_demo_quick_writes_the_report(demo_quick):
    code, study = demo_quick
    assert code == 0
    report = study / "report" / "report.html"
    html = report.read_text(encoding="utf-8")
    # self-contained: no external references of any kind
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "@import" not in html and "url(http" not in html
    # every figure also on disk as PNG and SVG
    pngs = sorted(p.stem for p in (study / "report" / "figures").glob("*.png"))
    svgs = sorted(p.stem for p in (study / "report" / "figures").glob("*.svg"))
    assert pngs == svgs and {"biodistribution", "lesion_uptake", "waterfall", "kaplan_meier"} <= set(pngs)
    patients = pd.read_csv(study / "patients.csv")
    assert {f"mip_{p}" for p in patients["patient_id"]} <= set(pngs)
    assert {f"fusion_{p}" for p in patients["patient_id"]} <= set(pngs)
    assert html.count("data:image/png;base64,") == html.count("<img ")
    # methods text with the parameters actually used (study.yaml, nuclide table, analysis)
    import yaml

    config = yaml.safe_load((study / "study.yaml").read_text())
    analysis = json.loads((study / "analysis" / "analysis.json").read_text())
    assert f"{len(patients)} patients received a single injection of {config['tracer']}" in html
    assert "normalised to body weight (SUVbw)" in html and config["suv_type"] == "bw"
    assert "placed anywhere inside the lesion VOI (PERCIST" in html and config["suv_peak"] == "global"
    assert f"on the day-{config['outcome_day']:g} scan" in html
    assert "Zr-89 half-life of 78.41 h" in html
    assert f"{analysis['parameters']['n_boot']} resamples" in html
    from immunopet import __version__

    assert f"Images were analysed with immunopet {__version__}" in html
    methods_txt = (study / "report" / "methods.txt").read_text(encoding="utf-8")
    assert methods_txt.split("\n\n")[1] in html  # the citable text file holds the same paragraphs


@pytest.mark.slow
def test_report_hides_identifiers_unless_asked(demo_quick, tmp_path):
    _, original = demo_quick
    study = tmp_path / "study"
    shutil.copytree(original, study)
    scans = pd.read_csv(study / "scans.csv").sort_values("day")
    first = scans.drop_duplicates("patient_id").iloc[0]
    for file in (p for p in (study / first["pet"]).rglob("*") if p.is_file()):
        ds = pydicom.dcmread(file)
        ds.PatientName, ds.PatientBirthDate = "Oosterhuis^Geertruida", "19580312"
        ds.save_as(file)
    default = build_report(study, out=study / "report" / "plain.html").read_text(encoding="utf-8")
    for secret in ("Oosterhuis", "Geertruida", "19580312", "1958"):
        assert secret not in default
    internal = build_report(study, out=tmp_path / "internal.html", include_identifiers=True).read_text(encoding="utf-8")
    assert "Oosterhuis^Geertruida" in internal and "19580312" in internal
    assert "contains patient identifiers" in internal and "contains patient identifiers" not in default


def _cli(argv: list[str]) -> int:
    """Exit code of ``immunopet ARGV`` (a command may also leave through SystemExit)."""
    from immunopet.cli import main

    try:
        return main(argv)
    except SystemExit as leaving:
        return int(leaving.code or 0)


@pytest.mark.slow
def test_failed_scan_is_reported_and_exit_code_is_1(demo_quick, tmp_path):
    _, original = demo_quick
    study = tmp_path / "study"
    shutil.copytree(original, study)
    scans = pd.read_csv(study / "scans.csv")
    broken = scans.iloc[1]
    for file in (p for p in (study / broken["pet"]).rglob("*") if p.is_file()):
        ds = pydicom.dcmread(file)
        for item in ds.RadiopharmaceuticalInformationSequence:
            for keyword in ("RadiopharmaceuticalStartDateTime", "RadiopharmaceuticalStartTime"):
                if keyword in item:
                    delattr(item, keyword)
        ds.save_as(file)
    assert _cli(["--quiet", "run", str(study)]) == 1
    out = tmp_path / "report.html"
    assert _cli(["--quiet", "report", str(study), "--out", str(out)]) == 1
    html = out.read_text(encoding="utf-8")
    qa = html[html.index('id="qa"'): html.index('id="results"')]
    assert f"<td>{broken['scan_id']}</td>" in qa and "1 of 20 scans" in qa
    assert "RadiopharmaceuticalStartDateTime" in qa  # the reason, as recorded by the run


@pytest.mark.slow
def test_demo_reuses_an_existing_simulated_study(demo_quick, tmp_path):
    _, original = demo_quick
    study = tmp_path / "again"
    shutil.copytree(original, study)
    (study / "report" / "report.html").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in (study / "dicom-export").rglob("*") if p.is_file()}
    assert before  # the raw export the demo simulated
    assert _cli(["--quiet", "demo", str(study), "--quick"]) == 0
    assert (study / "report" / "report.html").is_file()
    assert {p.name: p.stat().st_mtime_ns for p in (study / "dicom-export").rglob("*") if p.is_file()} == before  # not simulated again
