"""``simulate --layout pacs``: the simulated trial as a raw PACS / CD export, with its decoys.

The trial is simulated as usual in a staging folder, then turned into what a site exports: only DICOM
below ``OUT/dicom-export/``, each patient either in folders by StudyInstanceUID and SeriesInstanceUID or flat
in one folder (as on a CD), always with opaque file names; next to the quantifiable PET and CT of each
scan, the series a user must not quantify:

- a second reconstruction (post-filtered, higher SeriesNumber) of some PET scans;
- a non-attenuation-corrected (NAC) PET of some scans;
- a coronal MIP (DERIVED/SECONDARY) of some scans;
- a CT scout (LOCALIZER) and a CT dose report (secondary capture) with every scan, and an X-ray radiation
  dose SR with some;
- one patient who comes back for a second injection (a second cohort patient given the first one's
  PatientID and name), and off-schedule scans (an unscheduled visit between two scheduled days: a
  scan's images again, as a new study, the PET activity decayed by the time in between);
- the lesion SEG of the outcome-day scan, as a reading workstation stores it.

``OUT/truth/`` holds the simulator's truth, ``truth/scans.csv`` (scan_id, patient_id, day, hours_pi,
pet_series_uid, ct_series_uid: what init must find), ``truth/decoys.csv`` (every other series, with the
reason it must be left out) and ``truth/study/`` (the study tables and label masks of the staging study:
the reader's VOIs and the clinical data a site would add by hand).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import SecondaryCaptureImageStorage

from immunopet.errors import ImmunoPETError
from immunopet.nuclides import get_nuclide
from immunopet.simulate.dicom_common import make_uid
from immunopet.simulate.dicom_images import pet_slopes
from immunopet.simulate.slice_writer import SliceWriter

RDSR_CLASS = "1.2.840.10008.5.1.4.1.1.88.67"
#: The raw export's folder in OUT: not ``export``, which is where ``immunopet export`` writes its SEG
#: and SR objects in a study folder (the demo's study folder is also the simulator's OUT).
EXPORT_FOLDER = "dicom-export"
DATE_TIME_PREFIXES = ("Study", "Series", "Acquisition", "Content")
#: Share of scans given each decoy (at least one scan each).
DECOY_SHARES = {"second_recon": 0.15, "nac": 0.1, "mip": 0.1, "rdsr": 0.25}


def _opaque(*parts: object) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:16].upper()


def _read_series(folder: Path) -> list[Dataset]:
    slices = [pydicom.dcmread(f) for f in folder.iterdir() if f.is_file()]
    return sorted(slices, key=lambda d: int(d.InstanceNumber))


def _shift(ds: Dataset, delta: dt.timedelta) -> None:
    for prefix in DATE_TIME_PREFIXES:
        day, clock = ds.get(f"{prefix}Date"), ds.get(f"{prefix}Time")
        if day and clock:
            moment = dt.datetime.strptime(f"{day}{str(clock)[:6]}", "%Y%m%d%H%M%S") + delta
            setattr(ds, f"{prefix}Date", moment.strftime("%Y%m%d"))
            setattr(ds, f"{prefix}Time", moment.strftime("%H%M%S"))


def rewrite_series(slices: list[Dataset], folder: Path, names: Sequence[str], *, changes: Mapping[str, Any],
                   seed: int, series_uid: str | None = None, image: Callable[[np.ndarray], np.ndarray] | None = None,
                   slope_factor: float = 1.0, shift: dt.timedelta | None = None) -> str:
    """Write ``slices`` again as a series in ``folder`` (file ``names``), changed as asked.

    ``changes``: attributes set in every slice; ``series_uid``: a new series (new SOP Instance UIDs);
    ``image``: a function of the ``(rows, columns, slices)`` stored values x slope giving new values
    (re-scaled per slice); ``slope_factor`` multiplies every RescaleSlope; ``shift`` moves every date
    and time. Returns the series UID.
    """
    template = copy.deepcopy(slices[0])
    for keyword, value in changes.items():
        if value is None:
            template.pop(keyword, None)
        else:
            setattr(template, keyword, value)
    if shift is not None:
        _shift(template, shift)
    uid = series_uid or str(template.SeriesInstanceUID)
    template.SeriesInstanceUID = uid
    slopes = [float(d.get("RescaleSlope", 1.0)) * slope_factor for d in slices]
    pixels = [d.PixelData for d in slices]
    if image is not None:
        volume = np.stack([d.pixel_array * float(d.get("RescaleSlope", 1.0)) for d in slices], axis=2)
        stored, texts = pet_slopes(np.transpose(image(volume), (1, 0, 2)))
        pixels = [np.ascontiguousarray(stored[:, :, k].T).tobytes() for k in range(stored.shape[2])]
        slopes = [float(t) for t in texts]
    varying = ["SOPInstanceUID", "InstanceNumber", "ImagePositionPatient", "PixelData", "RescaleSlope"]
    varying += ["ImageIndex"] if "ImageIndex" in template else []
    writer = SliceWriter(template, varying)
    folder.mkdir(parents=True, exist_ok=True)
    for k, (ds, name) in enumerate(zip(slices, names)):
        sop = ds.SOPInstanceUID if series_uid is None else make_uid("immunopet-pacs", seed, uid, k)
        writer.write(folder / name, {"SOPInstanceUID": sop, "InstanceNumber": k + 1, "ImageIndex": k + 1,
                                     "ImagePositionPatient": ds.ImagePositionPatient, "PixelData": pixels[k],
                                     "RescaleSlope": f"{slopes[k]:.9g}"})
    return uid


def _smooth(volume: np.ndarray) -> np.ndarray:
    from scipy import ndimage

    return ndimage.gaussian_filter(volume, 1.2)


def _nac(volume: np.ndarray) -> np.ndarray:
    """A NAC-looking image: no attenuation correction darkens the body centre (radial profile)."""
    from scipy import ndimage

    rows, cols = volume.shape[:2]
    y, x = np.mgrid[0:rows, 0:cols]
    r = np.hypot((y - rows / 2) / (rows / 2), (x - cols / 2) / (cols / 2))
    return ndimage.gaussian_filter(volume, 0.8) * (0.15 + 0.25 * np.clip(r, 0, 1))[:, :, None]


def _single(template: Dataset, folder: Path, name: str, *, seed: int, kind: str, changes: Mapping[str, Any],
            pixels: np.ndarray) -> str:
    """A one-image series (scout, MIP, dose report) derived from ``template``."""
    ds = copy.deepcopy(template)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    ds.SeriesInstanceUID = make_uid("immunopet-pacs", seed, template.SeriesInstanceUID, kind)
    ds.SOPInstanceUID = make_uid("immunopet-pacs", seed, ds.SeriesInstanceUID, 0)
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.InstanceNumber = 1
    ds.Rows, ds.Columns = pixels.shape
    ds.RescaleSlope = "1"
    ds.PixelData = np.ascontiguousarray(pixels).astype(np.uint16 if ds.PixelRepresentation == 0 else np.int16).tobytes()
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / name, enforce_file_format=True)
    return str(ds.SeriesInstanceUID)


def _rdsr(template: Dataset, folder: Path, name: str, *, seed: int) -> str:
    """A minimal X-ray radiation dose SR (header and title only) of the CT."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.sequence import Sequence as Seq
    from pydicom.uid import ExplicitVRLittleEndian

    ds = Dataset()
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "StudyDate",
                    "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName", "Manufacturer",
                    "SeriesDate", "SeriesTime"):
        if keyword in template:
            setattr(ds, keyword, template.get(keyword))
    ds.SOPClassUID, ds.Modality = RDSR_CLASS, "SR"
    ds.SeriesInstanceUID = make_uid("immunopet-pacs", seed, template.SeriesInstanceUID, "rdsr")
    ds.SOPInstanceUID = make_uid("immunopet-pacs", seed, ds.SeriesInstanceUID, 0)
    ds.SeriesNumber, ds.InstanceNumber, ds.SeriesDescription = 998, 1, "Radiation Dose Report"
    ds.ValueType, ds.CompletionFlag, ds.VerificationFlag = "CONTAINER", "COMPLETE", "UNVERIFIED"
    title = Dataset()
    title.CodeValue, title.CodingSchemeDesignator, title.CodeMeaning = "113701", "DCM", "X-Ray Radiation Dose Report"
    ds.ConceptNameCodeSequence = Seq([title])
    ds.ContinuityOfContent = "SEPARATE"
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / name, enforce_file_format=True)
    return str(ds.SeriesInstanceUID)


