"""DICOM in: series discovery, volume assembly, SUV inputs with their sources, SUV factors.

Public API (see docs/architecture.md and docs/suv.md):

- :func:`discover` -> list of :class:`SeriesInfo` (header-only; :func:`scan` also lists unreadable files);
- :func:`load_image_series` -> :class:`~immunopet.image.Image` (CT in HU, PET in stored units);
- :func:`load_pet` -> :class:`PetScan` (Bq/mL + audited :class:`SuvInputs`), with :class:`SuvOverrides`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from immunopet.lazy_exports import lazy_exports

# Names are imported on first use (PEP 562), so `immunopet --help` stays fast.
_HOME = {
    "discover": "discover",
    "Discovery": "discover",
    "load_image_series": "volume",
    "load_pet": "pet",
    "PetScan": "pet",
    "scan": "discover",
    "SeriesInfo": "discover",
    "Sourced": "header",
    "SuvInputs": "inputs",
    "SuvOverrides": "overrides",
    "write_nifti": "export",
}

__all__ = sorted(_HOME)

if TYPE_CHECKING:
    from immunopet.dicom.discover import Discovery, SeriesInfo, discover, scan
    from immunopet.dicom.export import write_nifti
    from immunopet.dicom.header import Sourced
    from immunopet.dicom.inputs import SuvInputs
    from immunopet.dicom.overrides import SuvOverrides
    from immunopet.dicom.pet import PetScan, load_pet
    from immunopet.dicom.volume import load_image_series


__getattr__, __dir__ = lazy_exports(__name__, _HOME, globals())
