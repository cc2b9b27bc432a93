"""``immunopet register``: each scan of a patient registered to that patient's reference scan.

The reference scan of a patient is its scan on ``reference_day`` (study.yaml; default
``outcome_day``), or the scan nearest to that day. Every other scan's CT is registered to the
reference CT (PET to PET when either scan has no CT). A transform is computed again only when the
hash of its inputs changed (both image folders' fingerprints and the registration parameters);
``force`` computes all. Landmarks for the quality check are taken from
``truth/lesion_positions.csv`` when the folder holds the simulator's truth.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from immunopet.study.fingerprint import canonical_json, hash_path, sha256_text
from immunopet.study.manifest import Study, load_study
from immunopet.study.registration_store import FOLDER, folder, read_records, store_records, write_records

log = logging.getLogger(__name__)


@dataclass
class RegistrationSummary:
    """What a registration pass did: one record per scan (``status`` done / failed / reference)."""

    records: list[dict[str, Any]]
    computed: list[str]
    reused: list[str]

    @property
    def failed(self) -> list[str]:
        return [r["scan_id"] for r in self.records if r["status"] == "failed"]

    @property
    def poor(self) -> list[str]:
        return [r["scan_id"] for r in self.records if r.get("verdict") == "poor"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed or self.poor else 0


def _settings(study: Study) -> tuple[dict[str, Any], dict[str, Any]]:
    """RegistrationParams and QualityLimits fields from study.yaml's ``registration:`` block (validated)."""
    from immunopet.errors import RegistrationError, StudyError
    from immunopet.register.params import setting_names, split_settings

    given = dict(study.config.registration)
    names, limit_names = setting_names()
    unknown = sorted(set(given) - names - limit_names)
    if unknown:
        raise StudyError(f"unknown registration setting(s) {unknown}", file=study.root / "study.yaml",
                         attribute="registration", fix=f"use {', '.join(sorted(names | limit_names))}")
    try:
        params, limits = split_settings(given)
    except RegistrationError as bad:
        raise StudyError(bad.message, file=study.root / "study.yaml", attribute=bad.attribute, fix=bad.fix) from bad
    return params.as_dict(), limits.as_dict()


def reference_scans(study: Study) -> dict[str, str]:
    """``patient_id -> scan_id`` of each patient's reference scan."""
    day = study.config.reference_day if study.config.reference_day is not None else study.config.outcome_day
    chosen = {}
    for pid, scans in study.scans.groupby("patient_id", sort=False):
        gap = (scans["day"] - day).abs()
        chosen[str(pid)] = str(scans.loc[gap.sort_values(kind="stable").index[0], "scan_id"])
    return chosen


def _landmarks(positions: pd.DataFrame | None, scan_id: str, reference_id: str) -> list[list[list[float]]] | None:
    """``[points of scan_id, same points of reference_id]`` from the simulator's lesion positions."""
    if positions is None:
        return None
    cols = ["x_mm", "y_mm", "z_mm"]
    a = positions[positions.scan_id == scan_id].set_index("voi_id")
    b = positions[positions.scan_id == reference_id].set_index("voi_id")
    common = a.index.intersection(b.index)
    if common.empty:
        return None
    return [a.loc[common, cols].to_numpy(float).tolist(), b.loc[common, cols].to_numpy(float).tolist()]


def _image_of(study: Study, scan: dict[str, Any], modality: str) -> Path | None:
    value = scan.get("ct") if modality == "CT" else scan.get("pet")
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return study.path(str(value))


def plan_jobs(study: Study, params: dict[str, Any], limits: dict[str, Any]) -> list[dict[str, Any]]:
    """One job per non-reference scan (see :func:`immunopet.register.job.run_pair`)."""
    references = reference_scans(study)
    truth = study.root / "truth" / "lesion_positions.csv"
    positions = pd.read_csv(truth) if truth.is_file() else None
    hashes_of: dict[Path, str] = {}  # a reference image serves every other scan of its patient: hash it once

    def image_hash(path: Path) -> str:
        if path not in hashes_of:
            hashes_of[path] = hash_path(path) if path.exists() else "missing"
        return hashes_of[path]

    jobs = []
    for scan in study.scans.to_dict("records"):
        reference_id = references[str(scan["patient_id"])]
        if scan["scan_id"] == reference_id:
            continue
        reference = study.scan(reference_id)
        modality = "CT" if _image_of(study, scan, "CT") and _image_of(study, reference, "CT") else "PT"
        fixed, moving = _image_of(study, scan, modality), _image_of(study, reference, modality)
        hashes = [image_hash(p) for p in (fixed, moving)]
        jobs.append({"scan_id": scan["scan_id"], "reference_scan_id": reference_id, "modality": modality,
                     "fixed": str(fixed), "moving": str(moving), "params": params, "limits": limits,
                     "transform_path": f"{FOLDER}/{scan['scan_id']}.tfm",
                     "input_hash": sha256_text(canonical_json({"images": hashes, "modality": modality,
                                                               "params": params, "reference": reference_id})),
                     "landmarks": _landmarks(positions, scan["scan_id"], reference_id)})
    return jobs