class _Placer:
    """Where each file of one patient goes: folders by study and series UID, or one flat CD folder."""

    def __init__(self, export: Path, *, flat: bool, index: int, seed: int) -> None:
        self.export, self.flat, self.seed, self.count = export, flat, seed, 0
        self.flat_folder = export / f"CD{index + 1:02d}" / "DICOM"

    def folder(self, study_uid: str, series_uid: str) -> Path:
        return self.flat_folder if self.flat else self.export / study_uid / series_uid

    def names(self, series_uid: str, n: int) -> list[str]:
        if self.flat:
            start, self.count = self.count, self.count + n
            return [f"I{start + k:07d}" for k in range(n)]
        return [_opaque(self.seed, series_uid, k) for k in range(n)]


def _move_series(src: Path, placer: _Placer) -> tuple[str, str]:
    files = sorted(f for f in src.iterdir() if f.is_file())
    head = pydicom.dcmread(files[0], stop_before_pixels=True, specific_tags=["StudyInstanceUID", "SeriesInstanceUID"])
    study_uid, series_uid = str(head.StudyInstanceUID), str(head.SeriesInstanceUID)
    folder = placer.folder(study_uid, series_uid)
    folder.mkdir(parents=True, exist_ok=True)
    for file, name in zip(files, placer.names(series_uid, len(files))):
        os.replace(file, folder / name)
    return study_uid, series_uid


