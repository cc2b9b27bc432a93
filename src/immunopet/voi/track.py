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
