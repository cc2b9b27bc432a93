"""The volumes of one scan as the browser needs them, built once and cached in the study folder.

For a scan: ``pet.nii`` (SUV, float32, the run's own SUV factor), ``ct.nii`` (HU resampled onto the
PET grid, float32; absent without CT), ``labels.nii`` (uint16 VOI label map on the PET grid: label
``n`` is the n-th entry of ``meta.json``'s ``vois``), ``mip.png`` (coronal maximum-intensity
projection) and ``meta.json`` (per VOI: label, kind, hottest voxel as index, LPS and RAS mm, and the
SUV there). The folder is ``STUDY/.viewer-cache/<key>/`` where ``key`` hashes the store's input hash
of the scan (PET, scan row, patient size, VOIs, masks) with the SUV factor and this format's version,
so an edited input gives a new entry. Files are written to a temporary folder and renamed into place.
NIfTI headers carry geometry and units only (no names, UIDs or dates).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from immunopet.image import Image
from immunopet.view.catalog import ScanEntry

log = logging.getLogger(__name__)

CACHE_DIR = ".viewer-cache"
FORMAT_VERSION = "1"
#: how many scans' cache folders are kept on disk (least recently used are removed)
MAX_CACHED_SCANS = 200
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()
_foreground_builds = 0  # requests building right now (guarded by _LOCKS_GUARD); the prefetch waits for 0
PREFETCH_DELAY_S = 1.0
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0])


@dataclass(frozen=True)
class ScanVolumes:
    """Paths of one scan's cached files and its VOI metadata."""

    folder: Path
    meta: dict[str, Any]

    def file(self, name: str) -> Path | None:
        path = self.folder / name
        return path if path.is_file() else None


