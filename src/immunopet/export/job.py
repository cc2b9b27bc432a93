"""One export task = one scan: rebuild its measured masks, write its SEG and SR next to each other.

The masks are rebuilt by the very code ``immunopet run`` measured them with
(:func:`immunopet.study.masks.build_masks` on the PET grid of :func:`immunopet.dicom.load_pet`'s
series reading and slice sorting) from inputs whose hashes equal the store's (checked before the
task is made), so the SEG holds the measured masks voxel for voxel. The PET's files are parsed once
(grid and slice headers together); its pixels are read only when a VOI needs SUV values to be built
(a seed or a threshold delineation). Files are written to a temporary name in the output folder and
renamed, so a reader never sees half an object and a failure leaves the previous export intact.
"""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from immunopet.errors import ImmunoPETError
from immunopet.image import Image

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportTask:
    """Everything a worker needs for one scan (picklable)."""

    scan: Any  # immunopet.study.worker.ScanTask of the scan (PET path, overrides, vois rows)
    patient_id: str
    study: str
    measured: list[dict]  # vois.csv rows of the VOIs the store measured, in vois.csv order
    values: dict[str, dict]  # voi_id -> the store's metrics
    day: float
    hours_pi: float | None
    order: int
    include_identifiers: bool
    out_dir: str
    uids: dict[str, str]  # seg_series, seg, sr_series, sr
    version: str
    parameters: dict[str, str]


@dataclass
class ExportResult:
    """What a worker hands back for one scan."""

    scan_id: str
    status: str  # "done" | "failed"
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # "seg"/"sr" -> path
    study_uid: str | None = None
    pet_series_uid: str | None = None
    seconds: float = 0.0


def _needs_suv(rows: list[dict]) -> bool:
    """Whether building these VOIs reads SUV values (seed or threshold delineation), not just the grid."""
    return any(row.get("source") == "seed" or row.get("delineation") for row in rows)


def _pet_grid(scan) -> tuple[Image, list]:  # noqa: ANN001 - a ScanTask
    """The PET grid (an all-zero SUV image) and the slice headers in grid order, pixels never read.

    The series is chosen and its slices sorted by the same functions :func:`immunopet.dicom.load_pet`
    uses, so the grid (and every mask built on it) is the measured one.
    """
    from immunopet.dicom.frames import frames_of
    from immunopet.dicom.geometry import build_grid
    from immunopet.dicom.volume import malformed_as_error, read_series

    with malformed_as_error(scan.pet):
        items, _ = read_series(scan.pet, series_uid=scan.series_uid)
        frames = [frame for file, ds in items for frame in frames_of(ds, file)]
        grid = build_grid(frames)
    first = grid.frames[0].ds
    meta = {"frame_of_reference_uid": first.get("FrameOfReferenceUID") or None,
            "files": list(dict.fromkeys(f.file for f in grid.frames))}
    zeros = np.broadcast_to(np.float32(0.0), grid.shape)
    return Image(zeros, grid.affine, "SUV", meta), [f.ds for f in grid.frames]


def _pet_suv(scan) -> tuple[Image, list]:  # noqa: ANN001 - a ScanTask
    """The PET in the study's SUV and the slice headers in grid order, every file parsed once.

    Read as :func:`immunopet.study.worker.load_scan_pet` reads a DICOM PET (the same series reading,
    slice sorting and overrides); its half-life check passed in the run whose results are exported.
    """
    from immunopet.dicom import SuvOverrides
    from immunopet.dicom.pet import convert_in_place
    from immunopet.dicom.volume import read_volume

    volume = read_volume(scan.pet, series_uid=scan.series_uid)
    headers = [f.ds for f in volume.frames]
    overrides = SuvOverrides(**scan.overrides) if scan.overrides else None
    return convert_in_place(volume, scan.suv_type, overrides=overrides)[0], headers  # one volume in memory


def _write(ds, path: Path) -> None:
    """Write ``ds`` to ``path`` through a temporary file in the same folder and a rename."""
    from immunopet.atomic import atomic_write
    from immunopet.dicom.dataset_writer import write_file

    atomic_write(path, lambda partial: write_file(ds, partial))  # the bytes of pydicom's save_as, faster


def _run(task: ExportTask) -> ExportResult:
    from immunopet.errors import StudyError
    from immunopet.export.identity import Privacy, source_stand_ins
    from immunopet.export.seg import build_seg, segment_specs
    from immunopet.export.sr import TimePoint, build_sr
    from immunopet.study.masks import build_masks

    scan = task.scan
    if scan.pet.lower().endswith((".nii", ".nii.gz")):
        raise StudyError("the PET is a NIfTI volume: a DICOM SEG and SR need the PET's DICOM series to refer to",
                         file=scan.pet, attribute="pet", fix="give the DICOM series folder in scans.csv and run again")
    suv, headers = _pet_suv(scan) if _needs_suv(task.measured) else _pet_grid(scan)
    files = list(suv.meta.get("files") or [])
    if len(files) != suv.shape[2]:
        raise StudyError(f"the PET series has {len(files)} file(s) for {suv.shape[2]} slices: "
                         "only single-frame PET series are exported", file=scan.pet, attribute="NumberOfFrames (0028,0008)",
                         fix="convert the series to single-frame images")
    masks, failures = build_masks(task.measured, suv, root=Path(scan.root))
    missing = [row["voi_id"] for row in task.measured if row["voi_id"] not in masks]
    if missing:
        reasons = "; ".join(f"{v}: {failures.get(v, 'not built')}" for v in missing)
        raise StudyError(f"VOI(s) measured before cannot be built again ({reasons})", file=scan.pet,
                         fix="run `immunopet run` on the study, then export again")
    privacy = Privacy(task.include_identifiers, task.study, task.patient_id, scan.scan_id, task.hours_pi)
    sources = source_stand_ins(headers, privacy)
    specs = segment_specs(task.measured, task.study, task.patient_id)
    seg = build_seg(sources, specs, masks, privacy=privacy, series_uid=task.uids["seg_series"], sop_uid=task.uids["seg"],
                    version=task.version, parameters=task.parameters)
    sr = build_sr(sources, seg, specs, task.values, privacy=privacy,
                  when=TimePoint(task.day, task.hours_pi, task.order), suv_type=task.parameters["suv_type"],
                  series_uid=task.uids["sr_series"], sop_uid=task.uids["sr"], version=task.version,
                  parameters=task.parameters)
    folder = Path(task.out_dir) / scan.scan_id
    written = {"seg": folder / "seg.dcm", "sr": folder / "sr.dcm"}
    _write(seg, written["seg"])
    _write(sr, written["sr"])
    return ExportResult(scan.scan_id, "done", files={k: str(v) for k, v in written.items()},
                        study_uid=str(sources[0].StudyInstanceUID), pet_series_uid=str(sources[0].SeriesInstanceUID))


def export_scan(task: ExportTask) -> ExportResult:
    """Export one scan; never raises for bad input: a failing scan comes back with ``status="failed"``."""
    started = time.perf_counter()
    try:
        result = _run(task)
    except ImmunoPETError as error:
        result = ExportResult(task.scan.scan_id, "failed", str(error))
    except Exception as error:  # a bug or an unreadable file: recorded, the other scans go on
        log.debug("export of scan %s failed:\n%s", task.scan.scan_id, traceback.format_exc())
        result = ExportResult(task.scan.scan_id, "failed", f"{error.__class__.__name__}: {error}")
    result.seconds = time.perf_counter() - started
    return result
