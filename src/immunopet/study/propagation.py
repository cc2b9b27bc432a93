"""VOIs drawn once: ``vois.csv`` rows with ``patient_id`` + ``drawn_on`` measured on every scan.

- :func:`expand_drawn_once` (at load): each such row becomes one row per scan of the patient, with
  ``scan_id`` set and ``drawn_on`` kept; a row given for that scan and ``voi_id`` explicitly wins.
  The row also carries ``transforms``, the hashes of the two registrations involved, so a new
  transform re-measures the scan.
- :func:`propagated_base` (at measurement): the VOI on the scan's PET grid through the stored
  transforms (``registration/``, written by ``immunopet register``): spheres and seeds by their
  mapped centre, masks (``mask``, ``segmenter``; ``rtstruct`` and ``seg`` first rasterised on the PET
  grid of the scan they were drawn on) by resampling (:mod:`immunopet.voi.propagate`);
  ``segmenter-rules`` rows take the organ VOI of :mod:`immunopet.voi.organ_rules` named by their
  ``voi_id`` from the segmenter folder in ``path`` (of the CT of ``drawn_on``, or of the row's own
  scan), then map it the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.study.masks import cell_given
from immunopet.study.problems import Problem

#: Sources that can be drawn once.
DRAWN_ONCE_SOURCES = ("mask", "rtstruct", "seg", "segmenter", "segmenter-rules", "sphere", "seed")
#: Sources rasterised on the PET grid of the scan they were drawn on before they are mapped (an
#: RTSTRUCT holds contours in mm, a SEG frames that refer to that scan): their expanded rows carry that
#: scan's PET (``drawn_pet``, ``drawn_series_uid``).
DRAWN_ON_GRID_SOURCES = ("rtstruct", "seg")


def has_drawn_once(vois: pd.DataFrame) -> bool:
    return "drawn_on" in vois and bool(vois["drawn_on"].map(cell_given).any())


def expand_drawn_once(vois: pd.DataFrame, scans: pd.DataFrame, file: str, *,
                      root: Path | None = None) -> tuple[pd.DataFrame, list[Problem]]:
    """Per-scan rows for the drawn-once rows of ``vois`` (see module docstring) and their problems."""
    if vois.empty or not has_drawn_once(vois):
        return vois, []
    from immunopet.study.registration_store import read_records

    records = read_records(root) if root is not None else {}
    problems: list[Problem] = []
    once = vois[vois["drawn_on"].map(cell_given)]
    explicit = vois[~vois["drawn_on"].map(cell_given)]
    taken = set(zip(explicit["scan_id"], explicit["voi_id"], strict=True))
    patient_of = dict(zip(scans["scan_id"], scans["patient_id"], strict=True))
    pet_of = dict(zip(scans["scan_id"], scans["pet"], strict=True)) if "pet" in scans else {}
    uid_of = dict(zip(scans["scan_id"], scans["pet_series_uid"], strict=True)) if "pet_series_uid" in scans else {}
    on_grid = False
    expanded = []
    for row in once.to_dict("records"):
        if patient_of.get(row["drawn_on"]) != row["patient_id"]:
            where = "is not in scans.csv" if row["drawn_on"] not in patient_of else f"is a scan of {patient_of[row['drawn_on']]!r}"
            problems.append(Problem(file, row["_row"], "drawn_on",
                                    f"{row['drawn_on']!r} {where}; drawn_on names a scan of patient {row['patient_id']!r}"))
            continue
        if row["source"] not in DRAWN_ONCE_SOURCES:
            problems.append(Problem(file, row["_row"], "source",
                                    f"source {row['source']!r} cannot be drawn once; use {', '.join(DRAWN_ONCE_SOURCES)} "
                                    "or give the VOI per scan (scan_id)"))
            continue
        for scan_id in scans.loc[scans["patient_id"] == row["patient_id"], "scan_id"]:
            if (scan_id, row["voi_id"]) in taken:
                continue  # a per-day row overrides
            hashes = [str((records.get(s) or {}).get("input_hash")) for s in (row["drawn_on"], scan_id)]
            item = {**row, "scan_id": scan_id, "transforms": "|".join(hashes)}
            if row["source"] in DRAWN_ON_GRID_SOURCES:
                on_grid = True
                item.update(drawn_pet=pet_of.get(row["drawn_on"]), drawn_series_uid=uid_of.get(row["drawn_on"]))
            expanded.append(item)
    # the two columns only when needed: every other study's rows (and their hashes) stay as they were
    columns = [*vois.columns, "transforms", *(["drawn_pet", "drawn_series_uid"] if on_grid else [])]
    out = pd.concat([explicit, pd.DataFrame(expanded, columns=columns)], ignore_index=True)
    return out.sort_values(["_row", "scan_id"], kind="stable").reset_index(drop=True), problems


#: What one scan's mask building reads once for all its rows (registration records, transforms, folder
#: fingerprints), by key; made per scan by :func:`immunopet.study.masks.build_masks`.
Memo = dict[tuple[str, ...], Any]


def _once(memo: Memo, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
    """``memo[key]``, computed on first use."""
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _transforms(root: Path, drawn_on: Any, scan_id: str, memo: Memo) -> tuple[Any, Any]:
    """Transforms of the scan a VOI was drawn on and of the scan it is measured on (identity: same scan)."""
    if not cell_given(drawn_on) or drawn_on == scan_id:
        import SimpleITK as sitk

        identity = sitk.Transform(3, sitk.sitkIdentity)
        return identity, identity
    from immunopet.study.registration import transform_of
    from immunopet.study.registration_store import read_records

    records = _once(memo, ("records",), lambda: read_records(root))  # registration.json read once per scan
    return _once(memo, ("transforms", str(drawn_on), str(scan_id)), lambda: (
        transform_of(root, drawn_on, records=records), transform_of(root, scan_id, records=records)))


@lru_cache(maxsize=4)
def _organ_vois(folder: str, stamp: str, rules_json: str) -> dict[str, Any]:
    import json

    from immunopet.voi.organ_rules import OrganRules, organ_vois

    return {v.voi_id: v for v in organ_vois(folder, OrganRules.from_mapping(json.loads(rules_json)))}


def _rule_voi(row: Mapping[str, Any], root: Path, memo: Memo) -> Any:
    """The organ VOI ``voi_id`` derived by the segmenter rules from the row's folder."""
    from immunopet.study.fingerprint import canonical_json, fingerprint_folder

    folder = root / row["path"]  # an absolute path stays as it is
    if not folder.is_dir():
        raise VOIError("segmenter output folder not found", file=folder, attribute="path")
    stamp = _once(memo, ("fingerprint", str(folder)), lambda: fingerprint_folder(folder))
    vois = _organ_vois(str(folder), stamp, canonical_json(row.get("organ_rules") or {}))
    if row["voi_id"] not in vois:
        raise VOIError(f"the segmenter rules give no VOI {row['voi_id']!r} (they give {', '.join(vois)})",
                       file=folder, attribute="voi_id")
    return vois[row["voi_id"]]


