"""Lesions matched across scan days by their registered positions (Hungarian assignment).

The lesions of a day, mapped into the reference scan's frame, are assigned one-to-one to the
reference lesions so that the sum of centre distances is smallest (Kuhn, Nav Res Logist Q 1955;
``scipy.optimize.linear_sum_assignment``). Pairs farther apart than ``max_distance_mm`` are not
matched: the day's lesion is ``new`` (it gets a fresh id) and the reference lesion ``vanished`` on
that day. A matched lesion keeps the reference lesion's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from immunopet.errors import VOIError

DEFAULT_MAX_DISTANCE_MM = 20.0


@dataclass
class Matching:
    """Outcome of one day's matching: ``day id -> reference id`` and the unmatched on each side."""

    matched: dict[str, str] = field(default_factory=dict)
    distances_mm: dict[str, float] = field(default_factory=dict)
    new: list[str] = field(default_factory=list)
    vanished: list[str] = field(default_factory=list)

    def ids(self, *, prefix: str = "N") -> dict[str, str]:
        """``day id -> id to report``: the reference id when matched, else a new id ``N1``, ``N2``..."""
        out = dict(self.matched)
        for n, day_id in enumerate(self.new, start=1):
            out[day_id] = f"{prefix}{n}"
        return out


def match_lesions(reference: dict[str, Sequence[float]], day: dict[str, Sequence[float]], *,
                  max_distance_mm: float = DEFAULT_MAX_DISTANCE_MM) -> Matching:
    """Match the lesions of one day to the reference lesions.

    Parameters
    ----------
    reference
        ``lesion id -> centre (x, y, z)`` in the reference frame (LPS mm).
    day
        ``lesion id (as delineated that day) -> centre`` already mapped into the reference frame.
    max_distance_mm
        Largest centre distance of a match.
    """
    from scipy.optimize import linear_sum_assignment

    if not max_distance_mm > 0:
        raise VOIError(f"max_distance_mm must be positive, got {max_distance_mm}", attribute="max_distance_mm")
    ref_ids, day_ids = list(reference), list(day)
    result = Matching()
    if not ref_ids or not day_ids:
        result.new, result.vanished = day_ids, ref_ids
        return result
    a = np.asarray([reference[i] for i in ref_ids], dtype=np.float64).reshape(-1, 3)
    b = np.asarray([day[i] for i in day_ids], dtype=np.float64).reshape(-1, 3)
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise VOIError("lesion centres must be finite numbers", attribute="x_mm, y_mm, z_mm")
    distance = np.linalg.norm(b[:, None, :] - a[None, :, :], axis=2)
    # pairs beyond the limit cost more than any allowed pair, so they are used only when unavoidable
    cost = np.where(distance <= max_distance_mm, distance, max_distance_mm * (1 + len(ref_ids) + len(day_ids)))
    rows, cols = linear_sum_assignment(cost)
    used_day, used_ref = set(), set()
    for r, c in zip(rows, cols, strict=True):
        if distance[r, c] <= max_distance_mm:
            result.matched[day_ids[r]] = ref_ids[c]
            result.distances_mm[day_ids[r]] = float(distance[r, c])
            used_day.add(r)
            used_ref.add(c)
    result.new = [day_ids[r] for r in range(len(day_ids)) if r not in used_day]
    result.vanished = [ref_ids[c] for c in range(len(ref_ids)) if c not in used_ref]
    return result


#: Status of a lesion on one scan in :func:`track_lesions`.
STATUSES = ("reference", "matched", "new", "vanished")


@dataclass(frozen=True)
class ScanLesions:
    """The lesions measured on one scan: ``voi id -> centre`` mapped into the reference frame.

    ``drawn_once`` holds the ids of lesions that are the reference's own VOI, mapped onto this scan
    (a seed drawn once): they match the reference lesion of the same id by construction.
    """

    scan_id: str
    centres: dict[str, Sequence[float]]
    drawn_once: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TrackedLesion:
    """One lesion on one scan: its id that day, its id over days, and how it was found."""

    scan_id: str
    voi_id: str | None  # None for a vanished lesion
    tracked_id: str
    status: str  # one of STATUSES
    distance_mm: float | None  # between its centre and the lesion it matched (reference frame)


def track_lesions(reference: ScanLesions, scans: Sequence[ScanLesions], *,
                  max_distance_mm: float = DEFAULT_MAX_DISTANCE_MM, prefix: str = "N") -> list[TrackedLesion]:
    """Every lesion of a patient's scans given one id over days (``tracked_id``).

    The scans are taken in the order given (by day). On each scan:

    1. a drawn-once lesion present on the reference is ``matched`` to itself (distance 0: both centres
       are the same reference point);
    2. the other lesions are matched to the remaining reference lesions (:func:`match_lesions`);
       those matched are ``matched`` and take the reference id, the reference lesions left over are
       ``vanished`` that day;
    3. the lesions still unmatched are matched, the same way, to the new lesions of the earlier scans
       (at the centre where each was last seen): a match keeps that new lesion's id, the rest get the
       next free id ``N1``, ``N2``, ... (an id the reference already uses is skipped). Both are
       ``new``. A new lesion missing on a later scan is not listed as vanished (vanished means: a
       reference lesion absent that day).

    The reference scan's own lesions come first, with status ``reference``.
    """
    rows = [TrackedLesion(reference.scan_id, v, v, "reference", None) for v in reference.centres]
    seen_new: dict[str, Sequence[float]] = {}  # tracked id -> centre on the latest scan it was seen
    taken = set(reference.centres)
    counter = 0
    for scan in scans:
        own = [v for v in scan.centres if v in scan.drawn_once and v in reference.centres]
        rows += [TrackedLesion(scan.scan_id, v, v, "matched", 0.0) for v in own]
        remaining = {k: c for k, c in reference.centres.items() if k not in own}
        others = {k: c for k, c in scan.centres.items() if k not in own}
        to_reference = match_lesions(remaining, others, max_distance_mm=max_distance_mm)
        rows += [TrackedLesion(scan.scan_id, d, r, "matched", to_reference.distances_mm[d])
                 for d, r in to_reference.matched.items()]
        unmatched = {d: others[d] for d in to_reference.new}
        to_earlier = match_lesions(seen_new, unmatched, max_distance_mm=max_distance_mm)
        for d in unmatched:
            if d in to_earlier.matched:
                tracked, distance = to_earlier.matched[d], to_earlier.distances_mm[d]
            else:
                counter += 1
                while f"{prefix}{counter}" in taken:
                    counter += 1
                tracked, distance = f"{prefix}{counter}", None
                taken.add(tracked)
            seen_new[tracked] = unmatched[d]
            rows.append(TrackedLesion(scan.scan_id, d, tracked, "new", distance))
        rows += [TrackedLesion(scan.scan_id, None, r, "vanished", None) for r in to_reference.vanished]
    return rows