def _pick(rng: np.random.Generator, n: int, share: float) -> set[int]:
    chosen = set(np.flatnonzero(rng.random(n) < share).tolist())
    return chosen or {int(rng.integers(n))}


def _second_patient(subjects: pd.DataFrame, last_day: float) -> tuple[str, str] | None:
    """(first, returning) patients: the returning one is injected >= a week after the first's last scan."""
    times = pd.to_datetime(subjects["injection_datetime"])
    first = int(times.argmin())
    gap = (times - times.iloc[first]).dt.total_seconds() / 86400.0
    later = subjects[(gap >= last_day + 7.0)]
    same_sex = later[later["sex"] == subjects["sex"].iloc[first]]
    pool = same_sex if not same_sex.empty else later
    if pool.empty:
        return None
    return str(subjects["patient_id"].iloc[first]), str(pool["patient_id"].iloc[-1])


def _off_schedule(scans: pd.DataFrame, days: list[float], rng: np.random.Generator, exclude: set[str], *,
                  returning: str | None = None) -> dict[str, float]:
    """scan_id -> days after it of an unscheduled visit (the middle of the gap to the next day, or 2 d).

    Patients in ``exclude`` (the returning pair) are left alone unless nobody else is left; then a
    scan of the pair's first injection is moved, never one of the ``returning`` patient."""
    late = scans["day"] >= 1.0
    pool = scans[late & ~scans["patient_id"].isin(exclude)]
    if pool.empty:  # every patient is part of the returning pair: move a scan of its first injection
        pool = scans[late & (scans["patient_id"] != returning)]
    if pool.empty:
        return {}
    count = 1 if scans["patient_id"].nunique() <= 6 else 2
    picked = pool.iloc[rng.choice(len(pool), size=min(count, len(pool)), replace=False)]
    moves = {}
    for row in picked.itertuples():
        later = [d for d in days if d > row.day]
        moves[row.scan_id] = (later[0] - row.day) / 2.0 if later else 2.0
    return moves