def propagated_row(row: Mapping[str, Any], root: Path, memo: Memo) -> dict[str, Any]:
    """A sphere or seed row with its centre mapped onto the row's scan."""
    from immunopet.voi.propagate import map_centre

    drawn, target = _transforms(root, row["drawn_on"], row["scan_id"], memo)
    x, y, z = map_centre((row["x_mm"], row["y_mm"], row["z_mm"]), drawn=drawn, target=target)
    return {**row, "x_mm": x, "y_mm": y, "z_mm": z}


def propagated_base(row: Mapping[str, Any], suv: Image, root: Path, memo: Memo) -> Callable[[], np.ndarray]:
    """The function that builds the row's mask on ``suv``'s grid (for the study's mask builder;
    ``memo``: what the scan's other rows have read already)."""

    def build() -> np.ndarray:
        from immunopet.voi import sphere_mask
        from immunopet.voi.propagate import map_centre, map_mask

        if row["source"] == "segmenter-rules":
            rule = _rule_voi(row, root, memo)
            drawn, target = _transforms(root, row.get("drawn_on"), row["scan_id"], memo)
            if rule.kind == "sphere":
                centre = map_centre(rule.centres_lps[0], drawn=drawn, target=target)
                return sphere_mask(suv, centre, volume_ml=rule.volume_ml, name=row["voi_id"])
            return map_mask(rule.image, suv, drawn=drawn, target=target).array
        if row["source"] == "sphere":
            mapped = propagated_row(row, root, memo)
            diameter = mapped["diameter_mm"] if cell_given(mapped["diameter_mm"]) else None
            return sphere_mask(suv, (mapped["x_mm"], mapped["y_mm"], mapped["z_mm"]), diameter_mm=diameter,
                               volume_ml=None if diameter is not None else mapped["volume_ml"], name=row["voi_id"])
        drawn, target = _transforms(root, row["drawn_on"], row["scan_id"], memo)
        mask = _drawn_mask(row, root)
        return map_mask(mask, suv, drawn=drawn, target=target).array

    return build


@lru_cache(maxsize=2)
def _pet_grid(pet: str, series_uid: str | None, stamp: str) -> Image:
    """The PET grid of a scan (headers only; ``stamp`` = the files' fingerprint, so a changed PET is read again)."""
    if pet.lower().endswith((".nii", ".nii.gz")):
        return Image.from_nifti(pet, units="SUV")
    from immunopet.dicom.volume import read_headers

    return read_headers(pet, series_uid=series_uid).image


def _drawn_on_grid(row: Mapping[str, Any], path: Path, root: Path) -> Image:
    """An RTSTRUCT or SEG VOI rasterised on the PET grid of the scan it was drawn on."""
    from immunopet.study.fingerprint import hash_path
    from immunopet.study.masks import read_file_source

    if not cell_given(row.get("drawn_pet")):
        raise VOIError(f"the PET of scan {row['drawn_on']!r} is not known", attribute="drawn_on")
    pet = root / str(row["drawn_pet"])
    series_uid = str(row["drawn_series_uid"]) if cell_given(row.get("drawn_series_uid")) else None
    grid = _pet_grid(str(pet), series_uid, hash_path(pet))
    labels = [row["label"]] if cell_given(row["label"]) else []
    mask = next(iter(read_file_source(row["source"], path, grid, labels).values()))
    return grid.with_array(np.asarray(mask, dtype=bool), units="mask")


def _drawn_mask(row: Mapping[str, Any], root: Path) -> Image:
    """The mask as drawn (its own grid, the drawn scan's frame)."""
    path = root / row["path"]  # an absolute path stays as it is
    if row["source"] in DRAWN_ON_GRID_SOURCES:
        return _drawn_on_grid(row, path, root)
    if row["source"] == "segmenter":
        from immunopet.voi.segmenter import organ_files

        files = organ_files(path)
        if str(row["label"]) not in files:
            raise VOIError(f"organ {row['label']!r} not in the segmenter folder", file=path, attribute="label")
        path = files[str(row["label"])]
        label = None
    else:
        label = row["label"] if cell_given(row["label"]) else None
    image = Image.from_nifti(str(path), dtype=None)
    selected = image.array > 0 if label is None else image.array == int(float(str(label)))
    if not selected.any():
        raise VOIError(f"label {label!r} is empty in the mask file", file=path, attribute="label")
    return image.with_array(selected, units="mask")
