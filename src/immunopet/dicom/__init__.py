"""DICOM in: series discovery, volume assembly, SUV inputs with their sources, SUV factors.

Public API (see docs/architecture.md and docs/suv.md):

- :func:`discover` -> list of :class:`SeriesInfo` (header-only; :func:`scan` also lists unreadable files);
- :func:`load_image_series` -> :class:`~immunopet.image.Image` (CT in HU, PET in stored units);
- :func:`load_pet` -> :class:`PetScan` (Bq/mL + audited :class:`SuvInputs`), with :class:`SuvOverrides`.
"""

from immunopet.dicom.discover import Discovery, SeriesInfo, discover, scan
from immunopet.dicom.export import write_nifti
from immunopet.dicom.header import Sourced
from immunopet.dicom.inputs import SuvInputs
from immunopet.dicom.overrides import SuvOverrides
from immunopet.dicom.pet import PetScan, load_pet
from immunopet.dicom.volume import load_image_series

__all__ = [
    "Discovery",
    "PetScan",
    "SeriesInfo",
    "Sourced",
    "SuvInputs",
    "SuvOverrides",
    "discover",
    "load_image_series",
    "load_pet",
    "scan",
    "write_nifti",
]
