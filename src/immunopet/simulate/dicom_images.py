"""PET (Bq/mL, decay corrected to the scan start) and CT (HU) series as a scanner writes them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import CTImageStorage, PositronEmissionTomographyImageStorage

from immunopet.nuclides import Nuclide
from immunopet.simulate.dicom_common import ScanInfo, add_image_plane, base_dataset, da, tm, write_slices

INT16_MAX = 32767


def _code(code: Code) -> Dataset:
    """A code sequence item (CodeValue, CodingSchemeDesignator, CodeMeaning)."""
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = code.value, code.scheme_designator, code.meaning
    return item


def pet_slopes(image: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """int16 pixels and per-slice RescaleSlope strings so that ``pixel * slope`` ~= ``image``."""
    peak = image.reshape(-1, image.shape[2]).max(axis=0)
    slopes = [f"{(p / INT16_MAX if p > 0 else 1.0):.9g}" for p in peak]
    values = np.array([float(s) for s in slopes])
    pixels = np.clip(np.rint(image / values[None, None, :]), 0, INT16_MAX).astype(np.int16)
    return pixels, slopes


def write_pet(folder: Path, image: np.ndarray, affine: np.ndarray, info: ScanInfo, *, nuclide: Nuclide,
              frame_s: float, retest: bool = False) -> Dataset:
    """Write the PET series; returns its header template (without pixel data), e.g. for a SEG.

    ``retest``: a second reconstruction of the same acquisition with independent noise (as from split
    list-mode data): same study and frame of reference, its own series and instance UIDs.
    """
    kind = "pet-retest" if retest else "pet"
    ds = base_dataset(info, modality="PT", sop_class_uid=PositronEmissionTomographyImageStorage,
                      series_uid=info.uid(f"{kind}-series"), series_number=4 if retest else 3,
                      description=f"PET WB 89Zr day {info.day:g} (Bq/mL){' retest' if retest else ''}",
                      series_time=info.start)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.AcquisitionDate, ds.AcquisitionTime = da(info.start), tm(info.start)
    ds.ContentDate, ds.ContentTime = da(info.start), tm(info.start + dt.timedelta(minutes=40))
    ds.SeriesType = ["WHOLE BODY", "IMAGE"]
    ds.Units = "BQML"
    ds.CountsSource = "EMISSION"
    ds.NumberOfSlices = image.shape[2]
    ds.CorrectedImage = ["DECY", "ATTN", "SCAT", "DTIM", "RAN", "NORM"]
    ds.RandomsCorrectionMethod = "DLYD"
    ds.AttenuationCorrectionMethod = "CT-based"
    ds.ScatterCorrectionMethod = "model-based"
    ds.DecayCorrection = "START"
    ds.ReconstructionMethod = "OSEM 3i21s (simulated: Gaussian PSF + noise)"
    ds.CollimatorType = "NONE"
    lam = nuclide.decay_constant_per_s
    decay_in_frame = lam * frame_s / (1.0 - np.exp(-lam * frame_s))
    ds.DecayFactor = f"{decay_in_frame:.6f}"
    ds.FrameReferenceTime = f"{1000.0 * np.log(decay_in_frame) / lam:.1f}"
    ds.ActualFrameDuration = int(round(frame_s * 1000))
    ds.DeadTimeFactor = "1.0"
    ds.ScatterFractionFactor = "0.35"
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.ImageIndex = 1
    drug = Dataset()
    drug.Radiopharmaceutical = info.tracer
    drug.RadiopharmaceuticalRoute = "Intravenous"
    drug.RadiopharmaceuticalStartTime = tm(info.injection)
    drug.RadiopharmaceuticalStartDateTime = info.injection.strftime("%Y%m%d%H%M%S")
    drug.RadionuclideTotalDose = f"{info.injected_bq:.0f}"
    drug.RadionuclideHalfLife = f"{nuclide.half_life_s:g}"
    drug.RadionuclidePositronFraction = f"{nuclide.positron_fraction:g}"
    drug.RadionuclideCodeSequence = Sequence([_code(codes.SCT._89Zirconium)])
    ds.RadiopharmaceuticalInformationSequence = Sequence([drug])
    orientation = _code(codes.SCT.Recumbent)
    orientation.PatientOrientationModifierCodeSequence = Sequence([_code(codes.SCT.Supine)])
    ds.PatientOrientationCodeSequence = Sequence([orientation])
    ds.PatientGantryRelationshipCodeSequence = Sequence([_code(codes.SCT.Headfirst)])
    add_image_plane(ds, rows=image.shape[1], columns=image.shape[0], spacing=float(np.linalg.norm(affine[:3, 0])))
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    pixels, slopes = pet_slopes(image)
    write_slices(folder, ds, info, kind=kind, pixels=pixels, affine=affine, slopes=slopes)
    return ds


def write_ct(folder: Path, hu: np.ndarray, affine: np.ndarray, info: ScanInfo) -> Dataset:
    """Write the CT series (on the PET grid; stored value = HU + 1024)."""
    start = info.start - dt.timedelta(minutes=3)
    ds = base_dataset(info, modality="CT", sop_class_uid=CTImageStorage, series_uid=info.uid("ct-series"),
                      series_number=2, description="CT low dose (attenuation correction)", series_time=start)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.PatientPosition = "HFS"  # PET states it in its orientation code sequences instead
    ds.AcquisitionDate, ds.AcquisitionTime = da(start), tm(start)
    ds.ContentDate, ds.ContentTime = da(start), tm(start)
    ds.AcquisitionNumber = 1
    ds.KVP = "120"
    ds.ConvolutionKernel = "B30f"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    add_image_plane(ds, rows=hu.shape[1], columns=hu.shape[0], spacing=float(np.linalg.norm(affine[:3, 0])))
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    stored = np.clip(np.rint(hu) + 1024, 0, 4095).astype(np.uint16)
    write_slices(folder, ds, info, kind="ct", pixels=stored, affine=affine)
    return ds
