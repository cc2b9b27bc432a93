"""DICOM in: series discovery, volume assembly, SUV inputs with their sources, SUV factors.

Public API (see docs/architecture.md and docs/suv.md):

- :func:`discover` -> list of :class:`SeriesInfo` (header-only; :func:`scan` also lists unreadable files);
- :func:`load_image_series` -> :class:`~immunopet.image.Image` (CT in HU, PET in stored units);
- :func:`load_pet` -> :class:`PetScan` (Bq/mL + audited :class:`SuvInputs`), with :class:`SuvOverrides`.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "discover": "discover Discovery scan SeriesInfo",
    "export": "write_nifti",
    "header": "Sourced",
    "inputs": "SuvInputs",
    "overrides": "SuvOverrides",
    "pet": "load_pet PetScan",
    "volume": "load_image_series",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