def _execute(jobs: list[dict[str, Any]], root: Path, workers: int) -> list[dict[str, Any]]:
    from immunopet.register.job import run_pairs

    threads = max(1, (os.cpu_count() or 1) // max(1, workers))
    absolute = [{**job, "transform_path": str(root / job["transform_path"]), "threads": threads} for job in jobs]
    groups: dict[str, list[dict[str, Any]]] = {}  # the scans of one reference: its image is read once
    for job in absolute:
        groups.setdefault(job["moving"], []).append(job)
    if workers <= 1 or len(groups) <= 1:
        done = [run_pairs(group) for group in groups.values()]
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(groups))) as pool:
            done = list(pool.map(run_pairs, groups.values()))
    by_scan = {result["scan_id"]: result for group in done for result in group}
    results = [by_scan[job["scan_id"]] for job in jobs]
    for job, result in zip(jobs, results, strict=True):
        result["transform_path"] = job["transform_path"]  # relative to the study folder
    return results


def register_study(study_dir: str | Path, *, workers: int = 1, force: bool = False, db_url: str | None = None,
                   deformable: bool | None = None) -> RegistrationSummary:
    """Register every scan to its patient's reference scan; keep transforms, records and store current.

    Parameters
    ----------
    study_dir
        The study folder (validated first).
    workers
        Processes registering scans at once (SimpleITK threads are shared out between them).
    force
        Register every scan again, even when its inputs did not change.
    db_url
        Results store (default ``STUDY/results/immunopet.sqlite``).
    deformable
        Override study.yaml's ``registration: deformable``.
    """
    from immunopet.study import store

    study = load_study(study_dir)
    params, limits = _settings(study)
    if deformable is not None:
        params["deformable"] = bool(deformable)
    previous = read_records(study.root)
    jobs = plan_jobs(study, params, limits)
    todo, records = [], {}
    for job in jobs:
        old = previous.get(job["scan_id"])
        if (not force and old and old.get("status") == "done" and old.get("input_hash") == job["input_hash"]
                and (study.root / job["transform_path"]).is_file()):
            records[job["scan_id"]] = old
        else:
            todo.append(job)
    for result in _execute(todo, study.root, workers):
        records[result["scan_id"]] = result
    for pid, reference_id in reference_scans(study).items():
        records[reference_id] = {"scan_id": reference_id, "reference_scan_id": reference_id, "status": "reference",
                                 "modality": None, "verdict": "good", "error": None, "input_hash": None,
                                 "transform_path": None}
    ordered = [records[s] for s in study.scans["scan_id"] if s in records]
    write_records(study.root, ordered)
    engine = store.open_store(db_url or store.default_url(study.root))
    try:
        store_records(engine, study.config.name, ordered)
    finally:
        engine.dispose()
    done_now = {j["scan_id"] for j in todo}
    return RegistrationSummary(ordered, sorted(done_now), [j["scan_id"] for j in jobs if j["scan_id"] not in done_now])


def scan_transform(study: Study, scan_id: str) -> Any:
    """The stored transform of ``scan_id`` (identity for a reference scan); raises when it is missing."""
    return transform_of(study.root, scan_id)


def transform_of(root: Path, scan_id: str, *, records: dict[str, dict[str, Any]] | None = None) -> Any:
    """The stored transform of ``scan_id`` in the study folder ``root`` (identity for a reference scan).

    ``records`` are the study's registration records when the caller has read them already.
    """
    import SimpleITK as sitk

    from immunopet.errors import RegistrationError
    from immunopet.register.transforms import read_transform

    record = (read_records(root) if records is None else records).get(scan_id)
    if record is None:
        raise RegistrationError(f"scan {scan_id!r} has not been registered", file=folder(root),
                                fix="run immunopet register STUDY_DIR")
    if record["status"] == "reference":
        return sitk.Transform(3, sitk.sitkIdentity)
    if record["status"] != "done":
        raise RegistrationError(f"registration of scan {scan_id!r} failed: {record.get('error')}", file=folder(root))
    return read_transform(root / record["transform_path"])