def simulate_pacs_export(out_dir: str | os.PathLike[str], *, patients: int = 22, seed: int = 0,
                         days: Sequence[float] = (0.04, 2, 4, 7), quick: bool = False,
                         params: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                         workers: int | None = None) -> Path:
    """Simulate the trial and write it as a raw export ``OUT/dicom-export/`` plus ``OUT/truth/`` (module docstring)."""
    from immunopet.simulate.study import simulate_study

    out = Path(out_dir)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ImmunoPETError("the output folder exists and is not empty", file=out,
                             fix="give a new or empty folder; the simulator never overwrites")
    staging = out / ".staging"
    simulate_study(staging, patients=patients, seed=seed, days=days, quick=quick, params=params, workers=workers)
    truth = out / "truth"
    shutil.move(staging / "truth", truth)
    scans = pd.read_csv(staging / "scans.csv").merge(
        pd.read_csv(truth / "scan_times.csv")[["scan_id", "hours_pi"]], on="scan_id")
    subjects = pd.read_csv(truth / "subjects.csv")
    nuclide = get_nuclide(_nuclide_name(truth))
    day_list = sorted({float(d) for d in scans["day"]})
    rng = np.random.default_rng([int(seed), 1213])
    pair = _second_patient(subjects, max(day_list))
    moves = _off_schedule(scans, day_list, rng, set(pair or ()), returning=pair[1] if pair else None)
    decoys = {kind: _pick(rng, len(scans), share) for kind, share in DECOY_SHARES.items()}
    identity = {}
    if pair:
        first = pydicom.dcmread(next((staging / scans.loc[scans.patient_id == pair[0], "pet"].iloc[0]).iterdir()),
                                stop_before_pixels=True)
        identity = {"PatientID": first.PatientID, "PatientName": first.PatientName}
    order = list(dict.fromkeys(scans["patient_id"]))
    placers = {pid: _Placer(out / EXPORT_FOLDER, flat=(k % 3 == 1), index=k, seed=seed) for k, pid in enumerate(order)}
    found, left = [], []
    for number, scan in enumerate(scans.itertuples(index=False)):
        changes = identity if pair and scan.patient_id == pair[1] else {}
        extra = dt.timedelta(days=moves[scan.scan_id]) if scan.scan_id in moves else None
        wanted = {kind for kind, picked in decoys.items() if number in picked}
        rows = _export_scan(staging, scan, placers[scan.patient_id], changes=changes, extra=extra, wanted=wanted,
                            seed=seed, decay=nuclide.decay_factor(extra.total_seconds()) if extra else 1.0)
        found.append({"scan_id": scan.scan_id, "patient_id": scan.patient_id, "day": scan.day,
                          "hours_pi": scan.hours_pi, "pet_series_uid": rows.pop("pet"), "ct_series_uid": rows.pop("ct")})
        left += [{"series_uid": uid, "patient_id": scan.patient_id, "scan_id": scan.scan_id, "kind": kind}
                 for kind, uid in rows.items()]
    pd.DataFrame(found).to_csv(truth / "scans.csv", index=False, lineterminator="\n")
    pd.DataFrame(left, columns=["series_uid", "patient_id", "scan_id", "kind"]).to_csv(
        truth / "decoys.csv", index=False, lineterminator="\n")
    annotations = truth / "study"
    annotations.mkdir()
    for name in ("study.yaml", "patients.csv", "vois.csv", "lesions.csv", "masks"):
        if (staging / name).exists():
            shutil.move(staging / name, annotations / name)
    pd.DataFrame([{"returning_patient": pair[1], "same_person_as": pair[0]}] if pair else [],
                 columns=["returning_patient", "same_person_as"]).to_csv(truth / "injections.csv", index=False)
    shutil.rmtree(staging)
    return out


def _nuclide_name(truth: Path) -> str:
    import yaml

    return str(yaml.safe_load((truth / "params.yaml").read_text(encoding="utf-8"))["params"]["study"]["nuclide"])


