"""Header-only discovery of a whole export, split over processes.

:func:`immunopet.dicom.discover.scan` parses headers in one thread (parsing holds the GIL). An export
of a multi-day trial holds tens of thousands of files, so the export is cut into folders that are
scanned in parallel worker processes and the series lists are merged. A series whose files lie in
several such folders is scanned again as a whole from the folder that holds all of them, so every
series is summarised from all its files.
"""

from __future__ import annotations

import os
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from immunopet.dicom.discover import Discovery, SeriesInfo, scan
from immunopet.errors import ImmunoPETError
from immunopet.logging_setup import progress_bar

#: Below this many files one process is faster than starting a pool.
PARALLEL_MIN_FILES = 2000


def _has_files(folder: Path) -> bool:
    with os.scandir(folder) as entries:
        return any(e.is_file() and e.name.upper() != "DICOMDIR" and not e.name.startswith(".") for e in entries)


def split_folders(root: Path, parts: int) -> list[Path]:
    """Folders below ``root`` that together hold every file, at least ``parts`` of them if possible.

    A folder is split into its subfolders only when it holds no files of its own, so each returned
    folder is scanned recursively and no file is scanned twice.
    """
    chunks = [root]
    while len(chunks) < parts:
        expandable = [c for c in chunks if not _has_files(c) and any(p.is_dir() for p in c.iterdir())]
        if not expandable:
            break
        widest = expandable[0]
        chunks.remove(widest)
        chunks += sorted(p for p in widest.iterdir() if p.is_dir() and not p.name.startswith("."))
    return chunks


def _count_files(root: Path, limit: int) -> int:
    count = 0
    for _, _, names in os.walk(root):
        count += len(names)
        if count >= limit:
            break
    return count


def discover_export(root: str | os.PathLike[str], *, workers: int | None = None, progress: bool = False) -> Discovery:
    """Every series below ``root`` (header-only), scanned in ``workers`` processes.

    ``workers`` defaults to the number of CPUs; small exports are scanned in this process. With
    ``progress`` a bar counts the folders (and files) read.
    """
    path = Path(root)
    if not path.exists():
        raise ImmunoPETError("the DICOM folder does not exist", file=path, fix="give the folder of the export")
    n = max(1, int(workers or os.cpu_count() or 1))
    if path.is_file() or n == 1 or _count_files(path, PARALLEL_MIN_FILES) < PARALLEL_MIN_FILES:
        return scan(path)
    chunks = split_folders(path, 4 * n)
    if len(chunks) < 2:
        return scan(path)
    sizes = {chunk: _count_files(chunk, 10**9) for chunk in chunks}
    # largest folders first, so no worker is left with a big one at the end (longest processing time first)
    chunks.sort(key=sizes.__getitem__, reverse=True)
    found: dict[Path, Discovery] = {}
    total, read = sum(sizes.values()), 0
    with ProcessPoolExecutor(max_workers=n) as pool, \
            progress_bar(len(chunks), enabled=progress, label="reading headers") as advance:
        running = {pool.submit(scan, chunk): chunk for chunk in chunks}
        for done in as_completed(running):
            found[running[done]] = done.result()
            read += sizes[running[done]]
            advance(f"reading headers ({read} of {total} files)")
    return merge([found[chunk] for chunk in chunks])


def merge(parts: list[Discovery]) -> Discovery:
    """One discovery from several; the series split over parts are scanned again from their common folders.

    Each folder is scanned once, however many split series it holds (a folder inside another one to
    scan is not scanned on its own), so an export whose series straddle the parts is re-read at most once.
    """
    by_uid: dict[str, list[SeriesInfo]] = defaultdict(list)
    unreadable: list[tuple[str, str]] = []
    for part in parts:
        unreadable += part.unreadable
        for series in part.series:
            by_uid[series.series_uid].append(series)
    split = {uid: pieces for uid, pieces in by_uid.items() if len(pieces) > 1}
    commons = {Path(os.path.commonpath([str(f) for p in pieces for f in p.files])) for pieces in split.values()}
    outermost = sorted(c for c in commons if not any(o != c and c.is_relative_to(o) for o in commons))
    whole = {s.series_uid: s for folder in outermost for s in scan(folder).series if s.series_uid in split}
    series = [whole.get(uid, pieces[0]) for uid, pieces in by_uid.items()]
    series.sort(key=lambda s: (s.patient_id or "", s.series_datetime.isoformat() if s.series_datetime else "",
                               s.modality, s.series_uid))
    return Discovery(series, unreadable)
