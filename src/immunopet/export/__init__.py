"""Results back where clinicians look: one DICOM SEG and one TID 1500 SR per measured scan.

- :func:`export_study` -> :class:`ExportSummary`: a SEG (all VOIs of the scan on the PET grid,
  coded, with tracking identifiers stable over days) and a Comprehensive 3D SR (TID 1500: one
  TID 1411 group per VOI, one TID 1501 group per ratio to the blood pool) for every scan whose
  results are current;
- :func:`push_dicomweb` (STOW-RS) and :func:`push_dimse` (C-STORE): send them to a PACS, with the
  outcome of every object.

What each object holds, the codes and the privacy rules: ``docs/export.md``.
"""

from immunopet.lazy_exports import lazy_exports

# module -> the public names it holds; imported on first use (immunopet/lazy_exports.py)
_PUBLIC = {
    "pipeline": "export_study ExportSummary",
    "push": "push_dicomweb push_dimse Sent",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
