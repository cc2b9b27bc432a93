"""Simulate every scan of one patient: activity maps, PET and CT DICOM, label maps, SEG and truth."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import nibabel
import numpy as np
import pandas as pd
from scipy import ndimage

from immunopet.image import Image
from immunopet.nuclides import get_nuclide
from immunopet.simulate.anatomy import LABELS, LESION_LABEL_OFFSET, lesion_boxes
from immunopet.simulate.canvas import grown_box
from immunopet.simulate.cohort import STREAM_IMAGE, patient_rng
from immunopet.simulate.dicom_common import ScanInfo
from immunopet.simulate.dicom_images import write_ct, write_pet
from immunopet.simulate.dicom_seg import write_lesion_seg
from immunopet.simulate.kinetics import activity_bqml
from immunopet.simulate.lesions import max_profile_factor
from immunopet.simulate.attenuation import noise_variance_factor
from immunopet.simulate.partial_volume import fraction_labels, fraction_maps, fractional_suv, lesion_fractions
from immunopet.simulate.phantom import Phantom, ScanPhantom, build_phantom, on_scan_grid
from immunopet.simulate.pose import Pose, draw_pose, still_pose
from immunopet.simulate.scanner import NoiseModel, add_noise, blur, body_reference
from immunopet.simulate.segmenter_output import write_segmenter_output

#: Organ VOIs read from the label map (standard names of docs/study-format.md).
MASK_ORGANS = ("liver", "spleen", "kidneys", "lungs", "brain", "muscle", "intestine", "lymph_nodes", "tonsils")
BLOOD_POOL_ML, BONE_MARROW_ML = 2.9, 8.6
STREAM_SCAN, STREAM_RETEST = 6, 7


def retest_id(scan_id: str) -> str:
    """Scan id of the retest series of ``scan_id`` (``P01_D7`` -> ``P01_D7_R``)."""
    return f"{scan_id}_R"


def scan_paths(scan_id: str, patient_id: str) -> dict[str, str]:
    """Paths (relative to the study folder) of a scan's files."""
    return {"pet": f"dicom/{patient_id}/{scan_id}/PT", "ct": f"dicom/{patient_id}/{scan_id}/CT",
            "labels": f"masks/{scan_id}_labels.nii.gz", "seg": f"masks/{scan_id}_lesions_seg.dcm"}


def _truth_rows(labels: np.ndarray, activity: np.ndarray, suv: np.ndarray, names: dict[int, tuple[str, str, str]],
                voxel_ml: float, fractional_ml: dict[int, float] | None = None) -> list[dict[str, Any]]:
    flat = labels.ravel()
    counts = np.bincount(flat, minlength=256)
    sums_a = np.bincount(flat, weights=activity.ravel(), minlength=256)
    sums_s = np.bincount(flat, weights=suv.ravel(), minlength=256)
    maxima = np.zeros(256)
    for label, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is not None:
            maxima[label] = suv[box][labels[box] == label].max()
    rows = []
    for label, (voi_id, kind, site) in names.items():
        n = int(counts[label])
        if n == 0:
            continue
        rows.append({"voi_id": voi_id, "kind": kind, "site": site, "label": label, "n_voxels": n,
                     "volume_ml": n * voxel_ml, "true_mean_bqml": sums_a[label] / n,
                     "true_suv_mean": sums_s[label] / n, "true_suv_max": maxima[label],
                     "fractional_volume_ml": (fractional_ml or {}).get(label, np.nan)})
    return rows


def _voi_rows(scan_id: str, labels_path: str, phantom: Phantom, pose: Pose, lesion_ids: list[str],
              sites: list[str]) -> list[dict[str, Any]]:
    """The scan's rows of ``vois.csv``: organ masks, the two fixed spheres (moved with the pose), the lesions."""
    common = {"scan_id": scan_id, "source": "mask", "path": labels_path}
    rows = [{**common, "voi_id": organ, "kind": "organ", "site": organ, "label": LABELS[organ]}
            for organ in MASK_ORGANS]
    for organ, landmark, ml in (("blood_pool", "aortic_arch", BLOOD_POOL_ML),
                                ("bone_marrow", "lumbar_marrow", BONE_MARROW_ML)):
        x, y, z = pose.to_scan(phantom.body.landmarks[landmark])[0]
        rows.append({"scan_id": scan_id, "voi_id": organ, "kind": "organ", "site": organ, "source": "sphere",
                     "x_mm": round(x, 2), "y_mm": round(y, 2), "z_mm": round(z, 2), "volume_ml": ml})
    rows += [{**common, "voi_id": lid, "kind": "lesion", "site": site, "label": LESION_LABEL_OFFSET + n + 1}
             for n, (lid, site) in enumerate(zip(lesion_ids, sites))]
    return rows