def _export_scan(staging: Path, scan: Any, placer: _Placer, *, changes: Mapping[str, Any],
                 extra: dt.timedelta | None, wanted: set[str], seed: int, decay: float) -> dict[str, str]:
    """Write one scan's series into the export; returns kind -> series UID (``pet``, ``ct`` and decoys).

    ``extra``: also write an unscheduled visit this long after the scan (new study, same images, PET
    activity decayed by ``decay``), whose PET is off schedule.
    """
    out: dict[str, str] = {}
    pet_dir, ct_dir = staging / scan.pet, staging / scan.ct
    pet = _read_series(pet_dir) if (changes or extra or wanted & {"second_recon", "nac", "mip"}) else None
    ct_first = pydicom.dcmread(sorted(ct_dir.iterdir())[0])
    if extra is not None:
        visit = make_uid("immunopet-pacs", seed, scan.scan_id, "unscheduled visit")
        moved = {**changes, "StudyInstanceUID": make_uid(visit, "study"), "FrameOfReferenceUID": make_uid(visit, "for")}
        for kind, slices in (("off_schedule_pet", pet), ("off_schedule_ct", _read_series(ct_dir))):
            uid = make_uid("immunopet-pacs", seed, slices[0].SeriesInstanceUID, kind)
            out[kind] = rewrite_series(slices, placer.folder(moved["StudyInstanceUID"], uid),
                                       placer.names(uid, len(slices)), changes=moved, seed=seed, series_uid=uid,
                                       shift=extra, slope_factor=decay if kind.endswith("pet") else 1.0)
    if changes:
        pet_uid = str(pet[0].SeriesInstanceUID)
        folder = placer.folder(str(pet[0].StudyInstanceUID), pet_uid)
        out["pet"] = rewrite_series(pet, folder, placer.names(pet_uid, len(pet)), changes=changes, seed=seed)
        ct = _read_series(ct_dir)
        ct_uid = str(ct[0].SeriesInstanceUID)
        out["ct"] = rewrite_series(ct, placer.folder(str(ct[0].StudyInstanceUID), ct_uid),
                                   placer.names(ct_uid, len(ct)), changes=changes, seed=seed)
    else:
        out["pet"] = _move_series(pet_dir, placer)[1]
        out["ct"] = _move_series(ct_dir, placer)[1]
    study_uid = str(ct_first.StudyInstanceUID)
    stamp = dict(changes)
    for keyword, value in stamp.items():
        setattr(ct_first, keyword, value)

    def decoy(kind: str, description: str, number: int, slices: list[Dataset], image, extra=None) -> None:
        uid = make_uid("immunopet-pacs", seed, slices[0].SeriesInstanceUID, kind)
        out[kind] = rewrite_series(slices, placer.folder(study_uid, uid), placer.names(uid, len(slices)),
                                   changes={**stamp, "SeriesDescription": description, "SeriesNumber": number,
                                            **(extra or {})}, seed=seed, series_uid=uid, image=image)

    if "second_recon" in wanted:
        decoy("second_recon", f"{pet[0].SeriesDescription} PSF 4mm", 4, pet, _smooth,
              {"ReconstructionMethod": "OSEM-PSF 3i21s, 4 mm Gaussian post-filter"})
    if "nac" in wanted:
        decoy("nac", "PET WB NAC", 5, pet, _nac,
              {"CorrectedImage": ["DECY", "DTIM", "RAN", "NORM"], "AttenuationCorrectionMethod": None,
               "ScatterCorrectionMethod": None})
    if "mip" in wanted:
        volume = np.stack([d.pixel_array for d in pet], axis=2).max(axis=0)  # (columns, slices)
        uid_of = make_uid("immunopet-pacs", seed, pet[0].SeriesInstanceUID, "mip")
        out["mip"] = _single(pet[0], placer.folder(study_uid, uid_of), placer.names(uid_of, 1)[0], seed=seed,
                             kind="mip", pixels=volume.T[::-1].copy(),
                             changes={**stamp, "ImageType": ["DERIVED", "SECONDARY", "MIP"], "SeriesNumber": 6,
                                      "SeriesDescription": "PET MIP coronal"})
    scout_uid = make_uid("immunopet-pacs", seed, ct_first.SeriesInstanceUID, "scout")
    out["scout"] = _single(ct_first, placer.folder(study_uid, scout_uid), placer.names(scout_uid, 1)[0], seed=seed,
                           kind="scout", pixels=ct_first.pixel_array,
                           changes={"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"], "SeriesNumber": 1,
                                    "SeriesDescription": "Topogram 0.6 T20f"})
    dose_uid = make_uid("immunopet-pacs", seed, ct_first.SeriesInstanceUID, "dose_report")
    out["dose_report"] = _single(ct_first, placer.folder(study_uid, dose_uid), placer.names(dose_uid, 1)[0], seed=seed,
                                 kind="dose_report", pixels=np.zeros((64, 64), np.uint16),
                                 changes={"SOPClassUID": SecondaryCaptureImageStorage, "SeriesNumber": 999,
                                          "ImageType": ["DERIVED", "SECONDARY", "OTHER"],
                                          "SeriesDescription": "Dose Report"})
    if "rdsr" in wanted:
        uid_of = make_uid("immunopet-pacs", seed, ct_first.SeriesInstanceUID, "rdsr")
        out["rdsr"] = _rdsr(ct_first, placer.folder(study_uid, uid_of), placer.names(uid_of, 1)[0], seed=seed)
    seg = staging / "masks" / f"{scan.scan_id}_lesions_seg.dcm"
    if seg.is_file():
        ds = pydicom.dcmread(seg)
        for keyword, value in stamp.items():
            setattr(ds, keyword, value)
        folder = placer.folder(str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID))
        folder.mkdir(parents=True, exist_ok=True)
        ds.save_as(folder / placer.names(str(ds.SeriesInstanceUID), 1)[0])
        seg.unlink()
    return out
