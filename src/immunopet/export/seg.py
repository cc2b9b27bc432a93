"""One scan's VOIs as one binary DICOM Segmentation on the PET grid (highdicom).

Segment ``n`` is the ``n``-th measured VOI of the scan (vois.csv order). Each segment carries its
coded category and type (:func:`immunopet.export.codes.segment_property`), the lesion site as its
anatomic region, the tracking identifier and UID (the same for one lesion on every day,
:mod:`immunopet.export.identity`), and how it was made as its algorithm identification (vois.csv
source and delineation, software version and study parameters). Frame ``k`` of the segment is the
PET slice at grid position ``k``: the mask is written voxel for voxel, no resampling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pydicom.dataset import Dataset

from immunopet.export import codes
from immunopet.export.identity import Privacy, stamp, tracking


@dataclass(frozen=True)
class SegmentSpec:
    """What the SEG and SR know of one VOI."""

    number: int
    voi_id: str
    kind: str
    site: str
    row: Mapping  # the vois.csv row
    tracking_id: str
    tracking_uid: str


def segment_specs(vois: Sequence[Mapping], study: str, patient_id: str) -> list[SegmentSpec]:
    """Numbered segments (1, 2, ...) of the measured VOIs of one scan, in vois.csv order."""
    specs = []
    for number, row in enumerate(vois, start=1):
        tracking_id, tracking_uid = tracking(study, patient_id, str(row["voi_id"]))
        specs.append(SegmentSpec(number, str(row["voi_id"]), str(row["kind"]), str(row.get("site") or ""),
                                 row, tracking_id, tracking_uid))
    return specs


def _description(spec: SegmentSpec, *, version: str, parameters: Mapping[str, str]):
    import highdicom as hd

    category, kind, region = codes.segment_property(spec.kind, spec.site)
    how = codes.derivation(dict(spec.row))
    settings = {k: str(v) for k, v in parameters.items()}
    for key in ("source", "delineation", "threshold", "diameter_mm", "volume_ml", "label"):
        value = spec.row.get(key)
        if value is not None and value == value and value != "":
            settings[f"voi_{key}"] = str(value)
    manual = how.algorithm_type == "MANUAL"  # a manual segment may carry no algorithm name (Type 1C)
    algorithm = None if manual else hd.AlgorithmIdentificationSequence(
        name=how.name[:64], family=how.family, version=version[:64], source="immunopet", parameters=settings,
    )
    description = hd.seg.SegmentDescription(
        segment_number=spec.number,
        segment_label=spec.voi_id[:64],
        segmented_property_category=category,
        segmented_property_type=kind,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues(how.algorithm_type),
        algorithm_identification=algorithm,
        tracking_id=spec.tracking_id[:64],
        tracking_uid=spec.tracking_uid,
        anatomic_regions=[region] if region is not None else None,
    )
    description.SegmentDescription = f"{how.name}; immunopet {version}"[:1024]
    return description


def coding_schemes() -> list[Dataset]:
    """Coding Scheme Identification Sequence items of the schemes DICOM does not define itself."""
    items = []
    for designator, name in ((codes.PRIVATE_SCHEME, codes.PRIVATE_SCHEME_NAME), (codes.IBSI_SCHEME, codes.IBSI_SCHEME_NAME)):
        item = Dataset()
        item.CodingSchemeDesignator = designator
        item.CodingSchemeName = name
        item.CodingSchemeResponsibleOrganization = "immunopet" if designator == codes.PRIVATE_SCHEME else "IBSI"
        items.append(item)
    return items


def build_seg(
    sources: Sequence[Dataset], specs: Sequence[SegmentSpec], masks: Mapping[str, np.ndarray], *,
    privacy: Privacy, series_uid: str, sop_uid: str, version: str, parameters: Mapping[str, str],
):
    """The SEG (a ``highdicom.seg.Segmentation``) of one scan.

    Parameters
    ----------
    sources
        Header stand-ins of the PET slices in grid order (frame ``k`` = slice ``k``).
    specs, masks
        The segments and their boolean masks ``(I, J, K)`` on the PET grid, by VOI id.
    """
    import highdicom as hd

    first = masks[specs[0].voi_id]
    if first.shape[2] != len(sources):
        raise ValueError(f"mask has {first.shape[2]} slices, the PET series {len(sources)}")
    # K (frames), J (rows), I (columns), S, filled in one pass (each (I, J, K) mask as its transpose)
    frames = np.empty((*first.shape[::-1], len(specs)), dtype=bool)
    for n, spec in enumerate(specs):
        frames[..., n] = np.asarray(masks[spec.voi_id], dtype=bool).T
    moment = privacy.moment()
    seg = hd.seg.Segmentation(
        source_images=list(sources),
        pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_description(s, version=version, parameters=parameters) for s in specs],
        series_instance_uid=series_uid,
        series_number=900,
        sop_instance_uid=sop_uid,
        instance_number=1,
        manufacturer="immunopet",
        manufacturer_model_name="immunopet export",
        software_versions=version,
        device_serial_number="0",
        content_label="VOIS",
        content_description=f"immunopet VOIs of scan {privacy.scan_id}"[:64],
        series_description=f"immunopet VOIs {privacy.scan_id}"[:64],
        content_creator_name="immunopet^",
        content_date=moment.date(),
        content_time=moment.time(),
        omit_empty_frames=True,
    )
    seg.CodingSchemeIdentificationSequence = coding_schemes()
    stamp(seg, privacy)
    return seg
