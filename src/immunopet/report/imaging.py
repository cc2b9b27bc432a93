"""Per-patient image figures: load each PET once, project it, cut fusion slices, draw and save.

This is the report's only image I/O. :func:`patient_figures` handles one patient (so patients can
run in a process pool) and never raises for a bad scan: the scan's problem is returned with the
figures that could be made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from immunopet.errors import ImmunoPETError
from immunopet.image import Image
from immunopet.report.figio import SavedFigure, save_figure
from immunopet.projection import Projections, load_projections, projections
from immunopet.report.projection import FusionSlice, fusion_slice

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanImageJob:
    """One scan of a patient as the image figures need it (picklable; absolute paths)."""

    scan_id: str
    day: float
    pet: str
    series_uid: str | None = None
    suv_factor: float | None = None
    ct: str | None = None
    fusion: bool = False
    lesions: tuple[str, ...] = ()
    kept: str | None = None  # the MIPs the run kept (immunopet.study.kept_projections), used if kept_key matches
    kept_key: str | None = None


@dataclass(frozen=True)
class PatientJob:
    """All image work for one patient."""

    study_dir: str
    patient_id: str
    scans: tuple[ScanImageJob, ...]
    figures_dir: str
    mip_vmax: float
    units: str = "SUV"
    svg: bool = True
    kinetics: dict[str, Any] | None = None  # this patient's rows of the kinetics tables (fig_kinetics)
    registrations: tuple[dict[str, Any], ...] = ()  # this patient's registration records (fig_registration)


@dataclass
class PatientFigures:
    """What :func:`patient_figures` hands back: saved figures and the problems met."""

    patient_id: str
    figures: list[SavedFigure] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (scan_id, reason)
    registration: list[SavedFigure] = field(default_factory=list)  # shown in the QA section, not the patient's


def load_suv(job: ScanImageJob) -> Image:
    """The SUV volume of a scan: Bq/mL from the DICOM series times the run's stored SUV factor.

    Using the stored factor (with the overrides the run applied) keeps the images consistent with
    the measured numbers. A NIfTI PET is read as it is (already in SUV, see ``pet_units``).
    """
    if job.pet.lower().endswith((".nii", ".nii.gz")):
        return Image.from_nifti(job.pet, units="SUV")
    if job.suv_factor is None or not np.isfinite(job.suv_factor):
        raise ImmunoPETError("the run stored no SUV factor for this scan (it failed)", file=job.pet,
                             fix="see the QA section; rerun `immunopet run` after fixing the scan")
    from immunopet.dicom import load_pet

    pet = load_pet(job.pet, series_uid=job.series_uid)
    return pet.image.with_array(pet.image.array * np.float32(job.suv_factor), units="SUV")


def ct_on_grid(ct_path: str, grid: Image) -> np.ndarray:
    """The CT (HU) resampled onto ``grid`` (linear; air outside the CT's field of view)."""
    from immunopet.dicom import load_image_series

    return ct_image_on_grid(load_image_series(ct_path), grid)


def ct_image_on_grid(ct: Image, grid: Image) -> np.ndarray:
    """A CT image (HU) already read, resampled onto ``grid`` as :func:`ct_on_grid` does."""
    import SimpleITK as sitk

    resampled = sitk.Resample(ct.to_sitk(), grid.to_sitk(), sitk.Transform(), sitk.sitkLinear, -1000.0,
                              sitk.sitkFloat32)
    return sitk.GetArrayFromImage(resampled).transpose(2, 1, 0)


@lru_cache(maxsize=2)
def _study(study_dir: str) -> Any:
    from immunopet.study import load_study

    return load_study(study_dir)


def lesion_masks(study_dir: str, scan_id: str, suv: Image, lesions: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Boolean masks of the scan's lesion VOIs on the PET grid, built as the run built them."""
    import dataclasses

    from immunopet.study import build_scan_masks

    study = _study(study_dir)
    only_lesions = dataclasses.replace(study, vois=study.vois[study.vois["voi_id"].isin(lesions)])
    built = build_scan_masks(only_lesions, scan_id, suv)
    masks = built[0] if isinstance(built, tuple) else built
    return {name: np.asarray(getattr(m, "array", m), dtype=bool) for name, m in masks.items() if name in lesions}


def patient_figures(job: PatientJob) -> PatientFigures:
    """Make the MIP grid (all days) and the fusion figure (outcome day) of one patient."""
    from immunopet.report.fig_images import fusion_figure, mip_grid_figure

    out = PatientFigures(job.patient_id)
    figures_dir = Path(job.figures_dir)
    rows: list[tuple[str, Projections]] = []
    cuts: list[FusionSlice] = []
    fusion_scan = None
    for scan in sorted(job.scans, key=lambda s: s.day):
        try:
            fused = scan.fusion and bool(scan.lesions)
            proj = None if fused or scan.kept is None else load_projections(Path(scan.kept), scan.kept_key or "")
            if proj is not None:  # the run's MIPs of this very volume: its PET series is not read again
                rows.append((f"day {scan.day:g}", proj))
                continue
            suv = load_suv(scan)
            proj = projections(suv)
            rows.append((f"day {scan.day:g}", proj))
            if fused:
                fusion_scan = scan
                masks = lesion_masks(job.study_dir, scan.scan_id, suv, scan.lesions)
                ct = ct_on_grid(scan.ct, suv) if scan.ct else None
                cuts.extend(fusion_slice(name, suv, mask, ct) for name, mask in sorted(masks.items()))
                del ct
        except (ImmunoPETError, OSError, ValueError) as error:
            log.warning("%s: image figures: %s", scan.scan_id, error)
            out.problems.append((scan.scan_id, str(error)))
    if rows:
        fig = mip_grid_figure(f"{job.patient_id}: maximum-intensity projections", rows, vmax=job.mip_vmax,
                              units=job.units)
        out.figures.append(save_figure(
            fig, figures_dir, f"mip_{job.patient_id}", svg=job.svg,
            caption=(f"{job.patient_id}: coronal (left, patient's right on the left) and sagittal (right, anterior "
                     f"on the left) maximum-intensity projections, one row per scan day, all on one scale "
                     f"(0-{job.mip_vmax:g} {job.units})."),
        ))
    if cuts and fusion_scan is not None:
        fig = fusion_figure(f"{job.patient_id}: day {fusion_scan.day:g} PET/CT", cuts, units=job.units)
        out.figures.append(save_figure(
            fig, figures_dir, f"fusion_{job.patient_id}", svg=job.svg,
            caption=(f"{job.patient_id}: axial PET/CT fusion through the hottest voxel of each lesion on the "
                     f"day-{fusion_scan.day:g} scan ({fusion_scan.scan_id}); cyan line: the lesion VOI (voxel edges); each "
                     "panel's colour scale ends at the lesion's SUVmax rounded up."),
        ))
    if job.kinetics:  # drawn here so that patients' kinetics figures run side by side in the pool too
        from immunopet.report.fig_kinetics import patient_kinetics_figures

        out.figures.extend(patient_kinetics_figures(job.kinetics, figures_dir, svg=job.svg).get(job.patient_id, []))
    if job.registrations:  # the checkerboards too: 3 per patient in a 4-day study, as many as all other figures
        from immunopet.report.fig_registration import registration_figures
        from immunopet.report.figio import PNG_DPI

        out.registration = registration_figures(Path(job.study_dir), job.registrations, figures_dir, svg=job.svg,
                                                dpi=PNG_DPI)
    return out
