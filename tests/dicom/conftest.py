"""Fixtures for the dicom tests: real scanner files and headers crafted from them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence


@pytest.fixture(scope="session")
def ge_pet(shared_data: Path) -> Path:
    """GE Discovery ST FDG PET, 267 slices with one RescaleSlope per slice."""
    return shared_data / "tcia-sts-001-ge-fdg" / "pet"


@pytest.fixture(scope="session")
def ge_image(ge_pet: Path):
    """The GE series loaded once per session (tests must not modify it)."""
    from immunopet.dicom import load_image_series

    return load_image_series(ge_pet)


@pytest.fixture(scope="session")
def ge_independent(ge_pet: Path):
    """The GE series recomputed with pydicom alone: pixel_array x each slice's slope + intercept,
    sorted by z (axial slices), with the sorted datasets."""
    import numpy as np

    datasets = sorted((pydicom.dcmread(p) for p in ge_pet.iterdir()), key=lambda d: float(d.ImagePositionPatient[2]))
    array = np.stack(
        [d.pixel_array.T.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in datasets], axis=-1)
    return array, datasets


@pytest.fixture(scope="session")
def siemens_wb(shared_data: Path) -> Path:
    return shared_data / "acrin-flt-siemens" / "1.dcm"


@pytest.fixture
def craft(tmp_path: Path, siemens_wb: Path) -> Callable[..., Path]:
    """Copy a real single PET slice (Siemens, BQML, START) and edit its header.

    ``craft(name, PatientWeight=70000, **{"rp.RadionuclideTotalDose": 370})``: keys prefixed ``rp.``
    edit the RadiopharmaceuticalInformationSequence item; ``None`` deletes the attribute; a
    ``(group, element)`` tuple key with ``(vr, value)`` adds a private or other element.
    Returns the folder holding the edited file.
    """

    def make(name: str = "case", *, source: Path | None = None, edits: dict[Any, Any] | None = None, **kw: Any) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        target = folder / "slice.dcm"
        shutil.copy(source or siemens_wb, target)
        ds = pydicom.dcmread(target)
        for key, value in {**(edits or {}), **kw}.items():
            holder = ds
            if isinstance(key, str) and key.startswith("rp."):
                holder, key = ds.RadiopharmaceuticalInformationSequence[0], key[3:]
            if isinstance(key, tuple):
                vr, val = value
                holder.add_new(key, vr, val)
            elif value is None:
                if key in holder:
                    delattr(holder, key)
            else:
                setattr(holder, key, value)
        ds.save_as(target)
        return folder

    return make


@pytest.fixture(scope="session")
def make_enhanced() -> Callable[..., Path]:
    """Build one enhanced (multi-frame) PET file from a folder of classic slices.

    Frames are written in reverse order; orientation and pixel measures are shared, position and
    rescale per frame. ``real_world=True`` moves the rescale and units into a Real World Value
    Mapping and states decay correction as DecayCorrected + DecayCorrectionDateTime, as enhanced PET
    does, removing the classic Units, DecayCorrection and Rescale attributes.
    """

    def build(classic: Path, folder: Path, *, real_world: bool = False) -> Path:
        datasets = [pydicom.dcmread(p) for p in sorted(classic.iterdir())][::-1]
        ds = datasets[0].copy()
        ds.NumberOfFrames = len(datasets)
        ds.PixelData = b"".join(d.PixelData for d in datasets)
        shared, orient, measures = Dataset(), Dataset(), Dataset()
        orient.ImageOrientationPatient = datasets[0].ImageOrientationPatient
        measures.PixelSpacing = datasets[0].PixelSpacing
        measures.SliceThickness = datasets[0].SliceThickness
        shared.PlaneOrientationSequence, shared.PixelMeasuresSequence = Sequence([orient]), Sequence([measures])
        ds.SharedFunctionalGroupsSequence = Sequence([shared])
        items = []
        for d in datasets:
            item, plane, transform = Dataset(), Dataset(), Dataset()
            plane.ImagePositionPatient = d.ImagePositionPatient
            item.PlanePositionSequence = Sequence([plane])
            if real_world:
                units, mapping = Dataset(), Dataset()
                units.CodeValue, units.CodingSchemeDesignator, units.CodeMeaning = "Bq/ml", "UCUM", "Becquerels/milliliter"
                mapping.MeasurementUnitsCodeSequence = Sequence([units])
                mapping.RealWorldValueSlope, mapping.RealWorldValueIntercept = float(d.RescaleSlope), 0.0
                item.RealWorldValueMappingSequence = Sequence([mapping])
            else:
                transform.RescaleSlope, transform.RescaleIntercept = d.RescaleSlope, d.RescaleIntercept
                item.PixelValueTransformationSequence = Sequence([transform])
            items.append(item)
        ds.PerFrameFunctionalGroupsSequence = Sequence(items)
        for keyword in ("ImagePositionPatient", "ImageOrientationPatient", "RescaleSlope", "RescaleIntercept"):
            delattr(ds, keyword)
        if real_world:
            del ds.Units, ds.DecayCorrection
            ds.DecayCorrected = "YES"
            ds.DecayCorrectionDateTime = f"{ds.SeriesDate}{ds.SeriesTime}"
        folder.mkdir()
        ds.save_as(folder / "multiframe.dcm")
        return folder

    return build