def breathe(activity: np.ndarray, labels: np.ndarray, lesion_sites: list[str], breathing_mm: dict[str, float],
            voxel_mm: float) -> np.ndarray:
    """Blur the surroundings of lung and liver lesions along z as breathing does during a scan.

    Each such lesion's box (its voxels plus the breathing amplitude and 3 voxels) is replaced by its
    z-smoothed version: a Gaussian of SD ``A / (2 sqrt 2)``, the SD of the position of a sinusoid
    of peak-to-peak amplitude ``A``. The truth (labels) stays the static lesion.
    """
    out = activity
    boxes = lesion_boxes(labels)
    for n, site in enumerate(lesion_sites):
        amplitude = float(breathing_mm.get(site, 0.0))
        if amplitude <= 0 or n >= len(boxes) or boxes[n] is None:
            continue
        box = grown_box(boxes[n], int(np.ceil(amplitude / voxel_mm)) + 3, labels.shape)
        if out is activity:
            out = activity.copy()
        out[box] = ndimage.gaussian_filter1d(out[box], amplitude / (2 * np.sqrt(2)) / voxel_mm, axis=2, mode="nearest")
    return out


def true_suv(labels: np.ndarray, profile: np.ndarray, organs: pd.DataFrame, lesions: pd.DataFrame,
              day: float) -> np.ndarray:
    """Noise-free SUV map of one scan day: organ SUVs by label, lesions with their profile (the centre
    SUV is the true SUVmax divided by the profile's highest value)."""
    lut = np.zeros(256, dtype=np.float64)
    day_organs = organs[organs["day"] == day].set_index("organ")["suv_mean"]
    for name, value in LABELS.items():
        lut[value] = day_organs[name]
    peak = max_profile_factor(lesions["heterogeneity"].to_numpy(), lesions["necrotic_core"].to_numpy())
    for n, centre_suv in enumerate(lesions[f"suv_max_day{day:g}"].to_numpy() / peak):
        lut[LESION_LABEL_OFFSET + n + 1] = centre_suv
    return (lut[labels] * profile).astype(np.float32)


def _write_fractions(out_dir: Path, scan_id: str, fractions: list, shape: tuple[int, int, int], affine: np.ndarray) -> None:
    """``truth/fractions/<scan_id>_lesion_fraction.nii.gz`` and ``..._lesion_index.nii.gz`` (docs/simulator.md)."""
    total, index = fraction_maps(shape, fractions)
    folder = out_dir / "truth" / "fractions"
    folder.mkdir(parents=True, exist_ok=True)
    nibabel.save(Image(total, affine, "fraction").to_nifti(), folder / f"{scan_id}_lesion_fraction.nii.gz")
    nibabel.save(Image(index, affine, "label").to_nifti(), folder / f"{scan_id}_lesion_index.nii.gz")


def partial_volume_scan(grid: ScanPhantom, phantom: Phantom, pose: Pose, organs: pd.DataFrame, lesions: pd.DataFrame,
                        day: float) -> tuple[ScanPhantom, list, np.ndarray]:
    """The scan's lesions as partial-volume fractions (:mod:`immunopet.simulate.partial_volume`): the
    grid with the fraction-based label map, the fractions and the true SUV map formed from them."""
    if not phantom.lesion_shapes:
        return grid, [], true_suv(grid.labels, grid.profile, organs, lesions, day)
    tissue = grid.take(phantom.tissue).astype(np.uint8)
    fractions = lesion_fractions(grid.labels, tissue, grid.affine, pose, phantom.lesion_shapes)
    tissue_suv = true_suv(tissue, np.ones(tissue.shape, dtype=np.float32), organs, lesions, day)
    labels = fraction_labels(tissue, fractions)
    return replace(grid, labels=labels), fractions, fractional_suv(tissue_suv, fractions, lesions, day)


