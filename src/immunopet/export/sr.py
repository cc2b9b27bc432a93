"""One scan's measurements as a Comprehensive 3D SR following TID 1500 (highdicom.sr).

- one TID 1411 volumetric group per VOI: its tracking identifier and UID, the referenced segment of
  the scan's SEG and the PET series it was drawn on, the time point (TID 1502), the finding type
  and site, the algorithm (software version and study parameters, TID 4019) and the measurements
  SUVmax, SUVpeak (global and local, the method naming which), SUVmean, volume, TLU and %ID;
- one TID 1501 group per ratio to the blood pool (tumour-to-blood ratio of SUVmax, SUVpeak,
  SUVmean), which references both segments (numerator and blood pool) as its source images:
  a ratio of two VOIs cannot sit in a single-segment TID 1411 group.

Values are written as stored (DICOM DS, up to 16 characters: about 12 significant digits).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydicom.dataset import Dataset

from immunopet.export import codes
from immunopet.export.identity import Privacy, derived_uid, ratio_tracking, stamp
from immunopet.export.seg import SegmentSpec, coding_schemes

BLOOD_POOL = "blood_pool"


@dataclass(frozen=True)
class TimePoint:
    """When the scan was taken: nominal day, hours after injection, order among the patient's scans."""

    day: float
    hours_pi: float | None
    order: int


def _value(row: Mapping, key: str) -> float | None:
    value = row.get(key)
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def metric_concepts(suv_type: str) -> list[tuple[str, object, object, object]]:
    """(store column, concept name, unit, derivation) of each exported VOI metric.

    The two SUVpeaks are told apart by their derivation, the IBSI feature (global: best 1 mL sphere
    inside the VOI; local: 1 mL sphere centred on the hottest voxel), not by a method modifier:
    dcmqi and most readers interpret a measurement's derivation but not its method.
    """
    quantity, unit = codes.SUV_QUANTITY[suv_type]
    return [
        ("suv_max", quantity, unit, codes.MAXIMUM),
        ("suv_peak", quantity, unit, codes.GLOBAL_PEAK),
        ("suv_peak_local", quantity, unit, codes.LOCAL_PEAK),
        ("suv_mean", quantity, unit, codes.MEAN),
        ("volume_ml", codes.VOLUME, codes.MILLILITRE, None),
        ("tlu", codes.TLU, codes.tlu_unit(suv_type), None),
        ("pct_id", codes.PCT_ID, codes.PERCENT, None),
    ]


#: ratio column -> the derivation of its numerator (the blood pool is always its SUVmean).
RATIOS = {"tbr_max": codes.MAXIMUM, "tbr_peak": codes.GLOBAL_PEAK, "tbr_mean": codes.MEAN}


def _time_point(when: TimePoint):
    import highdicom as hd

    offset = None
    if when.hours_pi is not None:
        offset = hd.sr.LongitudinalTemporalOffsetFromEvent(
            value=round(when.hours_pi / 24.0, 6), unit=codes.DAYS, event_type=codes.INJECTION_EVENT)
    return hd.sr.TimePointContext(
        time_point=f"day {when.day:g}", time_point_order=when.order, protocol_time_point_identifier=f"D{when.day:g}",
        temporal_offset_from_event=offset,
    )


def _algorithm(version: str, parameters: Mapping[str, str]):
    import highdicom as hd

    return hd.sr.AlgorithmIdentification(
        name="immunopet", version=version, parameters=[f"{k}={v}" for k, v in parameters.items()])


def _voi_group(spec: SegmentSpec, values: Mapping, *, seg: Dataset, pet_series: str, suv_type: str,
               when, algorithm):
    import highdicom as hd

    measurements = []
    for column, name, unit, derivation in metric_concepts(suv_type):
        value = _value(values, column)
        if value is not None:
            measurements.append(hd.sr.Measurement(name=name, value=value, unit=unit, derivation=derivation))
    category, finding, region = codes.segment_property(spec.kind, spec.site)
    sites = [hd.sr.FindingSite(region)] if region is not None else None
    return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=spec.tracking_uid, identifier=spec.tracking_id),
        referenced_segment=hd.sr.ReferencedSegment(
            sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID, segment_number=spec.number,
            source_series=hd.sr.SourceSeriesForSegmentation(pet_series),
        ),
        time_point_context=when,
        finding_type=finding,
        finding_category=category,
        finding_sites=sites,
        algorithm_id=algorithm,
        measurements=measurements,
    )


