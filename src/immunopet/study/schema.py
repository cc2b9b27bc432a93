"""The results store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

Every table is keyed by the study ``name`` from ``study.yaml`` first, so one database (a core lab's
PostgreSQL) can hold several studies side by side.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, Float, Integer, MetaData, String, Table, Text

#: Metric columns of a measurement row, in the order of ``docs/study-format.md``.
METRICS = (
    "suv_max", "suv_peak", "suv_peak_local", "suv_mean", "suv_median", "suv_sd", "suv_min", "suv_p05",
    "suv_p25", "suv_p75", "suv_p95", "volume_ml", "n_voxels", "tlu", "mean_bqml", "pct_id",
    "tbr_max", "tbr_peak", "tbr_mean",
)
INTEGER_METRICS = ("n_voxels",)

metadata = MetaData()


def _key(*names: str) -> list[Column]:
    """The primary-key columns of a table: every table is keyed by the study's name first."""
    return [Column(name, String(200), primary_key=True) for name in names]


runs = Table(
    "runs", metadata,
    Column("run_id", Integer, primary_key=True, autoincrement=True),
    Column("study", String(200), nullable=False, index=True),
    Column("software_version", String(64), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("status", String(16), nullable=False),  # running | done | partial | interrupted | failed
    Column("n_scans", Integer, nullable=False, default=0),
    Column("n_done", Integer, nullable=False, default=0),
    Column("n_skipped", Integer, nullable=False, default=0),
    Column("n_failed", Integer, nullable=False, default=0),
    Column("n_vois_measured", Integer, nullable=False, default=0),
    Column("n_vois_failed", Integer, nullable=False, default=0),
    Column("host", String(255)),
    Column("pid", Integer),
)

patients = Table(
    "patients", metadata,
    *_key("study", "patient_id"),
    Column("tumour_type", String(200)),
    Column("dose_cohort", String(200)),
    Column("sex", String(1)),
    Column("height_cm", Float),
    Column("data", JSON, nullable=False),  # the whole patients.csv row
)

scans = Table(
    "scans", metadata,
    *_key("study", "scan_id"),
    Column("patient_id", String(200), nullable=False),
    Column("day", Float, nullable=False),
    Column("pet", Text, nullable=False),
    Column("status", String(16), nullable=False),  # done | failed
    Column("error", Text),
    Column("pet_hash", String(64), nullable=False),
    Column("input_hash", String(64), nullable=False),  # PET + scan row + patient size + VOIs + masks
    Column("params_hash", String(64), nullable=False),
    Column("parameters", JSON, nullable=False),
    Column("suv_audit", JSON),  # every SUV input with its source
    Column("hours_pi", Float),
    Column("suv_factor", Float),
    Column("injected_bq", Float),
    Column("run_id", Integer, nullable=False),
    Column("computed_at", DateTime(timezone=True), nullable=False),
)

vois = Table(
    "vois", metadata,
    *_key("study", "scan_id", "voi_id"),
    Column("kind", String(16), nullable=False),
    Column("site", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("definition", JSON, nullable=False),  # the vois.csv row
    Column("definition_hash", String(64), nullable=False),
    Column("mask_hash", String(64)),  # bytes of the mask file (or folder fingerprint)
    Column("status", String(16), nullable=False),  # done | failed
    Column("error", Text),
    Column("run_id", Integer, nullable=False),
)

measurements = Table(
    "measurements", metadata,
    *_key("study", "scan_id", "voi_id"),
    Column("suv_type", String(8), nullable=False),
    Column("suv_peak_definition", String(8), nullable=False),
    Column("software_version", String(64), nullable=False),
    Column("input_hash", String(64), nullable=False),  # the VOI's definition + mask + the scan's PET
    Column("params_hash", String(64), nullable=False),
    Column("run_id", Integer, nullable=False),
    *(Column(m, Integer if m in INTEGER_METRICS else Float) for m in METRICS),
)
