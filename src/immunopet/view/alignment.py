"""Where a point of one scan lies in another scan of the same patient (crosshair across days).

When the study holds registration transforms between the patient's scans (the ``register`` step),
the point is mapped through them; otherwise both scans are taken to share the patient coordinate
system (DICOM LPS mm), which holds when the patient lay the same way on every day. The method used
is returned with the point, and the page shows it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

IDENTITY = "patient coordinates"


def map_point(catalog: Any, source: Any, target: Any, lps: tuple[float, float, float]) -> tuple[tuple[float, ...], str]:
    """``lps`` (mm, in ``source``'s patient frame) expressed in ``target``'s patient frame."""
    point = np.asarray(lps, dtype=float)
    if not np.all(np.isfinite(point)):
        return tuple(float(v) for v in point), IDENTITY
    registered = _registered(catalog, source, target, point)
    if registered is not None:
        return registered
    return tuple(float(v) for v in point), IDENTITY


def _registered(catalog: Any, source: Any, target: Any, point: np.ndarray) -> tuple[tuple[float, ...], str] | None:
    """Through the study's stored registration transforms, when there are any (else None)."""
    try:
        from immunopet.register import map_points  # the registration step, when installed
    except ImportError:
        return None
    mapped = map_points(catalog.root, source.scan_id, target.scan_id, point[None, :])
    if mapped is None:
        return None
    return tuple(float(v) for v in np.asarray(mapped)[0]), "registration"
