"""A PET series as activity concentration (Bq/mL) with audited SUV inputs: :class:`PetScan`.

Stored values are converted to Bq/mL at the decay-correction reference time:

- BQML: as stored (DecayCorrection NONE: each frame corrected to the scan start);
- GML / CM2ML (already SUV of SUVType): ``SUV * D_ref / normaliser`` with the header's inputs (the
  ones the scanner used), so asking for another SUV kind re-normalises correctly;
- CNTS (Philips): Activity Concentration Scale Factor (7053,1009), else SUV Scale Factor (7053,1000).

Each conversion is a float32 factor per series or per frame, read from the headers
(:func:`bqml_factors`): a volume can be converted whole or one slice at a time with equal results.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from immunopet.dicom.geometry import Frame
from immunopet.dicom.header import PHILIPS_ACTIVITY_SCALE, PHILIPS_SUV_SCALE, Sourced, private_lookup, seconds_between
from immunopet.dicom.inputs import SUV_TYPES, SuvInputs
from immunopet.dicom.overrides import SuvOverrides, fix_for
from immunopet.dicom.read_inputs import read_suv_inputs
from immunopet.dicom.suv import SUV_KINDS, uncorrected_frame_factor
from immunopet.dicom.volume import PathOrFiles, Volume, malformed_as_error, read_volume
from immunopet.errors import DicomError, ImmunoPETError, SUVError
from immunopet.image import Image

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class PetScan:
    """A PET image in Bq/mL (``image``, units ``"BQML"``) and its SUV inputs (``inputs``)."""

    image: Image
    inputs: SuvInputs

    def suv_factor(self, kind: str = "bw") -> float:
        """Multiply Bq/mL by this to get SUV of ``kind`` (``bw``, ``lbm``, ``bsa``, ``ibw``)."""
        if kind not in SUV_KINDS:
            raise SUVError(f"unknown SUV kind {kind!r}", fix=f"use one of {', '.join(SUV_KINDS)}")
        return self.inputs.normaliser(kind) / self.injected_bq_at_reference

    def suv(self, kind: str = "bw") -> Image:
        """The SUV image of ``kind`` (units ``"SUVbw"``, ``"SUVlbm"``, ``"SUVbsa"``, ``"SUVibw"``); a
        copy of the Bq/mL array (:func:`convert_in_place` converts in the volume's memory instead)."""
        factor = np.float32(self.suv_factor(kind))
        return self.suv_image(self.image.array * factor, kind, factor)

    def suv_image(self, array: np.ndarray, kind: str, factor: np.float32) -> Image:
        """This scan's image with ``array`` as SUV of ``kind`` (units and the factor recorded)."""
        return self.image.with_array(array, units=SUV_KINDS[kind], suv_factor=float(factor))

    @property
    def injected_bq_at_reference(self) -> float:
        """Injected activity decayed to the time the image is corrected to (Bq)."""
        return self.inputs.injected_bq_at_reference()

    @property
    def uptake_hours(self) -> float:
        """Hours from injection to the scan start (the decay-correction reference of START/NONE)."""
        injection = self.inputs.get("injection_datetime")
        hours = seconds_between(injection, self.inputs.get("scan_datetime")) / 3600.0
        if hours < 0:
            raise SUVError(
                f"injection ({injection.isoformat()}) is after the scan start; uptake time undefined",
                file=self.inputs.file, attribute=self.inputs.injection_datetime.source, fix=fix_for("injection_datetime"),
            )
        return hours

    def audit(self) -> dict[str, Any]:
        """Every input with value, source and note; overrides, warnings and the SUV factors."""
        factors: dict[str, Any] = {}
        for kind in SUV_KINDS:
            try:
                factors[kind] = self.suv_factor(kind)
            except ImmunoPETError as error:
                factors[kind] = {"error": str(error)}
        uptake: Any
        reference: Any
        try:
            uptake = self.uptake_hours
        except ImmunoPETError as error:
            uptake = {"error": str(error)}
        try:
            reference = self.inputs.reference_datetime.isoformat()
        except ImmunoPETError as error:
            reference = {"error": str(error)}
        return {
            "series_uid": self.image.meta.get("series_uid"),
            "source": self.image.meta.get("source"),
            "stored_units": self.image.meta.get("stored_units"),
            "inputs": self.inputs.as_dict(),
            "reference_datetime": reference,
            "injected_bq_at_reference": self.injected_bq_at_reference,
            "uptake_hours": uptake,
            "suv_factors": factors,
            "overrides": {k: (v.as_dict() if v else None) for k, v in self.inputs.replaced.items()},
            "warnings": list(self.inputs.warnings) + list(self.image.meta.get("geometry_warnings", [])),
        }


def _per_frame(values: list[float]) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def apply_factors(array: np.ndarray, factors: Sequence[np.ndarray]) -> np.ndarray:
    """Multiply an ``(I, J, K)`` float32 array in place by each factor in turn (scalar, or one per k)."""
    for factor in factors:
        array *= factor if factor.ndim == 0 else factor[None, None, :]
    return array


def slice_factors(factors: Sequence[np.ndarray], k: int) -> list[np.float32]:
    """The factors of :func:`apply_factors` that apply to slice ``k``, in the same order."""
    return [factor if factor.ndim == 0 else factor[k] for factor in factors]


def _stored_suv_to_bqml(inputs: SuvInputs, suv_type: str) -> float:
    """Factor from stored SUV of DICOM ``suv_type`` back to Bq/mL, with the header's inputs."""
    kind, formula = SUV_TYPES[suv_type]
    used = ["injected_bq", "weight_kg"]
    used += ["height_cm"] if kind != "bw" else []
    used += ["sex"] if kind in ("lbm", "ibw") else []
    used += ["injection_datetime"] if inputs.decay_correction.value != "ADMIN" else []
    for name in used:
        if name in inputs.replaced and inputs.replaced[name] is None:
            inputs.warnings.append(
                f"stored SUV converted back with the override {name} (the header has none): it is "
                "assumed to be what the scanner used"
            )
    return inputs.injected_bq_at_reference(header=True) / inputs.normaliser(kind, header=True, lbm_formula=formula)


def bqml_factors(frames: list[Frame], inputs: SuvInputs) -> list[np.ndarray]:
    """The float32 factors, in the order they are applied, that take rescaled stored values to Bq/mL.

    Each is a scalar or one value per frame (k order); none depends on a voxel value, so a volume
    can be converted slice by slice (:func:`slice_factors`). Notes on how the units were read are
    added to ``inputs`` (its audit records them).
    """
    units = inputs.units.value
    activity_values = units == "BQML"  # values proportional to activity (not yet normalised to SUV)
    factors: list[np.ndarray] = []
    if units in ("GML", "CM2ML"):
        factors.append(np.float32(_stored_suv_to_bqml(inputs, str(inputs.suv_type.value))))
    elif units == "CNTS":
        activity = _philips_factors(frames, PHILIPS_ACTIVITY_SCALE, inputs)
        suvbw = _philips_factors(frames, PHILIPS_SUV_SCALE, inputs)
        if all(a is not None for a in activity):
            factors.append(_per_frame(activity))  # type: ignore[arg-type]
            activity_values = True
            inputs.units = Sourced(units, inputs.units.source, "to Bq/mL by Philips Activity Concentration Scale Factor (7053,1009)")
        elif all(s is not None for s in suvbw):
            back = _stored_suv_to_bqml(inputs, "BW")
            factors.append(_per_frame([s * back for s in suvbw]))  # type: ignore[operator]
            inputs.units = Sourced(units, inputs.units.source, "to SUVbw by Philips SUV Scale Factor (7053,1000), to Bq/mL with the header inputs")
        else:
            raise SUVError(
                "Units CNTS without Philips scale factors: counts cannot be turned into Bq/mL",
                file=inputs.file, attribute="(7053,1009) Activity Concentration Scale Factor / (7053,1000) SUV Scale Factor",
                fix="export the series from the scanner in BQML or with its Philips private tags",
            )
    if inputs.decay_correction.value == "NONE" and activity_values:
        factors.append(_none_factors(frames, inputs))
    return factors


def _philips_factors(frames: list[Frame], tag: tuple[int, str, int], inputs: SuvInputs) -> list[float | None]:
    """One Philips scale factor per frame (``None`` where absent or not a positive finite number)."""
    values: list[float | None] = []
    notes: set[str] = set()
    for frame in frames:
        raw, note = private_lookup(frame.ds, *tag)
        try:
            value = None if raw is None else float(raw)
        except (TypeError, ValueError):
            value = None
        values.append(value if value is not None and math.isfinite(value) and value > 0 else None)
        if note and value is not None:
            notes.add(note)
    if notes and all(v is not None for v in values):
        inputs.warnings.extend(f"{inputs.file}: {note}" for note in sorted(notes))
    return values


def _none_factors(frames: list[Frame], inputs: SuvInputs) -> np.ndarray:
    """Per-frame decay correction to the scan start for DecayCorrection NONE."""
    reference = inputs.get("scan_datetime")
    half_life = float(inputs.get("half_life_s"))
    factors = []
    for frame in frames:
        if frame.acquisition is None or not frame.duration_ms:
            raise SUVError(
                "DecayCorrection NONE needs each frame's acquisition time and duration", file=frame.where,
                attribute="AcquisitionTime (0008,0032) / ActualFrameDuration (0018,1242)",
                fix="supply a decay-corrected (START) reconstruction",
            )
        factors.append(uncorrected_frame_factor(
            acquisition_offset_s=seconds_between(reference, frame.acquisition),
            frame_duration_s=frame.duration_ms / 1000.0, half_life_s=half_life,
        ))
    inputs.decay_correction = Sourced("NONE", inputs.decay_correction.source,
                                      "not decay corrected: each frame corrected to the scan start here")
    return _per_frame(factors)


def load_pet(
    path: PathOrFiles, *, series_uid: str | None = None, overrides: SuvOverrides | None = None,
    assume_unit_slope: bool = False,
) -> PetScan:
    """Load a PET series as Bq/mL with its SUV inputs; fails early if SUVbw cannot be trusted.

    Parameters
    ----------
    path
        Folder holding the series (searched recursively), a file, or a list of files.
    series_uid
        SeriesInstanceUID to pick when the folder holds several image series.
    overrides
        Values replacing the header's (logged, and shown by :meth:`PetScan.audit`).
    assume_unit_slope
        Use 1 for slices without RescaleSlope (logged) instead of refusing them.

    Raises
    ------
    SUVError
        Naming the file, attribute and the override that fixes it.
    """
    volume = read_volume(path, series_uid=series_uid, assume_unit_slope=assume_unit_slope)
    return pet_from_volume(volume, overrides=overrides)


def pet_from_volume(volume: Volume, *, overrides: SuvOverrides | None = None) -> PetScan:
    """A :class:`PetScan` from an assembled PET volume (see :func:`load_pet`)."""
    scan, factors = _scan_before_voxels(volume, overrides)
    apply_factors(scan.image.array, factors)
    return scan


def _scan_before_voxels(volume: Volume, overrides: SuvOverrides | None) -> tuple[PetScan, list[np.ndarray]]:
    """The scan of a PET volume, from its headers, and the factors (:func:`bqml_factors`) still to apply.

    The scan's image holds the volume's array as it is (rescaled stored values, or the placeholder
    of :func:`~immunopet.dicom.volume.read_headers`) until the caller multiplies the factors in.
    """
    modality = volume.image.meta.get("modality")
    if modality != "PT":
        raise DicomError(f"series is {modality or 'of unknown modality'}, not PET", file=volume.image.meta.get("source"),
                         attribute="Modality (0008,0060)", fix="point to the PET series (see `immunopet inspect`)")
    with malformed_as_error(volume.image.meta.get("source")):
        inputs = read_suv_inputs(volume.frames, overrides=overrides)
        factors = bqml_factors(volume.frames, inputs)
    image = volume.image.with_array(volume.image.array, units="BQML", stored_units=inputs.units.value)
    scan = PetScan(image, inputs)
    scan.suv_factor("bw")  # every series must give a trustworthy SUVbw, or fail here
    for warning in inputs.warnings:
        log.warning("%s", warning)
    return scan, factors


def conversion(volume: Volume, kind: str | None, *,
               overrides: SuvOverrides | None = None) -> tuple[Image, dict[str, Any], list[np.ndarray]]:
    """What ``immunopet convert`` writes, from the headers alone: the image, its audit and its factors.

    The image has the units (SUV of ``kind``, Bq/mL for ``None``) and metadata of the output, but
    still the volume's array; its values are the rescaled stored values multiplied by each factor
    in turn (:func:`apply_factors` for a whole volume, :func:`slice_factors` for one slice): the
    :func:`bqml_factors`, then the float32 SUV factor, exactly as :func:`pet_from_volume` then
    :meth:`PetScan.suv` compute them.
    """
    scan, factors = _scan_before_voxels(volume, overrides)
    audit = scan.audit()
    if kind is None:
        return scan.image, audit, factors
    audit["suv_kind"] = kind
    audit["suv_factor_used"] = used = scan.suv_factor(kind)
    factor = np.float32(used)
    return scan.suv_image(scan.image.array, kind, factor), audit, [*factors, factor]


def convert_in_place(volume: Volume, kind: str | None, *,
                     overrides: SuvOverrides | None = None) -> tuple[Image, dict[str, Any]]:
    """The SUV image of ``kind`` (Bq/mL for ``None``) and the audit of its inputs, in the volume's memory.

    The values of :func:`pet_from_volume` then :meth:`PetScan.suv` (float32 times the same float32
    factors, :func:`conversion`), multiplied into the volume's array where it lies rather than into
    a copy, so one volume is in memory instead of two. The volume must not be used afterwards.
    """
    image, audit, factors = conversion(volume, kind, overrides=overrides)
    apply_factors(image.array, factors)
    return image, audit


def pet_inputs_from_headers(headers: Sequence[tuple[str | os.PathLike[str], Dataset]], *,
                            overrides: SuvOverrides | None = None) -> SuvInputs:
    """SUV inputs of a series from its ``(file, complete header)`` pairs (no pixel data): ``inspect``.

    The frames are sorted as :func:`load_pet` sorts them, then handed to the same reader
    (:func:`read_suv_inputs`), so ``inspect`` and ``convert`` agree. The headers are those
    discovery already read (:func:`~immunopet.dicom.discover.scan` with ``full_headers=True``).
    """
    from immunopet.dicom.frames import frames_of
    from immunopet.dicom.geometry import build_grid

    frames: list[Frame] = []
    with malformed_as_error(str(headers[0][0]) if headers else None):
        for file, ds in headers:
            frames.extend(frames_of(ds, str(file)))
        try:
            frames = build_grid(frames).frames
        except ImmunoPETError:
            pass  # geometry problems are reported by discovery; the SUV inputs do not depend on order
        return read_suv_inputs(frames, overrides=overrides)
