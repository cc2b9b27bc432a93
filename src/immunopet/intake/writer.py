"""Writing the plan as a study folder, merging with what an earlier ``init`` wrote and the user edited.

Rules on a re-run (docs/init.md): rows are matched by key (scans by ``pet_series_uid``, else
``scan_id``; patients by ``patient_id``; VOIs by ``scan_id`` + ``voi_id``); new rows are appended;
an existing cell is never changed: a difference is reported as a change init *would* make, and
``force`` rewrites the tables from the plan. A PET or CT that shares its folder with other series
gets a folder of links (:func:`series_folder`). A scan the user deleted from scans.csv (its PET was
listed by an earlier run in ``init/series.csv``) is not added back. Every file is written to a
temporary file in the same folder and renamed.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from immunopet.intake.model import Plan

SCAN_COLUMNS = ["scan_id", "patient_id", "day", "pet", "ct", "pet_series_uid", "hours_pi", "ct_series_uid"]
PATIENT_COLUMNS = ["patient_id", "tumour_type", "sex", "height_cm", "dose_cohort", "ihc_ic", "ihc_tc", "rna_cd274",
                   "rna_teff", "best_response", "best_pct_change", "pfs_months", "pfs_event", "os_months", "os_event"]
VOI_COLUMNS = ["scan_id", "voi_id", "kind", "site", "source", "path", "label"]
IDENTIFIER_COLUMNS = ["patient_id", "dicom_patient_id", "patient_name", "patient_birth_date", "injection_number",
                      "injection_datetime"]
SERIES_COLUMNS = ["series_uid", "modality", "role", "patient_id", "scan_id", "reason", "series_number",
                  "description", "n_instances", "folder"]
#: Placeholder of the required tumour_type column until the user fills it in.
UNKNOWN_TUMOUR = "unknown"
IDENTIFIERS_FILE = "identifiers.csv"
SERIES_FILE = "init/series.csv"


@dataclass
class Change:
    """A cell init would change (or changed, with ``force``)."""

    file: str
    key: str
    column: str
    old: str
    new: str


@dataclass
class WriteResult:
    added: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    kept_out: list[str] = field(default_factory=list)


def _replace(path: Path, text: str) -> None:
    from immunopet.atomic import atomic_text

    atomic_text(path, text)


def _csv(frame: pd.DataFrame, path: Path) -> None:
    _replace(path, frame.to_csv(index=False, lineterminator="\n"))


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:g}" if value == int(value) else f"{value:.6g}"
    return str(value)


def study_path(path: Path, study_dir: Path) -> str:
    """``path`` relative to the study folder when inside it, else absolute."""
    path, root = path.resolve(), study_dir.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _folder(files: list[Path]) -> Path:
    return Path(os.path.commonpath([str(f.parent) for f in files]))


#: Where a series that shares its folder with other series gets a folder of links: init/pet, init/ct.
LINKS = "init"


def series_folder(files: list[Path], study_dir: Path, scan_id: str, kind: str) -> str:
    """The series' folder; when it holds other series too (a flat CD export), a folder of links to its files.

    scans.csv names a CT by its folder alone, and every reader of a PET parses each file of the PET's
    folder before it picks the series by ``pet_series_uid``: in a flat export of 2000 files that is ten
    times the series, in every ``run``, ``register``, ``export`` and ``report``. So a series (``kind``
    ``pet`` or ``ct``) that shares its folder gets its own folder ``init/<kind>/<scan_id>/`` of symbolic
    links (relative, to the export's files).
    """
    folder = _folder(files)
    if _holds_only(folder, files):
        return study_path(folder, study_dir)
    links = study_dir / LINKS / kind / scan_id
    if links.exists():
        shutil.rmtree(links)
    links.mkdir(parents=True)
    target = links.resolve()
    real_parents: dict[Path, str] = {}  # each folder resolved once, not each of its files
    for n, file in enumerate(sorted(files)):
        parent = real_parents.setdefault(file.parent, str(file.parent.resolve()))
        (links / f"{n:05d}_{file.name}").symlink_to(os.path.relpath(os.path.join(parent, file.name), target))
    return study_path(links, study_dir)


def _holds_only(folder: Path, files: list[Path]) -> bool:
    """Whether every file below ``folder`` (hidden ones too) is one of ``files``, all found below it.

    The paths are compared as discovery spelled them, which is how a walk of ``folder`` spells them,
    so no path is resolved: a CT's check costs one listing of its folder, not a resolve per file.
    """
    own = {str(f) for f in files}
    for top, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(top, name)
            if path not in own and os.path.isfile(path):
                return False
    return True


def plan_tables(plan: Plan, study_dir: Path) -> dict[str, pd.DataFrame]:
    """The tables of ``plan`` (all cells text)."""
    scans = [{"scan_id": s.scan_id, "patient_id": s.patient_id, "day": s.day,
              "pet": series_folder(s.pet.info.files, study_dir, s.scan_id, "pet"),
              "ct": series_folder(s.ct.info.files, study_dir, s.scan_id, "ct") if s.ct else "",
              "pet_series_uid": s.pet.uid, "hours_pi": s.hours_pi, "ct_series_uid": s.ct.uid if s.ct else ""}
             for s in plan.scans]
    patients, identifiers = [], []
    for entry in plan.entries:
        sexes = [h.sex for h in entry.headers if h.sex]
        heights = [h.height_cm for h in entry.headers if h.height_cm]
        patients.append({"patient_id": entry.patient_id, "tumour_type": UNKNOWN_TUMOUR,
                         "sex": max(set(sexes), key=sexes.count) if sexes else "",
                         "height_cm": max(set(heights), key=heights.count) if heights else ""})
        first = entry.headers[0]
        identifiers.append({"patient_id": entry.patient_id, "dicom_patient_id": entry.dicom_patient_id,
                            "patient_name": first.patient_name, "patient_birth_date": first.birth_date,
                            "injection_number": entry.injection_number,
                            "injection_datetime": entry.injection.isoformat()})
    vois = [{**row, "path": study_path(Path(row["path"]), study_dir)} for row in plan.vois]
    series = [{"series_uid": d.header.uid, "modality": d.header.info.modality, "role": d.role,
               "patient_id": d.patient_id, "scan_id": d.scan_id, "reason": d.reason,
               "series_number": d.header.series_number, "description": d.header.info.description,
               "n_instances": d.header.info.n_instances,
               "folder": study_path(_folder(d.header.info.files), study_dir) if d.header.info.files else ""}
              for d in plan.decisions]
    frames = {"scans.csv": (scans, SCAN_COLUMNS), "patients.csv": (patients, PATIENT_COLUMNS),
              "vois.csv": (vois, VOI_COLUMNS), IDENTIFIERS_FILE: (identifiers, IDENTIFIER_COLUMNS),
              SERIES_FILE: (series, SERIES_COLUMNS)}
    return {name: pd.DataFrame(rows, columns=cols).map(_cell) for name, (rows, cols) in frames.items()}


def known_pseudonyms(study_dir: Path) -> dict[tuple[str, str], str]:
    """``(dicom_patient_id, injection ISO) -> patient_id`` from an earlier run's identifiers.csv."""
    old = _read(study_dir / IDENTIFIERS_FILE)
    if old is None or not set(IDENTIFIER_COLUMNS) <= set(old.columns):
        return {}
    return {(r.dicom_patient_id, r.injection_datetime): r.patient_id for r in old.itertuples()}


#: Columns init derives from the headers: only these are compared with an existing table.
DERIVED_COLUMNS = {"scans.csv": ["patient_id", "day", "pet", "ct", "pet_series_uid", "hours_pi", "ct_series_uid"],
                   "patients.csv": ["sex", "height_cm"], "vois.csv": ["kind", "site", "source", "path", "label"]}


def _merge(name: str, old: pd.DataFrame, new: pd.DataFrame, keys: list[str], result: WriteResult,
           skip: set[str] | None = None) -> pd.DataFrame:
    """Old rows as they are, plus new rows whose key is not there; differences recorded as changes."""
    def key_of(row: pd.Series) -> str:
        for k in keys:  # the first key present in both tables and non-empty
            if k in row.index and row[k]:
                return f"{k}={row[k]}"
        return ""

    for column in new.columns:
        if column not in old.columns:
            old[column] = ""
    index = {key_of(row): n for n, row in old.iterrows()}
    added = []
    for _, row in new.iterrows():
        key = key_of(row)
        if key in index:
            current = old.loc[index[key]]
            for column in DERIVED_COLUMNS[name]:
                if _cell(current[column]) != row[column]:
                    result.changes.append(Change(name, key, column, _cell(current[column]), row[column]))
        elif skip and key in skip:
            result.kept_out.append(f"{name}: {key} (deleted by hand after an earlier init; not added back)")
        else:
            added.append(row)
    result.added[name] = len(added)
    return pd.concat([old, pd.DataFrame(added, columns=new.columns)], ignore_index=True).fillna("")


def write_study(plan: Plan, study_dir: Path, *, config: dict, force: bool = False) -> WriteResult:
    """Write (or merge into) study.yaml, scans.csv, patients.csv, vois.csv, identifiers.csv, init/series.csv."""
    study_dir.mkdir(parents=True, exist_ok=True)
    tables = plan_tables(plan, study_dir)
    result = WriteResult()
    if force or not (study_dir / "study.yaml").is_file():
        _replace(study_dir / "study.yaml", yaml.safe_dump(config, sort_keys=False))
    previous = _read(study_dir / SERIES_FILE)
    seen = set() if previous is None else {f"pet_series_uid={u}" for u in previous.loc[previous["role"] == "pet", "series_uid"]}
    keyed = {"scans.csv": ["pet_series_uid", "scan_id"], "patients.csv": ["patient_id"]}
    for name in ("scans.csv", "patients.csv", "vois.csv"):
        old = None if force else _read(study_dir / name)
        new = tables[name]
        if old is None:
            result.added[name] = len(new)
            _csv(new, study_dir / name)
            continue
        if name == "vois.csv":
            new = new.assign(_key=new["scan_id"] + "/" + new["voi_id"])
            old = old.assign(_key=old.get("scan_id", "") + "/" + old.get("voi_id", ""))
            merged = _merge(name, old, new, ["_key"], result).drop(columns="_key")
        else:
            merged = _merge(name, old, new, keyed[name], result, skip=seen if name == "scans.csv" else None)
        _csv(merged, study_dir / name)
    ids = tables[IDENTIFIERS_FILE]
    old_ids = _read(study_dir / IDENTIFIERS_FILE)
    if old_ids is not None and not force:
        ids = pd.concat([old_ids[~old_ids["patient_id"].isin(ids["patient_id"])], ids], ignore_index=True)
    _csv(ids.sort_values("patient_id"), study_dir / IDENTIFIERS_FILE)
    _csv(tables[SERIES_FILE], study_dir / SERIES_FILE)
    return result
