"""Reading the results store back as tidy tables: :func:`load_results` -> :class:`Results`."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from immunopet.errors import StudyError
from immunopet.study import schema, store
from immunopet.study.config import StudyConfig
from immunopet.study.manifest import _read_config
from immunopet.study.paths import PathPolicy
from immunopet.study.problems import StudyValidationError
from immunopet.study.rows import LesionRow
from immunopet.study.tables import read_table

log = logging.getLogger(__name__)

#: Columns of ``results/measurements.csv`` (docs/study-format.md, "Outputs").
MEASUREMENT_COLUMNS = [
    "patient_id", "tumour_type", "dose_cohort", "scan_id", "day", "hours_pi", "voi_id", "kind", "site",
    "suv_type", *schema.METRICS,
]
SCAN_COLUMNS = [
    "scan_id", "patient_id", "day", "hours_pi", "status", "error", "suv_audit", "suv_factor", "injected_bq",
    "pet", "pet_hash", "run_id", "computed_at",
]
VOI_COLUMNS = ["scan_id", "voi_id", "kind", "site", "source", "status", "error"]


@dataclass(frozen=True, eq=False)
class Results:
    """The tidy tables of a study's results.

    Attributes
    ----------
    measurements
        One row per scan x VOI measured (:data:`MEASUREMENT_COLUMNS`).
    patients
        The patient table plus ``pet_uptake`` and ``n_lesions`` at ``config.outcome_day``.
    lesions
        ``lesions.csv`` (empty when the study has none).
    scans
        One row per scan with status, error, ``hours_pi`` and the SUV audit (JSON text).
    vois
        One row per scan x VOI with status and, for failed VOIs, the reason.
    config
        ``study.yaml``.
    """

    measurements: pd.DataFrame
    patients: pd.DataFrame
    lesions: pd.DataFrame
    scans: pd.DataFrame
    vois: pd.DataFrame
    config: StudyConfig


def _select(engine: Engine, table: sa.Table, study: str) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.execute(sa.select(table).where(table.c.study == study))
        return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))


def patient_summary(patients: pd.DataFrame, measurements: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    """``patients`` + ``pet_uptake`` (geometric mean over lesions of ``config.lesion_metric`` at
    ``config.outcome_day``) and ``n_lesions`` (lesions with a positive value there).

    A lesion measured on several scans of the outcome day counts once (mean of its values).
    """
    metric = config.lesion_metric
    at_day = measurements[
        (measurements["kind"] == "lesion") & np.isclose(measurements["day"].astype(float), config.outcome_day)
    ]
    per_lesion = at_day.groupby(["patient_id", "voi_id"], as_index=False)[metric].mean()
    usable = per_lesion[np.isfinite(per_lesion[metric]) & (per_lesion[metric] > 0)]
    if len(usable) < len(per_lesion):
        log.warning("%d lesion(s) without a positive %s on day %g left out of pet_uptake",
                    len(per_lesion) - len(usable), metric, config.outcome_day)
    summary = usable.assign(log_value=np.log(usable[metric])).groupby("patient_id").agg(
        pet_uptake=("log_value", "mean"), n_lesions=("log_value", "size")
    )
    summary["pet_uptake"] = np.exp(summary["pet_uptake"])
    out = patients.merge(summary, left_on="patient_id", right_index=True, how="left")
    out["n_lesions"] = out["n_lesions"].fillna(0).astype(int)
    return out


def read_results(engine: Engine, config: StudyConfig, lesions: pd.DataFrame) -> Results:
    """:class:`Results` of ``config.name`` from an open store."""
    name = config.name
    patients_raw = _select(engine, schema.patients, name)
    if patients_raw.empty:
        raise StudyError(f"the results store holds no study named {name!r}", fix="run `immunopet run STUDY_DIR` first")
    patients = pd.DataFrame.from_records(list(patients_raw["data"]))
    scans = _select(engine, schema.scans, name)
    vois = _select(engine, schema.vois, name)
    measured = _select(engine, schema.measurements, name)
    scans["suv_audit"] = [None if a is None else json.dumps(a, sort_keys=True) for a in scans["suv_audit"]]
    tidy = (
        measured.merge(scans[["scan_id", "patient_id", "day", "hours_pi"]], on="scan_id", how="left")
        .merge(patients[["patient_id", "tumour_type", "dose_cohort"]], on="patient_id", how="left")
        .merge(vois[["scan_id", "voi_id", "kind", "site"]], on=["scan_id", "voi_id"], how="left")
    )
    tidy = tidy.reindex(columns=MEASUREMENT_COLUMNS).sort_values(["patient_id", "day", "scan_id", "kind", "voi_id"])
    numeric = [m for m in schema.METRICS if m not in schema.INTEGER_METRICS] + ["day", "hours_pi"]
    tidy[numeric] = tidy[numeric].astype(float)  # also when no row was measured (empty, object columns)
    tidy["n_voxels"] = tidy["n_voxels"].astype("Int64")
    return Results(
        measurements=tidy.reset_index(drop=True),
        patients=patient_summary(patients, tidy, config),
        lesions=lesions.drop(columns="_row", errors="ignore"),
        scans=scans.reindex(columns=SCAN_COLUMNS).sort_values(["patient_id", "day", "scan_id"]).reset_index(drop=True),
        vois=vois.reindex(columns=VOI_COLUMNS).sort_values(["scan_id", "voi_id"]).reset_index(drop=True),
        config=config,
    )


def load_results(study_dir: str | Path, *, db_url: str | None = None) -> Results:
    """The results of a study that has been run (``immunopet run``).

    Reads ``study.yaml`` and ``lesions.csv`` from the folder (image files need not be there) and the
    tables from the store.

    Parameters
    ----------
    study_dir
        The study folder.
    db_url
        SQLAlchemy URL of the store; default ``sqlite:///STUDY/results/immunopet.sqlite``.
    """
    root = Path(study_dir).resolve()
    config, problems = _read_config(root)
    lesions, lesion_problems = (
        read_table(root, config.tables.lesions, LesionRow, optional=True,
                   policy=PathPolicy.for_study(root, config.allow_outside_paths)) if config else (None, [])
    )
    problems += lesion_problems
    if problems or config is None:
        raise StudyValidationError(problems, study_dir=str(root))
    url = db_url or store.default_url(root)
    if db_url is None and not (root / store.DEFAULT_DB).is_file():
        raise StudyError("no results yet", file=root / store.DEFAULT_DB, fix=f"run `immunopet run {root}` first")
    engine = store.open_store(url, create=False)
    try:
        return read_results(engine, config, lesions)
    finally:
        engine.dispose()
