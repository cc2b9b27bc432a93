"""Which radionuclide a PET header names (code or free text), looked up in immunopet.nuclides."""

from __future__ import annotations

import re

from immunopet.errors import ImmunoPETError
from immunopet.nuclides import NUCLIDES, Nuclide, get_nuclide

#: SNOMED-RT code values of RadionuclideCodeSequence (DICOM CID 4020) for the common PET nuclides.
_SNOMED = {"C-111A1": "F-18", "C-105A1": "C-11", "C-131A3": "Ga-68"}
_ELEMENTS = {"zr": "zirconium", "f": "fluorine", "ga": "gallium", "cu": "copper", "i": "iodine", "c": "carbon"}


def identify_nuclide(*texts: str | None) -> Nuclide | None:
    """The nuclide named by a radionuclide code or name (``"C-111A1"``, ``"^89^Zirconium"``,
    ``"F^18^[^18^Fluorine]"``, ``"18F"``, ``"Zr-89"``), or ``None``."""
    for text in texts:
        if not text:
            continue
        if text.strip() in _SNOMED:
            return NUCLIDES[_SNOMED[text.strip()]]
        lower = text.lower()
        masses = set(re.findall(r"\d+", lower))
        words = set(re.findall(r"[a-z]+", lower))
        for nuclide in NUCLIDES.values():
            symbol, mass = nuclide.name.lower().split("-")
            if mass in masses and (symbol in words or _ELEMENTS.get(symbol, symbol) in lower):
                return nuclide
        try:
            return get_nuclide(text)
        except ImmunoPETError:
            continue
    return None



