"""Ground-truth lesion VOIs as a DICOM Segmentation (highdicom) referencing the scan's PET series."""

from __future__ import annotations

from pathlib import Path

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from immunopet.simulate.dicom_common import ScanInfo, da, make_uid, tm


#: What a SEG needs of each source image (patient, study, series, geometry).
SOURCE_KEYWORDS = (
    "SOPClassUID", "StudyDate", "StudyTime", "AccessionNumber", "Modality", "ReferringPhysicianName",
    "PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyInstanceUID", "SeriesInstanceUID",
    "StudyID", "SeriesNumber", "FrameOfReferenceUID", "ImageOrientationPatient", "PixelSpacing",
    "SliceThickness", "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated",
)


def _source_images(template: Dataset, info: ScanInfo, affine: np.ndarray, n_slices: int) -> list[Dataset]:
    """Header-only stand-ins of the PET slices (what the SEG needs to reference them)."""
    images = []
    for k in range(n_slices):
        ds = Dataset()
        for keyword in SOURCE_KEYWORDS:
            ds.add(template[keyword])
        position = affine[:3, :3] @ np.array([0.0, 0.0, k]) + affine[:3, 3]
        ds.SOPInstanceUID = info.uid("pet", k)
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [f"{v:.4f}" for v in position]
        images.append(ds)
    return images


def write_lesion_seg(path: Path, lesion_labels: np.ndarray, affine: np.ndarray, info: ScanInfo, *,
                     pet_template: Dataset, lesion_ids: list[str], sites: list[str]) -> None:
    """Write a binary SEG with one segment per lesion.

    Parameters
    ----------
    lesion_labels
        ``(I, J, K)`` integers on the PET grid: 0 background, ``n`` for lesion number ``n``.
    lesion_ids, sites
        ``L1, L2, ...`` and their sites, in lesion-number order.
    """
    sources = _source_images(pet_template, info, affine, lesion_labels.shape[2])
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=n + 1,
            segment_label=voi_id,
            segmented_property_category=codes.SCT.MorphologicallyAbnormalStructure,
            segmented_property_type=codes.SCT.Neoplasm,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            tracking_id=f"{info.patient_id}-{voi_id} ({site})",
            tracking_uid=make_uid("immunopet-simulate", info.seed, info.patient_id, "lesion", voi_id),
        )
        for n, (voi_id, site) in enumerate(zip(lesion_ids, sites))
    ]
    frames = np.ascontiguousarray(lesion_labels.transpose(2, 1, 0)).astype(np.uint8)
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=info.uid("seg-series"),
        series_number=100,
        sop_instance_uid=info.uid("seg"),
        instance_number=1,
        manufacturer="immunopet",
        manufacturer_model_name="immunopet simulate",
        software_versions=str(pet_template.SoftwareVersions),
        device_serial_number="SIM-0001",
        content_label="TRUTH",
        content_description="simulator ground truth: lesions",
        series_description="Ground truth lesions",
        content_date=da(info.start),
        content_time=tm(info.start),
    )
    seg.InstanceCreationDate, seg.InstanceCreationTime = da(info.start), tm(info.start)
    seg.SeriesDate, seg.SeriesTime = da(info.start), tm(info.start)
    for item in seg.get("ContributingEquipmentSequence", []):  # highdicom stamps the wall clock here
        item.ContributionDateTime = info.start.strftime("%Y%m%d%H%M%S")
    for item in seg.get("DimensionOrganizationSequence", []):
        item.DimensionOrganizationUID = info.uid("seg-dimension-organization")
    for item in seg.get("DimensionIndexSequence", []):
        item.DimensionOrganizationUID = info.uid("seg-dimension-organization")
    path.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(path, enforce_file_format=True)
