"""One table row per VOI: every uptake metric of docs/metrics.md from an SUV image and masks."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.metrics import activity_metrics, intensity_statistics, ratios_to_blood, volume_ml
from immunopet.voi.peak import PEAK_DIAMETER_MM, peaks

log = logging.getLogger(__name__)

COLUMNS = [
    "voi_id", "suv_max", "suv_peak", "suv_peak_local", "suv_mean", "suv_median", "suv_sd", "suv_min",
    "suv_p05", "suv_p25", "suv_p75", "suv_p95", "volume_ml", "n_voxels", "tlu", "mean_bqml", "pct_id",
    "tbr_max", "tbr_peak", "tbr_mean",
]


def flat_nonzero_bool(mask: np.ndarray) -> np.ndarray:
    """``np.flatnonzero`` of a boolean 3-D mask, scanning only the slab of first-axis rows it touches."""
    block = np.ascontiguousarray(mask).reshape(mask.shape[0], -1)
    words = block.view(np.uint64) if block.shape[1] % 8 == 0 else block
    rows = np.flatnonzero(words.any(axis=1))
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    first, last = rows[0], rows[-1]
    return np.flatnonzero(block[first : last + 1]) + first * block.shape[1]


def support_and_weights(mask: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Flat indices of the voxels with weight > 0 and their weights (None for a 0/1 mask)."""
    if mask.dtype == np.bool_:
        return flat_nonzero_bool(mask), None
    if not np.issubdtype(mask.dtype, np.number):
        raise VOIError(f"mask {name!r} has dtype {mask.dtype}; expected bool or fractions", attribute=name)
    flat = mask.ravel()
    idx = np.flatnonzero(flat)
    weights = flat[idx].astype(np.float64)
    if np.any(~np.isfinite(weights)) or np.any(weights < 0) or np.any(weights > 1):
        raise VOIError(f"mask {name!r} holds weights outside 0..1", attribute=name,
                       fix="pass a boolean mask or partial-volume fractions in 0..1")
    return idx, (None if np.all(weights == 1.0) else weights)


def measure_masks(
    suv: Image,
    masks: Mapping[str, np.ndarray],
    *,
    activity: Image | None = None,
    injected_bq: float | None = None,
    blood_pool: str | None = "blood_pool",
    peak_diameter_mm: float = PEAK_DIAMETER_MM,
    kinds: Mapping[str, str] | None = None,
    sites: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Uptake metrics per VOI (columns :data:`COLUMNS`, plus ``kind``/``site`` when given).

    Parameters
    ----------
    suv
        SUV image (any SUV kind; the metrics are in its units).
    masks
        VOI name -> mask on ``suv``'s grid (array or :class:`Image`): bool, or float partial-volume
        fractions in 0..1.
    activity
        Activity concentration image (Bq/mL) on the same grid, for ``mean_bqml`` and ``pct_id``.
    injected_bq
        Injected activity decayed to the image's reference time (Bq), for ``pct_id``.
    blood_pool
        Name of the VOI whose SUVmean is the reference of the tumour-to-blood ratios (NaN if absent).
    peak_diameter_mm
        Sphere diameter of both SUVpeaks (12.4 mm = 1 cm^3).
    kinds, sites
        Optional VOI name -> kind (organ/lesion) and site, copied into the table.

    Returns
    -------
    pandas.DataFrame
        One row per mask, in the order given; NaN where a metric cannot be computed. An empty mask
        gives a row of NaN (and n_voxels 0) with a logged warning.
    """
    if activity is not None and activity.shape != suv.shape:
        raise VOIError(f"activity image shape {activity.shape} differs from the SUV image {suv.shape}")
    values = np.ascontiguousarray(suv.array)  # one copy of a Fortran-ordered (NIfTI) array, not one per ravel
    values_flat = values.ravel()
    activity_flat = None if activity is None else activity.array.ravel()
    voxel_ml = suv.voxel_volume_ml
    supports = {}
    for name, mask in masks.items():
        if isinstance(mask, Image):
            if not mask.same_grid(suv):
                raise VOIError(f"mask {name!r} is on another grid than the image: map it onto the PET grid first",
                               attribute=name)
            mask = mask.array
        if mask.shape != suv.shape:
            raise VOIError(f"mask {name!r} has shape {mask.shape}, the image {suv.shape}: "
                           "map it onto the PET grid first",
                           attribute=name)
        supports[name] = support_and_weights(mask, name)
        if len(supports[name][0]) == 0:
            log.warning("VOI %r is empty: its metrics are left empty (NaN)", name)
    peak_values = peaks(values, suv.affine, [s[0] for s in supports.values()], diameter_mm=peak_diameter_mm)
    rows = []
    for (name, (idx, weights)), (peak_global, peak_local) in zip(supports.items(), peak_values):
        row: dict[str, object] = {"voi_id": name}
        if kinds is not None:
            row["kind"] = kinds.get(name)
        if sites is not None:
            row["site"] = sites.get(name)
        row.update(intensity_statistics(values_flat[idx], weights))
        row["suv_peak"], row["suv_peak_local"] = peak_global, peak_local
        row["n_voxels"] = int(len(idx))
        row["volume_ml"] = volume_ml(weights, len(idx), voxel_ml) if len(idx) else np.nan
        row["tlu"] = row["suv_mean"] * row["volume_ml"]
        activity_values = None if activity_flat is None else activity_flat[idx]
        row.update(activity_metrics(activity_values, weights, voxel_ml, injected_bq))
        rows.append(row)
    table = pd.DataFrame(rows)
    blood_mean = None
    if blood_pool is not None and blood_pool in masks:
        blood_mean = float(table.loc[table["voi_id"] == blood_pool, "suv_mean"].iloc[0])
    elif blood_pool is not None and blood_pool != "blood_pool":
        log.warning("blood-pool VOI %r not among the masks: tumour-to-blood ratios left empty", blood_pool)
    if len(table):
        ratios = [ratios_to_blood(r.suv_max, r.suv_peak, r.suv_mean, blood_mean) for r in table.itertuples()]
        table = pd.concat([table, pd.DataFrame(ratios, index=table.index)], axis=1)
    extra = [c for c in ("kind", "site") if c in table.columns]
    return table.reindex(columns=["voi_id", *extra, *COLUMNS[1:]])