def _segment_image(seg: Dataset, number: int):
    import highdicom as hd

    item = hd.sr.SourceImageForMeasurementGroup(seg.SOPClassUID, seg.SOPInstanceUID)
    item.ReferencedSOPSequence[0].ReferencedSegmentNumber = number
    return item


def _ratio_group(spec: SegmentSpec, blood: SegmentSpec, values: Mapping, *, seg: Dataset, study: str,
                 patient_id: str, when, algorithm):
    import highdicom as hd

    measurements = [
        hd.sr.Measurement(name=codes.RATIO, value=value, unit=codes.NO_UNITS, derivation=derivation)
        for column, derivation in RATIOS.items() if (value := _value(values, column)) is not None
    ]
    if not measurements:
        return None
    identifier, uid = ratio_tracking(study, patient_id, spec.voi_id, blood.voi_id)
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=uid, identifier=identifier),
        time_point_context=when,
        finding_type=codes.segment_property(spec.kind, spec.site)[1],
        algorithm_id=algorithm,
        measurements=measurements,
        source_images=[_segment_image(seg, spec.number), _segment_image(seg, blood.number)],
    )


def build_sr(
    sources: Sequence[Dataset], seg: Dataset, specs: Sequence[SegmentSpec], values: Mapping[str, Mapping], *,
    privacy: Privacy, when: TimePoint, suv_type: str, series_uid: str, sop_uid: str, version: str,
    parameters: Mapping[str, str],
):
    """The TID 1500 measurement report (a ``highdicom.sr.Comprehensive3DSR``) of one scan.

    Parameters
    ----------
    sources
        Header stand-ins of the PET slices (the evidence, with the SEG).
    seg
        The scan's SEG (its segments are referenced by number).
    specs
        The segments; ``values[voi_id]`` holds the store's metrics of each.
    """
    import highdicom as hd

    # The time point and algorithm items are the same in every group: built once, shared.
    algorithm = _algorithm(version, parameters)
    when = _time_point(when)
    pet_series = str(sources[0].SeriesInstanceUID)
    groups = [_voi_group(s, values[s.voi_id], seg=seg, pet_series=pet_series, suv_type=suv_type, when=when,
                         algorithm=algorithm) for s in specs]
    blood = next((s for s in specs if s.voi_id == BLOOD_POOL), None)
    if blood is not None:
        for spec in specs:
            if spec is not blood:
                group = _ratio_group(spec, blood, values[spec.voi_id], seg=seg, study=privacy.study,
                                     patient_id=privacy.patient_id, when=when, algorithm=algorithm)
                if group is not None:
                    groups.append(group)
    observer = hd.sr.ObserverContext(
        observer_type=codes.DEVICE,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=derived_uid("device", "immunopet"), name="immunopet", manufacturer_name="immunopet",
            model_name=f"immunopet {version}"[:64]),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=codes.PROCEDURE,
        imaging_measurements=groups,
        title=codes.TITLE,
    )
    moment = privacy.moment()
    # highdicom copies and re-parses the whole content tree in the constructor (seconds for a
    # whole-body scan's 30 groups); each template above validated itself when built, so the
    # document is made around the report's title container and then given the groups.
    container = report[0]
    full_content = container.ContentSequence
    container.ContentSequence = [item for item in full_content if item.ValueType != "CONTAINER"]
    sr = hd.sr.Comprehensive3DSR(
        evidence=[*sources, seg],
        content=container,
        series_instance_uid=series_uid,
        series_number=901,
        sop_instance_uid=sop_uid,
        instance_number=1,
        manufacturer="immunopet",
        is_complete=True,
        series_description=f"immunopet measurements {privacy.scan_id}"[:64],
        content_date=moment.date(),
        content_time=moment.time(),
    )
    sr.ContentSequence = full_content
    sr.SoftwareVersions = version
    sr.CodingSchemeIdentificationSequence = coding_schemes()
    stamp(sr, privacy)
    return sr
