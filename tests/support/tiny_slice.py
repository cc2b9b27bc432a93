"""A PET slice header of a few pixels, built with the simulator's DICOM helpers (tests of writers and readers)."""

from __future__ import annotations

import datetime as dt

from pydicom.dataset import Dataset
from pydicom.uid import PositronEmissionTomographyImageStorage

from immunopet.simulate.dicom_common import ScanInfo, add_image_plane, base_dataset


def tiny_pet_slice(*, rows: int, columns: int, sex: str = "F", description: str = "PET WB") -> tuple[Dataset, ScanInfo]:
    """A day-7 89Zr PET slice header (16-bit signed pixels, 4 mm), with its scan's identity; no pixel data."""
    info = ScanInfo(seed=1, patient_id="P01", scan_id="P01_D7", sex=sex, height_cm=160.0 if sex == "F" else 170.0,
                    weight_kg=60.0 if sex == "F" else 70.0, injected_bq=37e6, injection=dt.datetime(2017, 1, 2, 10),
                    start=dt.datetime(2017, 1, 9, 10), day=7.0, tracer="89Zr-atezolizumab")
    ds = base_dataset(info, modality="PT", sop_class_uid=PositronEmissionTomographyImageStorage,
                      series_uid=info.uid("s"), series_number=3, description=description, series_time=info.start)
    add_image_plane(ds, rows=rows, columns=columns, spacing=4.0)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = info.uid("x")
    return ds, info
