"""The MIPs ``immunopet run`` keeps for each measured scan (``results/projections/<scan_id>.npz``).

The worker projects the SUV volume it measured (:func:`immunopet.projection.projections`); the run
keeps the projections with the key of what they were made from (:func:`immunopet.projection.projection_key`:
the PET files' fingerprint the store holds, the stored SUV factor, the software version), so the
report can draw the MIPs of every scan without reading its PET series again. The file is a cache: a
scan whose file is missing, damaged or made from other inputs is projected from its DICOM again.
Scan ids are safe file names (:mod:`immunopet.study.limits`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from immunopet.projection import PROJECTIONS_DIR, Projections, projection_key, save_projections
from immunopet.study.exports import RESULTS_DIR

log = logging.getLogger(__name__)


def projection_file(study_root: Path, scan_id: str) -> Path:
    """Where the projections of ``scan_id`` are kept."""
    return Path(study_root) / RESULTS_DIR / PROJECTIONS_DIR / f"{scan_id}.npz"


def keep(study_root: Path, scan_id: str, proj: Projections | None, *, pet_hash: str, suv_factor: float | None,
         version: str) -> None:
    """Keep a measured scan's projections; a file that cannot be written is logged, never fatal."""
    path = projection_file(study_root, scan_id)
    if proj is None:
        path.unlink(missing_ok=True)
        return
    try:
        save_projections(path, proj, projection_key(pet_hash, suv_factor, version))
    except OSError as error:
        log.warning("%s: MIPs not kept (%s); the report reads the PET series again", path, error)


def forget(study_root: Path, scan_ids: Iterable[str]) -> None:
    """Remove the kept projections of scans that left the study or failed."""
    for scan_id in scan_ids:
        try:
            projection_file(study_root, scan_id).unlink(missing_ok=True)
        except OSError as error:
            log.warning("kept MIPs of %s not removed (%s)", scan_id, error)
