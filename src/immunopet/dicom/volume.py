"""Volume assembly: the files of one series -> one float32 :class:`~immunopet.image.Image`.

Each slice's own RescaleSlope and RescaleIntercept are applied to that slice (PET scanners write
one slope per slice; SimpleITK's series reader applies the first slice's slope to all, SimpleITK
issue #1636). Uncompressed pixel data are read straight from the file bytes with
:func:`numpy.frombuffer`; compressed data go through pydicom's decoders.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from immunopet.dicom.discover import IMAGE_MODALITIES, iter_files, read_all
from immunopet.dicom.frames import frames_of
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


#: Values larger than this are not read while parsing (pixel data): pydicom reads them from the
#: file when first accessed, so a folder is parsed once and only the chosen series' pixels are read.
DEFER_BYTES = 4096


def _read_deferred(file: str) -> tuple[str, Dataset | None, str | None]:
    try:
        ds = pydicom.dcmread(file, defer_size=DEFER_BYTES)
    except InvalidDicomError:
        return file, None, "not a DICOM file"
    except Exception as error:  # noqa: BLE001 - reported with the file name, never fatal here
        return file, None, f"cannot be read: {type(error).__name__}: {error}"
    return file, ds, None


def _candidates(path: PathOrFiles) -> tuple[list[str], str]:
    if isinstance(path, (str, os.PathLike)):
        if not Path(path).exists():
            raise DicomError("no such file or folder", file=path, fix="check the path")
        return [str(f) for f in iter_files(path)], str(path)
    files = [str(f) for f in path]
    if not files:
        raise DicomError("empty list of files", fix="pass at least one DICOM image file")
    return files, f"{len(files)} files from {os.path.dirname(files[0]) or '.'}"


def read_series(path: PathOrFiles, *, series_uid: str | None = None, workers: int = 1) -> tuple[list[tuple[str, Dataset]], str]:
    """Parse every file once (pixel data deferred) and return the files of one image series.

    ``path`` is a folder (searched recursively), a file or a list of files. A folder with several
    image series needs ``series_uid``; the error lists the candidates.
    """
    files, where = _candidates(path)
    groups: dict[str, list[tuple[str, Dataset]]] = defaultdict(list)
    skipped: list[tuple[str, str]] = []
    for file, ds, problem in read_all(_read_deferred, files, workers=workers):
        if ds is None:
            skipped.append((file, problem or "unreadable"))
        elif ds.get("Modality") in IMAGE_MODALITIES and ds.get("SeriesInstanceUID"):
            if "PixelData" in ds:
                groups[str(ds.SeriesInstanceUID)].append((file, ds))
            else:
                skipped.append((file, "image without pixel data (truncated?)"))
    for file, reason in skipped:
        level = logging.DEBUG if reason == "not a DICOM file" else logging.WARNING
        log.log(level, "skipped %s: %s", file, reason)
    if series_uid is not None:
        groups = {uid: items for uid, items in groups.items() if uid == series_uid}
        if not groups:
            raise DicomError(
                f"no image series with SeriesInstanceUID {series_uid}", file=where,
                attribute="SeriesInstanceUID (0020,000E)", fix="list the series with `immunopet inspect`",
            )
    if not groups:
        raise DicomError("no DICOM image series found", file=where, fix="point to a folder holding PET or CT slices")
    if len(groups) > 1:
        listing = "; ".join(
            f"{items[0][1].get('Modality')} {uid} ({len(items)} files, {str(items[0][1].get('SeriesDescription', ''))!r})"
            for uid, items in groups.items()
        )
        raise DicomError(
            f"{len(groups)} image series found: {listing}", file=where,
            attribute="SeriesInstanceUID (0020,000E)", fix="choose one with --series UID (series_uid=...)",
        )
    return next(iter(groups.values())), where


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
        if len(ds.PixelData) < n * rows * cols * dtype.itemsize:
            raise DicomError(
                f"pixel data hold {len(ds.PixelData)} bytes, {n * rows * cols * dtype.itemsize} expected",
                file=file, attribute="PixelData (7FE0,0010)", fix="the file is truncated: copy it again",
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
                cache[key] = stored_pixels(frame.ds, frame.file).copy()
                del frame.ds.PixelData
            block = cache[key][frame.index]
        np.multiply(block, np.float32(frame.slope), out=out[k], casting="unsafe")
        if frame.intercept:
            out[k] += np.float32(frame.intercept)
        if frame.index is None:  # pixel bytes are no longer needed: keep the header only
            del frame.ds.PixelData
    return out.transpose(2, 1, 0)


def read_volume(path: PathOrFiles, *, series_uid: str | None = None, workers: int = 1) -> Volume:
    """Read, sort, check and rescale one series; ``image.units`` is the stored unit.

    PET: the Units (0054,1001) value (``"BQML"``, ``"GML"``, ``"CNTS"``...); CT: ``"HU"``.
    Malformed headers become a :class:`DicomError`, never a bare exception.
    """
    with malformed_as_error(path):
        return _read_volume(path, series_uid=series_uid, workers=workers)


@contextmanager
def malformed_as_error(path: PathOrFiles | None) -> Iterator[None]:
    """Turn low-level failures on malformed attribute values into a :class:`DicomError`."""
    try:
        yield
    except ImmunoPETError:
        raise
    except (AttributeError, KeyError, ValueError, TypeError, IndexError) as error:
        where = str(path) if isinstance(path, (str, os.PathLike)) else None
        raise DicomError(f"malformed DICOM header: {type(error).__name__}: {error}", file=where,
                         fix="check the files with dciodvfy; fix or remove the offending file") from error


def _read_volume(path: PathOrFiles, *, series_uid: str | None, workers: int) -> Volume:
    items, where = read_series(path, series_uid=series_uid, workers=workers)
    frames: list[Frame] = []
    for file, ds in items:
        frames.extend(frames_of(ds, file))
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
        "files": list(dict.fromkeys(f.file for f in grid.frames)),
        "geometry_warnings": list(grid.warnings),
    }
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
    return read_volume(path, series_uid=series_uid).image