def cache_key(scan: ScanEntry) -> str:
    text = json.dumps([FORMAT_VERSION, scan.input_hash, scan.suv_factor, str(scan.pet), str(scan.ct)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def scan_volumes(study: Any, scan: ScanEntry, *, background: bool = False, ct_reader: Any = None) -> ScanVolumes:
    """The cached volumes of ``scan`` (built on first use; concurrent requests build once).

    A request (``background=False``) goes first: the prefetch thread waits while one is building.
    With ``ct_reader`` (a :class:`~immunopet.view.ct_reader.CTReader`) a request reads the CT in its
    helper process while the PET is read here.
    """
    global _foreground_builds
    if background:
        return _cached_or_built(study, scan, None)
    with _LOCKS_GUARD:
        _foreground_builds += 1
    try:
        return _cached_or_built(study, scan, ct_reader)
    finally:
        with _LOCKS_GUARD:
            _foreground_builds -= 1


def foreground_busy() -> bool:
    with _LOCKS_GUARD:
        return _foreground_builds > 0


def _cached_or_built(study: Any, scan: ScanEntry, ct_reader: Any) -> ScanVolumes:
    root = Path(study.root)
    key = cache_key(scan)
    folder = root / CACHE_DIR / key
    with _lock(key):
        meta_file = folder / "meta.json"
        if not meta_file.is_file():
            _build(study, scan, folder, ct_reader)
            _prune(root / CACHE_DIR)
        os.utime(folder)
        return ScanVolumes(folder, json.loads(meta_file.read_text()))


def _prune(cache: Path) -> None:
    entries = sorted((p for p in cache.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime)
    for old in entries[:-MAX_CACHED_SCANS]:
        shutil.rmtree(old, ignore_errors=True)


def hottest_voxels(suv: Image, masks: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per VOI: the voxel of its highest SUV (first in array order on ties) in index, LPS and RAS mm."""
    values = np.ascontiguousarray(suv.array, dtype=np.float32)  # one C-ordered copy, flat indices below
    flat_values = values.ravel()
    found = []
    for voi_id, mask in masks.items():
        inside = np.flatnonzero(np.ascontiguousarray(mask, dtype=bool))
        if inside.size == 0:
            continue
        finite = np.nan_to_num(flat_values[inside], nan=-np.inf)
        flat = inside[int(np.argmax(finite))]
        ijk = np.array(np.unravel_index(flat, values.shape))
        lps = suv.index_to_world(ijk[None, :].astype(float))[0]
        found.append({
            "voi_id": voi_id, "ijk": [int(v) for v in ijk], "lps_mm": [float(v) for v in lps],
            "ras_mm": [float(v) for v in LPS_TO_RAS @ lps], "suv": float(flat_values[flat]),
        })
    return found


def _build(study: Any, scan: ScanEntry, folder: Path, ct_reader: Any = None) -> None:
    import nibabel

    from immunopet.report.imaging import ScanImageJob, ct_image_on_grid, load_suv
    from immunopet.study import build_scan_masks
    from immunopet.view.ct_reader import read_ct

    ct_read = None if scan.ct is None or ct_reader is None else ct_reader.submit(str(scan.ct))

    job = ScanImageJob(scan.scan_id, scan.day, str(scan.pet), scan.series_uid, scan.suv_factor,
                       None if scan.ct is None else str(scan.ct))
    suv = load_suv(job)
    built = build_scan_masks(study, scan.scan_id, suv)
    masks = built[0] if isinstance(built, tuple) else built
    masks = {name: np.asarray(getattr(m, "array", m), dtype=bool) for name, m in masks.items()}
    kinds = dict(zip(study.vois["voi_id"].astype(str), study.vois["kind"].astype(str), strict=False))
    labels = np.zeros(suv.shape, dtype=np.uint16)
    hottest = hottest_voxels(suv, masks)
    for number, entry in enumerate(hottest, start=1):
        labels[masks[entry["voi_id"]] & (labels == 0)] = number
        entry.update(label=number, kind=kinds.get(entry["voi_id"], "organ"))
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    try:
        nibabel.save(suv.with_array(np.asarray(suv.array, dtype=np.float32)).to_nifti(), work / "pet.nii")
        nibabel.save(suv.with_array(labels).to_nifti(), work / "labels.nii")
        if scan.ct is not None:
            try:
                image = read_ct(str(scan.ct)) if ct_read is None else ct_reader.result(ct_read, str(scan.ct))
                ct = ct_image_on_grid(image, suv).astype(np.float32)
                nibabel.save(suv.with_array(ct, units="HU").to_nifti(), work / "ct.nii")
            except Exception as error:  # noqa: BLE001 - a bad CT leaves the PET viewable; said in meta
                log.warning("%s: CT not shown: %s", scan.scan_id, error)
        _write_mip(suv, work / "mip.png")
        finite = np.asarray(suv.array)[np.isfinite(suv.array)]
        meta = {
            "scan_id": scan.scan_id, "day": scan.day, "shape": list(suv.shape),
            "spacing_mm": [float(v) for v in suv.spacing], "has_ct": (work / "ct.nii").is_file(),
            "suv_p99": float(np.percentile(finite, 99.5)) if finite.size else 1.0,
            "suv_max": float(finite.max()) if finite.size else 1.0, "vois": hottest,
        }
        (work / "meta.json").write_text(json.dumps(meta))
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_mip(suv: Image, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    from immunopet.projection import projections

    proj = projections(suv)
    coronal = proj.coronal.T[::-1]  # rows: superior at the top; columns: patient's right on the left
    vmax = float(np.percentile(coronal, 99.5)) or 1.0
    pyplot.imsave(path, coronal, cmap="gray_r", vmin=0.0, vmax=vmax)


class Prefetcher:
    """Builds scans' volumes in one background thread, so the next day a user clicks is already cached.

    :meth:`warm_up` imports the reading and resampling libraries ahead of the first request;
    :meth:`patient` queues every scan of a patient (the one asked for first is built on request).
    One thread: a viewer must not take the cores of a machine a physician is working on.
    """

    def __init__(self, study: Any) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.study = study
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="immunopet-view-prefetch")
        self.queued: set[str] = set()
        self.futures: list = []  # jobs not yet done, for close(wait_seconds)
        self._warm = None

    def warm_up(self) -> None:
        self._warm = self.pool.submit(_import_readers)
        self.futures.append(self._warm)

    def wait_warm(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until :meth:`warm_up` has imported the readers."""
        from concurrent.futures import wait

        if self._warm is not None:
            wait([self._warm], timeout=timeout)

    def patient(self, scans: list[ScanEntry]) -> None:
        self.futures = [f for f in self.futures if not f.done()]
        for scan in scans:
            if scan.scan_id not in self.queued and scan.status == "done":
                self.queued.add(scan.scan_id)
                self.futures.append(self.pool.submit(self._quietly, scan))

    def _quietly(self, scan: ScanEntry) -> None:
        import time

        time.sleep(PREFETCH_DELAY_S)  # let the page ask for the scan it shows first
        while foreground_busy():
            time.sleep(0.05)
        try:
            scan_volumes(self.study, scan, background=True)
        except Exception as error:  # noqa: BLE001 - a bad scan is reported when it is asked for
            log.debug("prefetch of %s failed: %s", scan.scan_id, error)

    def close(self, wait_seconds: float = 0.0) -> None:
        """Cancel what is queued; with ``wait_seconds``, also wait up to that long for the scan being built."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        if wait_seconds > 0:
            from concurrent.futures import wait

            wait(self.futures, timeout=wait_seconds)


def _import_readers() -> None:
    import matplotlib  # noqa: F401
    import nibabel  # noqa: F401
    import scipy.ndimage  # noqa: F401
    import SimpleITK  # noqa: F401

    import immunopet.dicom.pet  # noqa: F401
    import immunopet.report.imaging  # noqa: F401
    import immunopet.projection  # noqa: F401
    import immunopet.study.masks  # noqa: F401
    import immunopet.voi.labelmap  # noqa: F401
    import immunopet.voi.nifti_masks  # noqa: F401
