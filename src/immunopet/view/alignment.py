"""Where a point of one scan lies in another scan of the same patient (crosshair across days).

When the study holds registration transforms of the patient's scans to their reference scan
(``immunopet register``, docs/registration.md), the point is mapped through them (source scan ->
reference -> target scan); otherwise both scans are taken to share the patient coordinate
system (DICOM LPS mm), which holds when the patient lay the same way on every day. The method used
is returned with the point, and the page shows it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

IDENTITY = "patient coordinates"


def map_point(catalog: Any, source: Any, target: Any, lps: tuple[float, float, float]) -> tuple[tuple[float, ...], str]:
    """``lps`` (mm, in ``source``'s patient frame) expressed in ``target``'s patient frame."""
    point = np.asarray(lps, dtype=float)  # finite: the route refuses anything else
    registered = _registered(catalog, source, target, point)
    if registered is not None:
        return registered
    return tuple(float(v) for v in point), IDENTITY


def _registered(catalog: Any, source: Any, target: Any, point: np.ndarray) -> tuple[tuple[float, ...], str] | None:
    """Through the study's stored registrations (``immunopet register``): source -> reference -> target.

    None when either scan has no usable registration record (never registered, or failed): the
    caller then falls back to patient coordinates and says so.
    """
    from immunopet.errors import RegistrationError
    from immunopet.register.transforms import from_reference, to_reference
    from immunopet.study.registration import transform_of
    from immunopet.study.registration_store import read_records

    records = read_records(catalog.root)
    if not {source.scan_id, target.scan_id} <= set(records):
        return None
    try:
        in_reference = to_reference(transform_of(catalog.root, source.scan_id), point[None, :])
        mapped = from_reference(transform_of(catalog.root, target.scan_id), in_reference)
    except RegistrationError:
        return None
    return tuple(float(v) for v in mapped[0]), "registration"
