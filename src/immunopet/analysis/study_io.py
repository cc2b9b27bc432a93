"""``analyze_study``: load a study's results, run :func:`analyze`, write ``analysis/``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from immunopet.analysis.params import AnalysisParams
from immunopet.analysis.pipeline import analyze
from immunopet.analysis.result import AnalysisResult
from immunopet.errors import AnalysisError

log = logging.getLogger("immunopet.analysis")


def _read_csv(path: Path, *, required: bool) -> pd.DataFrame | None:
    if not path.is_file():
        if required:
            raise AnalysisError("results table not found", file=path,
                                fix="run `immunopet run STUDY_DIR` first to measure the scans")
        return None
    return pd.read_csv(path)


def _results_from_files(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, dict, None]:
    """The study's result tables straight from ``results/`` (used when immunopet.study is absent; no scans)."""
    config_path = root / "study.yaml"
    if not config_path.is_file():
        raise AnalysisError("study.yaml not found", file=config_path, fix="give the study folder")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    lesions_name = (config.get("tables") or {}).get("lesions", "lesions.csv")
    measurements = _read_csv(root / "results" / "measurements.csv", required=True)
    patients = _read_csv(root / "results" / "patients.csv", required=True)
    return measurements, patients, _read_csv(root / lesions_name, required=False), config, None


def load_tables(study_dir: str | Path, *, db_url: str | None = None) -> tuple[Any, ...]:
    """(measurements, patients, lesions, config, scans) of a study, via ``immunopet.study.load_results``."""
    root = Path(study_dir)
    if not root.is_dir():
        raise AnalysisError("study folder not found", file=root, fix="give the folder that holds study.yaml")
    try:
        from immunopet.study import load_results
    except ImportError:
        if db_url is not None:
            raise AnalysisError("reading results from a database needs immunopet.study.load_results",
                                attribute="--db", fix="read the CSV results: leave out --db") from None
        log.debug("immunopet.study.load_results not available: reading results/*.csv")
        return _results_from_files(root)
    results = load_results(root, db_url=db_url)
    return (results.measurements, results.patients, getattr(results, "lesions", None),
            getattr(results, "config", None), getattr(results, "scans", None))


def analyze_study(study_dir: str | Path, *, db_url: str | None = None, out_dir: str | Path | None = None,
                  **overrides: Any) -> AnalysisResult:
    """Analyse a study folder and write ``analysis/analysis.json`` and the CSV tables.

    Parameters
    ----------
    study_dir
        The study folder (``results/`` written by ``immunopet run``).
    db_url
        SQLAlchemy URL of the results store; default: the study's own SQLite store.
    out_dir
        Where to write; default ``STUDY_DIR/analysis``.
    overrides
        :class:`AnalysisParams` fields (``day``, ``metric``, ``split``, ``n_boot``, ``seed`` ...);
        ``None`` keeps the study's choice.

    Returns
    -------
    AnalysisResult
    """
    measurements, patients, lesions, config, scans = load_tables(study_dir, db_url=db_url)
    params = AnalysisParams.from_config(config, **overrides)
    from immunopet.analysis.kinetics.params import KineticsParams

    kinetics = KineticsParams.from_config(config, analysis=params)
    samples = None
    if (Path(study_dir) / "blood.csv").is_file():  # optional blood samples (docs/kinetics.md)
        from immunopet.analysis.kinetics.blood_samples import injection_times, samples_input
        from immunopet.study.blood_samples import read_blood_samples

        samples = samples_input(read_blood_samples(Path(study_dir) / "blood.csv"), injection_times(scans),
                                decay_per_h=kinetics.decay_per_h)
    result = analyze(measurements, patients, lesions, params, kinetics=kinetics, blood_samples=samples)
    target = Path(out_dir) if out_dir is not None else Path(study_dir) / "analysis"
    path = result.write(target)
    log.info("analysis written to %s (%d tables, %d warnings)", path, len(result.tables), len(result.warnings))
    return result
