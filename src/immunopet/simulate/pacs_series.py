"""Writing one patient's scans into the raw export: the PET and CT moved or rewritten, and their decoys.

:func:`export_patient` is one task of :func:`immunopet.simulate.pacs_export.simulate_pacs_export` (patients
run side by side in a process pool); it writes only below the patient's own folders, so patients do not
interact. What each scan gets (identity change, unscheduled visit, decoys) is decided by the caller.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import SecondaryCaptureImageStorage

from immunopet.simulate.dicom_common import make_uid
from immunopet.simulate.dicom_images import pet_slopes
from immunopet.simulate.slice_writer import SliceWriter

RDSR_CLASS = "1.2.840.10008.5.1.4.1.1.88.67"
DATE_TIME_PREFIXES = ("Study", "Series", "Acquisition", "Content")

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


class Placer:
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


def _move_series(src: Path, placer: Placer) -> tuple[str, str]:
    files = sorted(f for f in src.iterdir() if f.is_file())
    head = pydicom.dcmread(files[0], stop_before_pixels=True, specific_tags=["StudyInstanceUID", "SeriesInstanceUID"])
    study_uid, series_uid = str(head.StudyInstanceUID), str(head.SeriesInstanceUID)
    folder = placer.folder(study_uid, series_uid)
    folder.mkdir(parents=True, exist_ok=True)
    for file, name in zip(files, placer.names(series_uid, len(files))):
        os.replace(file, folder / name)
    return study_uid, series_uid


def export_scan(staging: Path, scan: Any, placer: Placer, *, changes: Mapping[str, Any],
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


def export_patient(staging: Path, scans: Sequence[Mapping[str, Any]], placer: Placer, seed: int) -> list[dict[str, str]]:
    """Write one patient's scans (in order) into the export; returns kind -> series UID per scan.

    Each of ``scans`` holds the staging row (``scan``) and :func:`export_scan`'s ``changes``,
    ``extra``, ``wanted`` and ``decay``.
    """
    return [export_scan(staging, SimpleNamespace(**job["scan"]), placer, changes=job["changes"], extra=job["extra"],
                        wanted=job["wanted"], seed=seed, decay=job["decay"]) for job in scans]
