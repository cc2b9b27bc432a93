"""Volume assembly: the files of one series -> one float32 :class:`~immunopet.image.Image`.

Each slice's own RescaleSlope and RescaleIntercept are applied to that slice (PET scanners write
one slope per slice; SimpleITK's series reader applies the first slice's slope to all, SimpleITK
issue #1636). Uncompressed pixel data are read straight from the file bytes with
:func:`numpy.frombuffer`; compressed data go through pydicom's decoders.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from immunopet.dicom.discover import IMAGE_MODALITIES, discover
from immunopet.dicom.frames import frames_of, is_enhanced
from immunopet.dicom.geometry import Frame, Grid, build_grid
from immunopet.errors import DicomError, ImmunoPETError
from immunopet.image import Image

log = logging.getLogger(__name__)

PathOrFiles = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]


@dataclass(frozen=True)
class Volume:
    """An assembled series: the image (rescaled, stored units) and its sorted frames."""

    image: Image
    grid: Grid

    @property
    def frames(self) -> list[Frame]:
        return self.grid.frames


def resolve_series(path: PathOrFiles, *, series_uid: str | None = None) -> tuple[list[str], str]:
    """The files of one image series: ``path`` is a folder, a file or a list of files.

    Returns ``(files, description of the source)``. A folder with several image series needs
    ``series_uid``; the error lists the candidates.
    """
    if isinstance(path, (str, os.PathLike)) and Path(path).is_dir():
        series = [s for s in discover(path) if s.modality in IMAGE_MODALITIES and s.n_instances]
        where = str(path)
    elif isinstance(path, (str, os.PathLike)):
        if not Path(path).exists():
            raise DicomError("no such file or folder", file=path, fix="check the path")
        series = [s for s in discover(path) if s.modality in IMAGE_MODALITIES]
        where = str(path)
    else:
        files = [str(f) for f in path]
        if not files:
            raise DicomError("empty list of files", fix="pass at least one DICOM image file")
        if series_uid is None:
            return files, f"{len(files)} files"
        series = [s for f in files for s in discover(f) if s.series_uid == series_uid]
        return [str(f) for s in series for f in s.files], f"{len(files)} files"
    if series_uid is not None:
        series = [s for s in series if s.series_uid == series_uid]
        if not series:
            raise DicomError(
                f"no image series with SeriesInstanceUID {series_uid}", file=where,
                attribute="SeriesInstanceUID (0020,000E)", fix="list the series with `immunopet inspect`",
            )
    if not series:
        raise DicomError("no DICOM image series found", file=where, fix="point to a folder holding PET or CT slices")
    if len(series) > 1:
        listing = "; ".join(f"{s.modality} {s.series_uid} ({s.n_instances} files, {s.description!r})" for s in series)
        raise DicomError(
            f"{len(series)} image series found: {listing}", file=where,
            attribute="SeriesInstanceUID (0020,000E)", fix="choose one with --series UID (series_uid=...)",
        )
    return [str(f) for f in series[0].files], where


def _read_full(file: str) -> Dataset:
    try:
        return pydicom.dcmread(file)
    except Exception as error:  # noqa: BLE001 - reported with the file name
        raise DicomError(f"cannot read DICOM file: {error}", file=file, fix="remove or replace the file") from error


def read_datasets(files: Sequence[str], *, workers: int = 4) -> list[Dataset]:
    """Read every file completely (pixel bytes included), in a small thread pool."""
    if len(files) < 8 or workers <= 1:
        return [_read_full(f) for f in files]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_read_full, files, chunksize=16))


def stored_pixels(ds: Dataset, file: str) -> np.ndarray:
    """Stored values, shape ``(frames, rows, columns)``; raw bytes when uncompressed."""
    if "PixelData" not in ds:
        raise DicomError("no pixel data", file=file, attribute="PixelData (7FE0,0010)", fix="remove the file")
    n = int(ds.get("NumberOfFrames", 1) or 1)
    rows, cols = int(ds.Rows), int(ds.Columns)
    bits, signed = int(ds.BitsAllocated), int(ds.get("PixelRepresentation", 0)) == 1
    stored = int(ds.get("BitsStored", bits))
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    raw_ok = (
        syntax is not None and not syntax.is_compressed and bits in (8, 16, 32)
        and int(ds.get("SamplesPerPixel", 1)) == 1 and (stored == bits or not signed)
    )
    if raw_ok:
        dtype = np.dtype(f"{'i' if signed else 'u'}{bits // 8}").newbyteorder(
            "<" if syntax.is_little_endian else ">"
        )
        data = np.frombuffer(ds.PixelData, dtype=dtype, count=n * rows * cols)
        if stored < bits:
            data = data & ((1 << stored) - 1)
        return data.reshape(n, rows, cols)
    try:
        return np.asarray(ds.pixel_array).reshape(n, rows, cols)
    except Exception as error:  # noqa: BLE001 - decoder problems become a DicomError
        raise DicomError(
            f"cannot decode pixel data: {error}", file=file, attribute="PixelData (7FE0,0010)",
            fix="install the decoder for this transfer syntax (pylibjpeg) or decompress the files",
        ) from error


def assemble(grid: Grid) -> np.ndarray:
    """Rescaled float32 voxel array ``(I, J, K)``, each frame with its own slope and intercept.

    Filled slice by slice into a ``(K, J, I)`` C-order buffer and returned as its transposed view
    (so memory is the float32 volume plus one slice of stored values).
    """
    ni, nj, nk = grid.shape
    out = np.empty((nk, nj, ni), dtype=np.float32)
    cache: dict[int, np.ndarray] = {}
    for k, frame in enumerate(grid.frames):
        if frame.index is None:
            block = stored_pixels(frame.ds, frame.file)[0]
        else:
            key = id(frame.ds)
            if key not in cache:
                cache.clear()
                cache[key] = stored_pixels(frame.ds, frame.file)
            block = cache[key][frame.index]
        np.multiply(block, np.float32(frame.slope), out=out[k], casting="unsafe")
        if frame.intercept:
            out[k] += np.float32(frame.intercept)
    return out.transpose(2, 1, 0)


def read_volume(path: PathOrFiles, *, series_uid: str | None = None, workers: int = 4) -> Volume:
    """Read, sort, check and rescale one series; ``image.units`` is the stored unit.

    PET: the Units (0054,1001) value (``"BQML"``, ``"GML"``, ``"CNTS"``...); CT: ``"HU"``.
    """
    files, where = resolve_series(path, series_uid=series_uid)
    datasets = read_datasets(files, workers=workers)
    frames: list[Frame] = []
    for file, ds in zip(files, datasets, strict=True):
        frames.extend(frames_of(ds, file))
    uids = {str(f.ds.get("SeriesInstanceUID", "")) for f in frames}
    if len(uids) > 1:
        raise DicomError(
            f"files of {len(uids)} series were given together", file=where,
            attribute="SeriesInstanceUID (0020,000E)", fix="pass one series (series_uid=... / --series)",
        )
    grid = build_grid(frames)
    for message in grid.warnings:
        log.warning("%s", message)
    array = assemble(grid)
    first = grid.frames[0].ds
    modality = str(first.get("Modality", ""))
    units = "HU" if modality == "CT" else str(first.get("Units", "") or "")
    if modality == "PT" and any(f.intercept for f in grid.frames):
        log.warning("%s: PET RescaleIntercept (0028,1052) is not 0; applied as written", where)
    meta = {
        "series_uid": str(first.get("SeriesInstanceUID", "")),
        "frame_of_reference_uid": first.get("FrameOfReferenceUID") or None,
        "modality": modality,
        "study_uid": str(first.get("StudyInstanceUID", "")),
        "patient_id": str(first.get("PatientID", "")),
        "source": where,
        "files": [f.file for f in grid.frames] if not is_enhanced(first) else [grid.frames[0].file],
        "geometry_warnings": list(grid.warnings),
    }
    for ds in datasets:  # pixel bytes are no longer needed; keep headers only
        if "PixelData" in ds:
            del ds.PixelData
    return Volume(Image(array, grid.affine, units, meta), grid)


def load_image_series(path: PathOrFiles, *, series_uid: str | None = None) -> Image:
    """One PET or CT series as an :class:`Image` (CT in HU, PET in its stored Units).

    Parameters
    ----------
    path
        A folder (searched recursively), one file, or a list of files.
    series_uid
        SeriesInstanceUID to pick when ``path`` holds several image series.

    Raises
    ------
    DicomError, GeometryError
        Naming the file and attribute when the series cannot be assembled.
    """
    try:
        return read_volume(path, series_uid=series_uid).image
    except ImmunoPETError:
        raise
    except (AttributeError, KeyError, ValueError, TypeError) as error:
        where = str(path) if isinstance(path, (str, os.PathLike)) else None
        raise DicomError(f"malformed image header: {error}", file=where, fix="check the files with dciodvfy") from error
