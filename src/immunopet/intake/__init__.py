"""From a raw DICOM export (folder or DICOMweb server) to a study folder: ``immunopet init``.

Public API (docs/init.md):

- :func:`init_study` -> :class:`InitSummary` (discover, decide, write the study tables);
- :func:`build_plan` (the pure decision rules) and :func:`read_series_header`;
- :func:`retrieve_from_dicomweb` (query and retrieve a DICOMweb server into a folder).
"""

from immunopet.lazy_exports import lazy_exports

_PUBLIC = {
    "init": "init_study InitSummary",
    "plan": "build_plan",
    "headers": "read_series_header SeriesHeader",
    "dicomweb": "retrieve_from_dicomweb",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
