"""``vois.csv`` rows -> masks on the PET grid (through the VOI package's sources).

Rows sharing one file (a label map, an RTSTRUCT, a SEG, a segmenter folder) are read in one call;
if that call fails, each row is tried alone so that the failure is pinned to the VOIs it concerns.
A VOI that cannot be built (outside the field of view, label absent, empty on the PET grid) is
returned as a failure with its reason; the others are still built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from immunopet.errors import ImmunoPETError, VOIError
from immunopet.image import Image

if TYPE_CHECKING:
    from immunopet.study.propagation import Memo

FILE_SOURCES = ("mask", "rtstruct", "seg", "segmenter")


def cell_given(value: Any) -> bool:
    """Whether a table cell holds a value (not None, NaN or empty)."""
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and value != ""


def label_key(label: Any) -> int | str:
    """A vois.csv ``label`` cell as a label number, or the name it is (``'7'`` and ``'7.0'`` -> 7)."""
    text = str(label).strip()
    try:
        return int(float(text))
    except (ValueError, OverflowError):
        return text


def read_file_source(source: str, path: Path, grid: Image, labels: Sequence[Any]) -> dict[str, np.ndarray]:
    """Masks of ``labels`` (as written in vois.csv; empty list = the file's only VOI) from one file."""
    from immunopet.voi import masks_from_nifti, masks_from_rtstruct, masks_from_seg, masks_from_segmenter

    keys = [label_key(label) for label in labels]
    if source == "mask":
        if not keys:
            found = masks_from_nifti(path, grid)
        elif all(isinstance(k, int) for k in keys):
            named = masks_from_nifti(path, grid, labels={k: str(k) for k in keys})
            return {str(label): named[str(k)] for label, k in zip(labels, keys, strict=True)}
        else:
            found = masks_from_nifti(path, grid)
    elif source == "rtstruct":
        found = masks_from_rtstruct(path, grid, roi_names=[str(k) for k in keys])
    elif source == "seg":
        found = masks_from_seg(path, grid, segments=keys or None)
    else:
        found = masks_from_segmenter(path, grid, organs=[str(k) for k in keys])
    if not keys:
        if len(found) != 1:
            raise VOIError(f"the file holds {len(found)} VOIs ({', '.join(found)}); say which one",
                           file=path, attribute="label", fix="give the label column")
        return {"": next(iter(found.values()))}
    return {str(label): _pick(found, label, path) for label in labels}


def _pick(found: Mapping[str, np.ndarray], label: Any, path: Path) -> np.ndarray:
    text = str(label).strip()
    if text in found:
        return found[text]
    folded = {k.lower(): v for k, v in found.items()}
    if text.lower() in folded:
        return folded[text.lower()]
    if len(found) == 1:  # asked for one segment by number, got it under its name
        return next(iter(found.values()))
    raise VOIError(f"label {text!r} not found (the file has {', '.join(found)})", file=path, attribute="label")


def _geometric(row: Mapping[str, Any], grid: Image) -> np.ndarray:
    from immunopet.voi import sphere_mask

    centre = (row["x_mm"], row["y_mm"], row["z_mm"])
    if row["source"] == "sphere":
        diameter = row["diameter_mm"] if cell_given(row["diameter_mm"]) else None
        volume = None if diameter is not None else row["volume_ml"]
        return sphere_mask(grid, centre, diameter_mm=diameter, volume_ml=volume, name=row["voi_id"])
    return np.zeros(grid.shape, dtype=bool)  # seed: the region is found by delineation


def _refine(row: Mapping[str, Any], mask: np.ndarray, suv: Image) -> np.ndarray:
    """Apply the row's delineation (always for a seed; for a mask when the row asks)."""
    from immunopet.voi import delineate

    method = row["delineation"] if cell_given(row["delineation"]) else "pct_max"
    threshold = row["threshold"] if cell_given(row["threshold"]) else None
    if row["source"] == "seed":
        seed = (row["x_mm"], row["y_mm"], row["z_mm"])
        options = {"search_mm": float(row["diameter_mm"])} if cell_given(row["diameter_mm"]) else {}
        return delineate(suv, seed_lps=seed, method=method, threshold=threshold, **options)
    if cell_given(row["delineation"]):
        return delineate(suv, within=mask, method=method, threshold=threshold)
    return mask


def _drawn_elsewhere(row: Mapping[str, Any]) -> bool:
    """A VOI drawn once on another scan of the patient, or derived by the segmenter rules."""
    return row["source"] == "segmenter-rules" or (cell_given(row.get("drawn_on")) and row["drawn_on"] != row["scan_id"])


def _propagated(row: Mapping[str, Any], suv: Image, root: Path, memo: Memo) -> np.ndarray:
    from immunopet.study.propagation import propagated_base, propagated_row

    if row["source"] == "seed":  # the seed's centre is mapped; the lesion is delineated on this scan
        return _refine(propagated_row(row, root, memo), np.zeros(suv.shape, dtype=bool), suv)
    return _refine(row, np.asarray(propagated_base(row, suv, root, memo)(), dtype=bool), suv)


def _attempt(voi_id: str, build: Callable[[], np.ndarray], masks: dict, failures: dict) -> None:
    try:
        mask = build()
        if not np.any(mask):
            raise VOIError("the VOI holds no voxel of the PET grid", attribute="voi_id")
        masks[voi_id] = mask
    except ImmunoPETError as error:
        failures[voi_id] = str(error)
    except (ValueError, OSError, KeyError, IndexError) as error:  # unreadable files and the like
        failures[voi_id] = f"{error.__class__.__name__}: {error}"


def build_masks(
    rows: Sequence[Mapping[str, Any]], suv: Image, *, root: Path
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Masks of ``rows`` (vois.csv rows of one scan) on ``suv``'s grid.

    Returns
    -------
    (dict, dict)
        ``voi_id -> bool mask`` in the order of ``rows``, and ``voi_id -> reason`` of the VOIs that
        could not be built.
    """
    masks: dict[str, np.ndarray] = {}
    failures: dict[str, str] = {}
    shared: dict[tuple[str, Path], dict[str, np.ndarray]] = {}
    memo: Memo = {}  # what the rows drawn elsewhere share: registration records, transforms, fingerprints
    groups: dict[tuple[str, Path], list[Any]] = {}
    for row in rows:
        if row["source"] in FILE_SOURCES and not _drawn_elsewhere(row):
            path = root / row["path"]  # an absolute path stays as it is
            groups.setdefault((row["source"], path), []).append(row["label"] if cell_given(row["label"]) else None)
    for (source, path), labels in groups.items():
        if len(labels) > 1 and all(label is not None for label in labels):
            try:
                shared[(source, path)] = read_file_source(source, path, suv, labels)
            except (ImmunoPETError, ValueError, OSError, KeyError):
                pass  # each row is tried alone below, to name the failing ones
    for row in rows:
        voi_id = row["voi_id"]
        if _drawn_elsewhere(row):
            _attempt(voi_id, lambda row=row: _propagated(row, suv, root, memo), masks, failures)
            continue
        if row["source"] in FILE_SOURCES:
            path = root / row["path"]  # an absolute path stays as it is
            label = row["label"] if cell_given(row["label"]) else None
            cached = shared.get((row["source"], path), {})
            key = "" if label is None else str(label)

            def base(row=row, path=path, label=label, cached=cached, key=key) -> np.ndarray:
                if key in cached:
                    return cached[key]
                return read_file_source(row["source"], path, suv, [] if label is None else [label])[key]
        else:
            def base(row=row) -> np.ndarray:
                return _geometric(row, suv)
        _attempt(voi_id, lambda row=row, base=base: _refine(row, np.asarray(base(), dtype=bool), suv), masks, failures)
    return masks, failures


def build_scan_masks(study: Any, scan_id: str, pet: Any) -> dict[str, np.ndarray]:
    """The VOI masks of one scan of ``study`` on the PET grid (e.g. for VOI outlines in a report).

    Parameters
    ----------
    study
        A :class:`~immunopet.study.Study`.
    scan_id
        A scan of ``scans.csv``.
    pet
        The scan's :class:`~immunopet.dicom.PetScan` (its SUV of the study's kind is used for seed
        delineation), or an SUV :class:`~immunopet.image.Image`.

    Returns
    -------
    dict
        ``voi_id -> bool mask``; VOIs that cannot be built are left out with a logged warning.
    """
    import logging

    study.scan(scan_id)  # raises StudyError for an unknown scan
    suv = pet.suv(study.config.suv_type) if callable(getattr(pet, "suv", None)) else pet
    rows = study.scan_vois(scan_id).drop(columns="_row").to_dict("records")
    masks, failures = build_masks(rows, suv, root=study.root)
    for voi_id, reason in failures.items():
        logging.getLogger(__name__).warning("scan %s, VOI %s left out: %s", scan_id, voi_id, reason)
    return masks
