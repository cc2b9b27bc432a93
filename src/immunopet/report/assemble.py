"""Putting the report together: study figures, methods, QA and per-patient sections -> HTML."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from immunopet import __version__
from immunopet.report import fig_kinetics, fig_outcome, fig_uptake
from immunopet.report.figio import PNG_DPI, SavedFigure, save_figure
from immunopet.report.html import Block, figure_entry, render_report, table_from_frame
from immunopet.report.imaging import PatientFigures
from immunopet.report.inputs import ReportInputs
from immunopet.report.methods import METRIC_PHRASES, methods_parameters, methods_text
from immunopet.report.qa import QAFindings, qa_findings
from immunopet.report.statistics import key_results, km_notes, statistics_sentences
from immunopet.report.tables import lesion_table, patient_table, scan_table, stat_table, suv_inputs_of

log = logging.getLogger(__name__)


def _config(inputs: ReportInputs, key: str, default: Any) -> Any:
    config = inputs.config
    value = config.get(key) if isinstance(config, dict) else getattr(config, key, None)
    return default if value is None else value


def study_figures(inputs: ReportInputs, figures_dir: Path, *, svg: bool,
                  progress: Callable) -> tuple[list[Block], list[SavedFigure]]:
    """The result sections with the study-level figures (each also saved as PNG and SVG)."""
    m, patients = inputs.measurements, inputs.patients
    day = float(_config(inputs, "outcome_day", 7.0))
    metric = str(_config(inputs, "lesion_metric", "suv_max"))
    responders = tuple(_config(inputs, "responders", ["CR", "PR"]))
    metric_label = METRIC_PHRASES.get(metric, metric)
    lesions = m[(m["kind"] == "lesion") & np.isclose(m["day"].astype(float), day)]
    uptake_label = f"PET uptake\n(geometric mean lesion {metric_label}, day {day:g})"
    plans: list[tuple[str, str, Callable[[], Figure], str]] = [
        ("Biodistribution", "biodistribution", lambda: fig_uptake.biodistribution_figure(m),
         "Normal-organ SUVmean per nominal scan day: mean over patients, error bars one SD."),
        ("Tumour uptake and heterogeneity", "lesion_uptake",
         lambda: fig_uptake.heterogeneity_figure(lesions, value=metric, label=f"lesion {metric_label} (day {day:g})"),
         f"Lesion {metric_label} on the day-{day:g} scan per patient (dots), grouped by tumour type; black bar: "
         "the patient's geometric mean."),
        ("Uptake and response", "uptake_by_response",
         lambda: fig_uptake.response_figure(patients, label=uptake_label),
         "Per-patient PET uptake by RECIST 1.1 best overall response (box: quartiles; dots: patients)."),
        ("Uptake and response", "waterfall",
         lambda: fig_uptake.waterfall_figure(patients, label=uptake_label),
         "Best percentage change in the sum of target-lesion diameters, coloured by PET uptake (log scale); "
         "dashed lines: +20 % and -30 %."),
        ("Survival", "kaplan_meier",
         lambda: fig_outcome.km_figure(patients, label="PET uptake", notes=km_notes(inputs.analysis),
                                       threshold=_numeric_split(inputs.analysis)),
         "Kaplan-Meier estimates of progression-free and overall survival for patients with PET uptake above "
         "vs at or below the median; ticks: censored; numbers at risk below."),
        ("Survival", "cutoff_sensitivity",
         lambda: fig_outcome.cutoff_figure(inputs.analysis_tables.get("cutoff_scan", pd.DataFrame())),
         "Log-rank p-value of PET uptake high vs low when the split is moved from the 25th to the 75th percentile "
         "(a sensitivity analysis of the median split; dashed: p = 0.05)."),
        ("PET, IHC and RNA-seq as predictors of response", "roc",
         lambda: fig_outcome.roc_figure(patients, responders=responders),
         f"ROC curves for response ({', '.join(responders)}) of PET uptake, PD-L1 IHC and RNA-seq markers "
         "(patients with both values)."),
        ("Kinetics over the scan days", "median_curves",
         lambda: fig_kinetics.median_curves_figure(inputs.analysis_tables["median_curves"]),
         "Median SUVmean per organ (lesions pooled) at the median scan time of each nominal day; bars: quartiles. "
         "Patlak Ki and V_T per VOI: analysis/patlak.csv; TIAC: analysis/tiac.csv (docs/kinetics.md)."),
    ]
    advance = progress("study figures", len(plans))
    blocks: dict[str, Block] = {}
    saved_all: list[SavedFigure] = []
    for title, name, draw, caption in plans:
        block = blocks.setdefault(title, Block(title))
        try:
            saved = save_figure(draw(), figures_dir, name, caption=caption, svg=svg)
        except (KeyError, ValueError) as error:  # a table without the columns this figure needs
            log.warning("figure %s not drawn: %s", name, error)
            block.note = f"{block.note} Figure {name} not drawn: {error}".strip()
        else:
            block.figures.append(figure_entry(saved, dpi=PNG_DPI))
            saved_all.append(saved)
        advance()
    return list(blocks.values()), saved_all


def _numeric_split(summary: dict[str, Any]) -> float | None:
    """The PET-uptake split of the analyses when it is a number (``immunopet analyze --split``)."""
    split = (summary.get("parameters") or {}).get("split")
    return float(split) if isinstance(split, int | float) and not isinstance(split, bool) else None


def qa_section(qa: QAFindings) -> dict[str, Any]:
    """The QA part of the template context."""
    changed = qa.changed_overrides
    same = len(qa.overrides) - len(changed)
    blocks = [
        {"title": "Failed scans", "note": "", "table": table_from_frame(
            qa.failed_scans, columns={"scan_id": "scan", "patient_id": "patient", "day": "day", "status": "status",
                                      "error": "reason"}, empty_text="No scan failed.")},
        {"title": "Failed VOIs", "note": "", "table": table_from_frame(qa.failed_vois, empty_text="No VOI failed.")},
        {"title": "Overrides of DICOM header values",
         "note": (f"{same} further override(s) gave the same value as the header." if same else ""),
         "table": table_from_frame(changed, columns={"scan_id": "scan", "input": "input", "value": "value used",
                                                     "header value": "header value", "source": "source"},
                                   empty_text="No override changed a header value.")},
        {"title": "Uptake times far from the nominal day",
         "note": "Flagged when |hours p.i. - 24 x day| exceeds min(12 h, max(1 h, 10 % of the nominal time)).",
         "table": table_from_frame(qa.timing, columns={
             "scan_id": "scan", "patient_id": "patient", "day": "day", "nominal_h": "nominal (h)",
             "hours_pi": "hours p.i.", "deviation_h": "deviation (h)", "tolerance_h": "tolerance (h)"},
             empty_text="Every uptake time is within tolerance of its nominal day.")},
        {"title": "Missing DICOM attributes", "note": "",
         "table": table_from_frame(qa.missing, columns={"scan_id": "scan", "input": "input", "source": "attribute",
                                                        "note": "note"}, empty_text="No SUV input was missing.")},
        {"title": "Warnings while reading the images", "note": "",
         "table": table_from_frame(qa.warnings, empty_text="No warnings.")},
    ]
    if qa.n_problems:
        headline, status = (f"{len(qa.failed_scans)} of {qa.n_scans} scans and {len(qa.failed_vois)} VOIs failed; "
                            "their results are missing from every table and figure."), "qa-fail"
    elif qa.n_notes:
        headline, status = f"All {qa.n_scans} scans were measured; see the notes below.", "qa-warn"
    else:
        headline, status = f"All {qa.n_scans} scans were measured without findings.", "qa-ok"
    return {"headline": headline, "status_class": status, "blocks": blocks}


def _summary_items(inputs: ReportInputs, qa: QAFindings) -> list[tuple[str, str]]:
    m = inputs.measurements
    days = ", ".join(f"{d:g}" for d in sorted(m["day"].unique()))
    types = inputs.patients["tumour_type"].value_counts().sort_index() if "tumour_type" in inputs.patients else pd.Series()
    return [
        ("Study", str(_config(inputs, "name", ""))),
        ("Tracer", f"{_config(inputs, 'tracer', '')} ({_config(inputs, 'nuclide', '')})"),
        ("Patients", f"{inputs.patients['patient_id'].nunique()} ("
                     + ", ".join(f"{t}: {n}" for t, n in types.items()) + ")"),
        ("Scans", f"{qa.n_scans} at nominal days {days}; {len(qa.failed_scans)} failed"),
        ("Lesions", f"{m.loc[m['kind'] == 'lesion', ['patient_id', 'voi_id']].drop_duplicates().shape[0]}"),
        ("SUV", f"SUV{_config(inputs, 'suv_type', 'bw')}; SUVpeak {_config(inputs, 'suv_peak', 'global')}"),
        ("Outcome scan day", f"{float(_config(inputs, 'outcome_day', 7)):g}"),
        ("Data read from", _paths_allowed(_config(inputs, "allow_outside_paths", False))),
    ]


def _paths_allowed(allowed: Any) -> str:
    """``allow_outside_paths`` of study.yaml in words (folder names are not shown: they may name a patient)."""
    if allowed is True:
        return "anywhere: allow_outside_paths is true in study.yaml, so paths outside the study folder were read"
    if allowed:
        return (f"the study folder and {len(allowed)} folder(s) outside it allowed in study.yaml "
                "(allow_outside_paths)")
    return "the study folder only (every path resolved inside it)"


def patient_sections(inputs: ReportInputs, images: dict[str, PatientFigures], *, identifiers: pd.DataFrame | None,
                     dpi: int) -> list[dict[str, Any]]:
    """One context dict per patient: scans (SUV inputs), lesion metrics over days, figures."""
    audit_col = "suv_audit" if "suv_audit" in inputs.scans.columns else "audit"
    scan_inputs = {}
    for row in inputs.scans.itertuples():
        scan_inputs[row.scan_id] = suv_inputs_of(getattr(row, audit_col, None) or {})
    ids = identifiers.set_index("patient_id") if identifiers is not None and not identifiers.empty else None
    sections = []
    for p in inputs.patients.sort_values("patient_id").itertuples():
        pid = str(p.patient_id)
        figures = images.get(pid, PatientFigures(pid)).figures
        subtitle = ", ".join(str(v) for v in (getattr(p, "tumour_type", None), getattr(p, "best_response", None))
                             if isinstance(v, str) and v)
        ident = ""
        if ids is not None and pid in ids.index:
            r = ids.loc[pid]
            ident = f"Name: {r['PatientName']}; birth date: {r['PatientBirthDate']}; DICOM patient ID: {r['PatientID']}"
        sections.append({
            "patient_id": pid, "anchor": re.sub(r"[^A-Za-z0-9_-]", "_", pid), "subtitle": subtitle,
            "identifiers": ident, "scans": scan_table(inputs.scans, pid, inputs=scan_inputs),
            "lesions": lesion_table(inputs.measurements, pid),
            "figures": [figure_entry(f, dpi=dpi) for f in figures],
        })
    return sections


def _with_registration(section: dict[str, Any], study_dir: Path, settings: Any, *, figures_dir: Path, svg: bool,
                       dpi: int, drawn: Mapping[str, SavedFigure] | None = None) -> tuple[dict[str, Any], list[SavedFigure]]:
    """The QA section with the registration block (and its checkerboard figures) and the new and
    vanished lesions appended. ``drawn``: checkerboards already drawn (by the patients' image jobs),
    by figure name; the others are drawn here."""
    from immunopet.report.fig_registration import figure_name, registration_figures
    from immunopet.report.registration_qa import registration_blocks
    from immunopet.study.registration_store import read_records

    records = read_records(study_dir)  # one read for the table and the figures
    blocks, flagged = registration_blocks(study_dir, settings or {}, records=records)
    saved: list[SavedFigure] = []
    if blocks:
        drawn = dict(drawn or {})
        missing = [r for r in records.values() if figure_name(str(r.get("scan_id"))) not in drawn]
        drawn.update({f.name: f for f in registration_figures(study_dir, missing, figures_dir, svg=svg, dpi=dpi)})
        saved = [drawn[name] for name in (figure_name(str(r.get("scan_id"))) for r in records.values()) if name in drawn]
        blocks[0]["figures"] = [figure_entry(f, dpi=dpi) for f in saved]
    if flagged and section["status_class"] == "qa-ok":
        section = {**section, "status_class": "qa-warn",
                   "headline": section["headline"] + " A registration was poor or failed; see below."}
    from immunopet.report.lesion_tracking_qa import lesion_tracking_blocks

    return {**section, "blocks": [*section["blocks"], *blocks, *lesion_tracking_blocks(study_dir)]}, saved


def assemble_report(inputs: ReportInputs, images: dict[str, PatientFigures], *, figures_dir: Path,
                    identifiers: pd.DataFrame | None, svg: bool, progress: Callable, dpi: int,
                    generated: str) -> tuple[str, list[SavedFigure]]:
    """The report HTML and every figure it shows."""
    audit_col = "suv_audit" if "suv_audit" in inputs.scans.columns else "audit"
    qa = qa_findings(inputs.scans, failed_vois=inputs.failed_vois, audit_column=audit_col)
    results, study_saved = study_figures(inputs, figures_dir, svg=svg, progress=progress)
    findings = key_results(inputs.analysis)
    if findings:
        results.insert(0, Block("Key results", table=stat_table(findings),
                                text="From analysis/analysis.json (immunopet analyze); every test with its n."))
    params = methods_parameters(inputs.config, inputs.measurements, scans=_scans_with_mbq(inputs.scans),
                                statistics=statistics_sentences(inputs.analysis), software_version=__version__)
    methods = methods_text(params)
    if (inputs.analysis.get("kinetics") or {}).get("methods"):  # kinetics paragraph (analysis/kinetics/methods.py)
        methods.insert(-1, inputs.analysis["kinetics"]["methods"])
    from immunopet.atomic import atomic_text

    (figures_dir.parent).mkdir(parents=True, exist_ok=True)
    atomic_text(figures_dir.parent / "methods.txt", "\n\n".join(methods) + "\n")
    drawn = {f.name: f for p in images.values() for f in p.registration}
    qa_shown, registration_saved = _with_registration(qa_section(qa), inputs.study_dir, _config(inputs, "registration", {}),
                                                      figures_dir=figures_dir, svg=svg, dpi=dpi, drawn=drawn)
    html = render_report(
        study={"name": str(_config(inputs, "name", inputs.study_dir.name)), "tracer": str(_config(inputs, "tracer", ""))},
        summary=_summary_items(inputs, qa),
        patient_table=patient_table(inputs.patients, identifiers=identifiers),
        methods=methods, qa=qa_shown, results=results,
        patients=patient_sections(inputs, images, identifiers=identifiers, dpi=dpi),
        version=__version__, generated=generated, include_identifiers=identifiers is not None,
        study_dir_name=inputs.study_dir.name,
    )
    return html, [*study_saved, *registration_saved, *(f for p in images.values() for f in p.figures)]


def _scans_with_mbq(scans: pd.DataFrame) -> pd.DataFrame:
    """The scans table with the injected activity (MBq, at injection) read from each SUV audit."""
    audit_col = "suv_audit" if "suv_audit" in scans.columns else "audit"
    audits = scans[audit_col] if audit_col in scans.columns else [None] * len(scans)
    return scans.assign(injected_mbq=[suv_inputs_of(a or {}).get("injected_mbq") for a in audits])
