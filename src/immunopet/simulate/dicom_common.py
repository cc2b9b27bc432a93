"""What every simulated DICOM object shares: deterministic UIDs, dates, patient and study modules,
and a fast writer that stamps one template dataset per slice."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian

from immunopet import __version__
from immunopet.simulate.slice_writer import SliceWriter


#: Namespace of the simulator's name-based UUIDs (a fixed, arbitrary UUID).
UID_NAMESPACE = uuid.UUID("5b0f3c1e-8d7a-4f51-9a39-1c2e5d0b7f64")


def make_uid(*parts: object) -> UID:
    """A UID ``2.25.<uuid as integer>`` derived only from ``parts`` (seed, patient, scan, object, index).

    Uses a name-based (SHA-1, version 5) UUID so the same parts always give the same UID;
    ``pydicom.uid.generate_uid(prefix=None, ...)`` would ignore its entropy sources and draw a random
    UUID.
    """
    return UID(f"2.25.{uuid.uuid5(UID_NAMESPACE, '|'.join(str(p) for p in parts)).int}")


def da(moment: dt.datetime) -> str:
    return moment.strftime("%Y%m%d")


def tm(moment: dt.datetime) -> str:
    return moment.strftime("%H%M%S")


@dataclass(frozen=True)
class ScanInfo:
    """Everything the headers of one scan need to know."""

    seed: int
    patient_id: str
    scan_id: str
    sex: str
    height_cm: float
    weight_kg: float
    injected_bq: float
    injection: dt.datetime
    start: dt.datetime
    day: float
    tracer: str

    def uid(self, *parts: object) -> str:
        return make_uid("immunopet-simulate", self.seed, self.patient_id, self.scan_id, *parts)

    @property
    def study_uid(self) -> str:
        return self.uid("study")

    @property
    def frame_of_reference_uid(self) -> str:
        return self.uid("frame-of-reference")


def base_dataset(info: ScanInfo, *, modality: str, sop_class_uid: str, series_uid: str, series_number: int,
                 description: str, series_time: dt.datetime) -> Dataset:
    """Patient, study, series, equipment and frame-of-reference attributes of a series."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class_uid
    ds.StudyDate, ds.StudyTime = da(info.start - dt.timedelta(minutes=10)), tm(info.start - dt.timedelta(minutes=10))
    ds.SeriesDate, ds.SeriesTime = da(series_time), tm(series_time)
    ds.AccessionNumber = ""
    ds.Modality = modality
    ds.Manufacturer = "immunopet"
    ds.InstitutionName = "immunopet simulation"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = f"89Zr immunoPET day {info.day:g}"
    ds.SeriesDescription = description
    ds.ManufacturerModelName = "immunopet simulate"
    ds.SoftwareVersions = __version__
    ds.DeviceSerialNumber = "SIM-0001"
    ds.PatientName = f"SIM^{info.patient_id}"
    ds.PatientID = info.patient_id
    ds.PatientBirthDate = ""
    ds.PatientSex = info.sex
    ds.PatientSize = f"{info.height_cm / 100.0:.3f}"
    ds.PatientWeight = f"{info.weight_kg:.1f}"
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "synthetic data (immunopet simulate)"
    ds.StudyInstanceUID = info.study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = info.scan_id[:16]
    ds.SeriesNumber = series_number
    ds.BodyPartExamined = "WHOLEBODY"
    ds.FrameOfReferenceUID = info.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    return ds


def add_image_plane(ds: Dataset, *, rows: int, columns: int, spacing: float) -> None:
    """Image plane and pixel module attributes shared by all slices (axial, LPS-aligned)."""
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [f"{spacing:g}", f"{spacing:g}"]
    ds.SliceThickness = f"{spacing:g}"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = rows
    ds.Columns = columns


def write_slices(folder: Path, template: Dataset, info: ScanInfo, *, kind: str, pixels: np.ndarray,
                 affine: np.ndarray, slopes: Sequence[str] | None = None) -> list[str]:
    """Write one file per slice: ``pixels`` is ``(I, J, K)``; returns the SOP Instance UIDs.

    Each slice gets its own SOP Instance UID, instance number, position and (optionally) rescale
    slope and PET image index; everything else comes from ``template``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    template.SOPInstanceUID = info.uid(kind, 0)
    template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
    varying = ["SOPInstanceUID", "InstanceNumber", "ImagePositionPatient", "PixelData"]
    varying += ["RescaleSlope"] if slopes is not None else []
    varying += ["ImageIndex"] if "ImageIndex" in template else []
    template.PixelData = b""
    writer = SliceWriter(template, varying)
    uids = []
    for k in range(pixels.shape[2]):
        position = affine[:3, :3] @ np.array([0.0, 0.0, k]) + affine[:3, 3]
        values = {"SOPInstanceUID": info.uid(kind, k), "InstanceNumber": k + 1, "ImageIndex": k + 1,
                  "ImagePositionPatient": [f"{v:.4f}" for v in position],
                  "RescaleSlope": slopes[k] if slopes is not None else "1",
                  "PixelData": np.ascontiguousarray(pixels[:, :, k].T).tobytes()}
        writer.write(folder / f"{k + 1:04d}.dcm", values)
        uids.append(values["SOPInstanceUID"])
    del template.PixelData
    return uids