def simulate_patient(out_dir: Path, *, subject: dict[str, Any], lesions: pd.DataFrame, organs: pd.DataFrame,
                     scans: pd.DataFrame, params: dict[str, Any], seed: int, quick: bool,
                     retest: bool = False) -> dict[str, list[dict]]:
    """Write all scans of one patient below ``out_dir``; returns rows for scans, vois, truth, positions, poses.

    With ``retest`` every scan gets a second PET series (same truth, new noise), listed with
    ``retest_of`` = the original scan id.
    """
    nuclide = get_nuclide(params["study"]["nuclide"])
    sc = params["scanner"]
    model = NoiseModel.from_params(sc)
    index, pid = int(subject["index"]), str(subject["patient_id"])
    injected_bq, weight_kg = float(subject["injected_bq"]), float(subject["weight_kg"])
    phantom = build_phantom(pd.Series(subject), lesions, params, quick=quick, rng=patient_rng(seed, index, STREAM_IMAGE))
    voxel = float(phantom.affine[0, 0])
    lesion_ids, sites = lesions["voi_id"].tolist(), lesions["site"].tolist()
    names = {v: (k, "organ", k) for k, v in LABELS.items()}
    names.update({LESION_LABEL_OFFSET + n + 1: (lid, "lesion", site) for n, (lid, site) in enumerate(zip(lesion_ids, sites))})
    rows: dict[str, list[dict]] = {"scans": [], "vois": [], "truth": [], "positions": [], "poses": []}
    # the lesion SEG is written for the outcome-day scan (else the last scan): highdicom is slow
    outcome_day = float(params["study"]["outcome_day"])
    seg_day = outcome_day if outcome_day in set(scans["day"]) else float(scans["day"].max())
    frame_s = 60.0 * float(sc["minutes_per_bed"])
    motion = params["motion"]
    for number, scan in enumerate(scans.itertuples(index=False)):
        rng = np.random.default_rng(np.random.SeedSequence([seed, index, STREAM_SCAN, number]))
        pose = draw_pose(rng, motion, phantom.body) if motion["enabled"] else still_pose(phantom.body)
        grid = on_scan_grid(phantom, pose)
        affine = grid.affine
        if params["lesions"]["partial_volume"]:
            grid, fractions, suv = partial_volume_scan(grid, phantom, pose, organs, lesions, scan.day)
        else:
            fractions, suv = [], true_suv(grid.labels, grid.profile, organs, lesions, scan.day)
        activity = activity_bqml(suv, injected_bq=injected_bq, weight_kg=weight_kg, hours=float(scan.hours_pi),
                                 half_life_s=nuclide.half_life_s).astype(np.float32)
        moving = breathe(activity, grid.labels, sites, params["lesions"]["breathing_mm"], voxel)
        reference = body_reference(activity)
        info = ScanInfo(seed=seed, patient_id=pid, scan_id=scan.scan_id, sex=str(subject["sex"]),
                        height_cm=float(subject["height_cm"]), weight_kg=weight_kg, injected_bq=injected_bq,
                        injection=dt.datetime.fromisoformat(subject["injection_datetime"]),
                        start=dt.datetime.fromisoformat(scan.scan_datetime), day=float(scan.day),
                        tracer=str(params["study"]["tracer"]))
        paths = scan_paths(scan.scan_id, pid)
        versions = [(scan.scan_id, paths["pet"], False)]
        if retest:
            versions.append((retest_id(scan.scan_id), paths["pet"] + "_retest", True))
        template = None
        blurred = blur(moving, fwhm_mm=float(sc["psf_fwhm_mm"]), voxel_mm=voxel)  # a retest shares the truth
        factor = noise_variance_factor(grid.hu, voxel, model.attenuation_power)
        for scan_id, pet_path, is_retest in versions:
            noise_rng = rng if not is_retest else np.random.default_rng(
                np.random.SeedSequence([seed, index, STREAM_RETEST, number]))
            pet = add_noise(blurred, voxel_mm=voxel, frame_s=frame_s, positron_fraction=nuclide.positron_fraction,
                            model=model, rng=noise_rng, reference=reference, variance_factor=factor)
            written = write_pet(out_dir / pet_path, pet, affine, info, nuclide=nuclide, frame_s=frame_s,
                                retest=is_retest)
            if template is None:  # the SEG references the original series
                template = written
            rows["scans"].append({"scan_id": scan_id, "patient_id": pid, "day": scan.day, "pet": pet_path,
                                  "ct": paths["ct"], **({"retest_of": scan.scan_id if is_retest else ""}
                                                        if retest else {})})
        write_ct(out_dir / paths["ct"], grid.hu, affine, info)
        if scan.day == seg_day:
            lesion_only = np.where(grid.labels > LESION_LABEL_OFFSET, grid.labels - LESION_LABEL_OFFSET, 0).astype(np.uint8)
            write_lesion_seg(out_dir / paths["seg"], lesion_only, affine, info, pet_template=template,
                             lesion_ids=lesion_ids, sites=sites)
            write_segmenter_output(out_dir / "segmentations" / scan.scan_id, phantom, affine, grid)
        (out_dir / paths["labels"]).parent.mkdir(parents=True, exist_ok=True)
        nibabel.save(Image(grid.labels, affine, "label").to_nifti(), out_dir / paths["labels"])
        decay = float(np.exp(-np.log(2) * scan.hours_pi * 3600.0 / nuclide.half_life_s))
        voxel_ml = voxel**3 / 1000.0
        truth = _truth_rows(grid.labels, activity, suv, names, voxel_ml,
                            {f.label: f.volume_voxels * voxel_ml for f in fractions})
        if fractions:
            _write_fractions(out_dir, scan.scan_id, fractions, grid.labels.shape, affine)
        centres = pose.to_scan(np.asarray(phantom.lesion_centres).reshape(-1, 3)) if lesion_ids else []
        for scan_id, _, _ in versions:
            rows["vois"] += _voi_rows(scan_id, paths["labels"], phantom, pose, lesion_ids, sites)
            rows["poses"].append({"scan_id": scan_id, "patient_id": pid, "day": scan.day, **pose.row()})
            for lid, centre, diameter in zip(lesion_ids, centres, lesions["baseline_diameter_mm"]):
                x, y, z = centre
                rows["positions"].append({"scan_id": scan_id, "voi_id": lid, "x_mm": round(x, 2),
                                          "y_mm": round(y, 2), "z_mm": round(z, 2), "diameter_mm": diameter})
            for row in truth:
                rows["truth"].append({"patient_id": pid, "scan_id": scan_id, "day": scan.day,
                                      "hours_pi": scan.hours_pi, **row, "injected_bq": injected_bq,
                                      "weight_kg": weight_kg, "decay_factor": decay})
    return rows
