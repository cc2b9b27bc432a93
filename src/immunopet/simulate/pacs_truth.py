"""What a site adds by hand after ``immunopet init`` on a simulated raw export, taken from its truth.

``init`` writes the scan and patient tables from the DICOM headers; the reader's VOIs, the clinical
table and the lesion measurements do not live in the images. For a simulated export they are in
``truth/study/`` (keyed by the simulator's scan and patient ids); :func:`annotate_from_truth` maps them
onto the ids init gave, through each scan's PET SeriesInstanceUID, as a trial team would fill in the
tables. The demo uses it between ``init`` and ``run``. The label masks are copied to
``STUDY_DIR/masks/<scan_id>_labels.nii.gz`` under init's scan ids; when the study is the simulation's own
folder (the demo), the truth tables are re-keyed to init's ids too (:func:`rekey_truth`), so truth and
results line up by ``scan_id`` and ``patient_id``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import yaml

from immunopet.errors import ImmunoPETError

#: patients.csv columns that init fills from the headers and keeps.
HEADER_COLUMNS = ("patient_id", "sex", "height_cm")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _write(frame: pd.DataFrame, path: Path) -> None:
    from immunopet.atomic import atomic_write

    atomic_write(path, lambda partial: frame.to_csv(partial, index=False, lineterminator="\n"))


def annotate_from_truth(study_dir: str | os.PathLike[str], sim_dir: str | os.PathLike[str], *,
                        vois_layout: str = "per-day") -> dict[str, int]:
    """Write vois.csv (masks copied to ``masks/``), lesions.csv, the clinical columns of patients.csv
    and study.yaml's settings.

    ``vois_layout``: ``per-day`` (every VOI on every scan, the truth's label maps) or ``drawn-once``
    (the segmenter folder of one CT per patient copied to ``segmentations/<scan_id>/``, its rule organs
    and the lesions as seeds on that scan, :mod:`immunopet.simulate.drawn_once`).

    Returns the number of rows written per table. Raises :class:`ImmunoPETError` when the study's
    scans cannot be matched to the simulation (a different export).
    """
    from immunopet.simulate.drawn_once import check_voi_layout

    check_voi_layout(vois_layout)
    study, sim = Path(study_dir), Path(sim_dir)
    truth = sim / "truth" / "study"
    scans = _read(study / "scans.csv")
    true_scans = _read(sim / "truth" / "scans.csv")
    matched = scans.merge(true_scans, on="pet_series_uid", suffixes=("", "_truth"))
    if matched.empty:
        raise ImmunoPETError("no scan of the study is a scan of this simulation", file=study / "scans.csv",
                             fix="give the folder the simulated export was written to")
    scan_of = dict(zip(matched["scan_id_truth"], matched["scan_id"]))
    patient_of = dict(zip(matched["patient_id_truth"], matched["patient_id"]))
    vois = _read(truth / "vois.csv")
    vois = vois[vois["scan_id"].isin(scan_of)].assign(scan_id=lambda v: v["scan_id"].map(scan_of))
    copied: dict[str, str] = {}
    for path, scan_id in zip(vois["path"], vois["scan_id"]):
        if path and path not in copied:
            copied[path] = f"masks/{scan_id}_{Path(path).name.split('_', 2)[-1]}"
            (study / "masks").mkdir(exist_ok=True)
            shutil.copy2(truth / path, study / copied[path])
    vois["path"] = [copied.get(p, "") for p in vois["path"]]
    lesions = _read(truth / "lesions.csv")
    lesions = lesions[lesions["patient_id"].isin(patient_of)].assign(
        patient_id=lambda v: v["patient_id"].map(patient_of))
    clinical = _read(truth / "patients.csv")
    clinical = clinical[clinical["patient_id"].isin(patient_of)].assign(
        patient_id=lambda v: v["patient_id"].map(patient_of))
    patients = _read(study / "patients.csv")
    keep = patients[[c for c in HEADER_COLUMNS if c in patients.columns]]
    merged = keep.merge(clinical.drop(columns=[c for c in HEADER_COLUMNS[1:] if c in clinical.columns]),
                        on="patient_id", how="left").fillna("")
    columns = list(patients.columns) + [c for c in merged.columns if c not in patients.columns]
    if vois_layout == "drawn-once":  # before any table is written: a refusal leaves them as they were
        vois = _drawn_once(study, sim, scans, vois, lesions, scan_of)
    _write(merged[columns], study / "patients.csv")
    _write(vois, study / "vois.csv")
    _write(lesions, study / "lesions.csv")
    config = yaml.safe_load((study / "study.yaml").read_text(encoding="utf-8"))
    true_config = yaml.safe_load((truth / "study.yaml").read_text(encoding="utf-8"))
    config.update({k: v for k, v in true_config.items() if k not in ("tables",)})
    (study / "study.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    if study.resolve() == sim.resolve():
        rekey_truth(sim / "truth", scan_of, patient_of)
    return {"vois.csv": len(vois), "lesions.csv": len(lesions), "patients.csv": len(merged)}


def _drawn_once(study: Path, sim: Path, scans: pd.DataFrame, vois: pd.DataFrame, lesions: pd.DataFrame,
                scan_of: dict[str, str]) -> pd.DataFrame:
    """The drawn-once table under the study's ids (``scans``: the study's scans.csv); the segmenter
    folders copied to ``segmentations/``."""
    from immunopet.simulate.drawn_once import drawn_once_vois

    patient_of_scan = dict(zip(scans["scan_id"], scans["patient_id"]))
    segmented = {}
    folders = sim / "truth" / "study" / "segmentations"
    for folder in sorted(folders.iterdir()) if folders.is_dir() else []:
        scan_id = scan_of.get(folder.name)
        if scan_id is None:
            continue
        target = study / "segmentations" / scan_id
        if not target.exists():
            shutil.copytree(folder, target)
        segmented[patient_of_scan[scan_id]] = scan_id
    if not segmented:
        raise ImmunoPETError("the simulation holds no segmenter folder: VOIs cannot be drawn once",
                             file=folders, fix="simulate the export again with this version")
    positions = _read(sim / "truth" / "lesion_positions.csv")
    positions = positions[positions["scan_id"].isin(scan_of)].assign(scan_id=lambda v: v["scan_id"].map(scan_of))
    table = drawn_once_vois(vois, scans, positions, lesions.assign(
        baseline_diameter_mm=lambda v: v["baseline_diameter_mm"].astype(float)), segmented)
    return table.astype(object).where(table.notna(), "")


#: Truth tables and their id columns re-keyed by :func:`rekey_truth`.
ID_COLUMNS = {"scan_id": "scan", "patient_id": "patient", "returning_patient": "patient", "same_person_as": "patient"}


def rekey_truth(truth: Path, scan_of: dict[str, str], patient_of: dict[str, str]) -> None:
    """Rewrite the scan and patient ids of every truth table, and the scan ids of the partial-volume
    fraction maps' names (``truth/fractions/<scan_id>_lesion_*.nii.gz``), to the study's (ids not in the
    maps stay)."""
    fractions = truth / "fractions"
    if fractions.is_dir():  # through temporary names: a new id may be another scan's old one
        moves = []
        for path in sorted(fractions.glob("*_lesion_*.nii.gz")):
            scan_id, rest = path.name.split("_lesion_", 1)
            if scan_of.get(scan_id, scan_id) != scan_id:
                moves.append((path.with_name(f".rekey-{path.name}"), fractions / f"{scan_of[scan_id]}_lesion_{rest}"))
                path.rename(moves[-1][0])
        for staged, final in moves:
            staged.rename(final)
    maps = {"scan": scan_of, "patient": patient_of}
    for path in sorted(truth.glob("*.csv")):
        frame = _read(path)
        changed = False
        for column, kind in ID_COLUMNS.items():
            if column in frame.columns:
                frame[column] = [maps[kind].get(v, v) for v in frame[column]]
                changed = True
        if changed:
            _write(frame, path)
