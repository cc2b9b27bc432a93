"""Physical constants of the radionuclides PET users meet, in one table.

Half-lives and positron branching ratios from the NNDC/DDEP evaluations as tabulated by the
Laboratoire National Henri Becquerel (LNHB, "Recommended data", 2024); the 89Zr half-life of
78.41 h is the value used throughout the 89Zr-immunoPET literature (e.g. Makris et al., J Nucl Med
2014;55:264-267).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from immunopet.errors import ImmunoPETError


@dataclass(frozen=True)
class Nuclide:
    """A positron emitter: its name, half-life (s) and positron branching ratio (0-1)."""

    name: str
    half_life_s: float
    positron_fraction: float

    @property
    def decay_constant_per_s(self) -> float:
        return math.log(2.0) / self.half_life_s

    def decay_factor(self, elapsed_s: float) -> float:
        """Fraction of activity left after ``elapsed_s`` seconds: exp(-ln2 t / T_half)."""
        return math.exp(-self.decay_constant_per_s * elapsed_s)


NUCLIDES: dict[str, Nuclide] = {
    n.name: n
    for n in (
        Nuclide("Zr-89", 78.41 * 3600.0, 0.2274),
        Nuclide("F-18", 6586.2, 0.9686),
        Nuclide("Ga-68", 4057.7, 0.8891),
        Nuclide("Cu-64", 12.70 * 3600.0, 0.1752),
        Nuclide("I-124", 4.1760 * 86400.0, 0.2256),
        Nuclide("C-11", 20.364 * 60.0, 0.9976),
    )
}

_ALIASES = {
    "zirconium": "Zr-89",
    "fluorine": "F-18",
    "fdg": "F-18",
    "flt": "F-18",
    "gallium": "Ga-68",
    "copper": "Cu-64",
    "iodine": "I-124",
    "carbon": "C-11",
}


def get_nuclide(name: str) -> Nuclide:
    """Look a nuclide up by a name as written in headers and manifests.

    Accepts ``"Zr-89"``, ``"89Zr"``, ``"^89^Zirconium"``, ``"zr89"``, ``"Fluorine-18"`` and the like.
    """
    key = name.strip()
    if key in NUCLIDES:
        return NUCLIDES[key]
    flat = re.sub(r"[^a-z0-9]", "", key.lower())
    digits = re.sub(r"[^0-9]", "", flat)
    letters = re.sub(r"[0-9]", "", flat)
    for nuclide in NUCLIDES.values():
        symbol, mass = nuclide.name.split("-")
        if digits == mass and letters in (symbol.lower(),):
            return nuclide
    for word, target in _ALIASES.items():
        if word in letters and (not digits or NUCLIDES[target].name.endswith(digits)):
            return NUCLIDES[target]
    raise ImmunoPETError(
        f"unknown radionuclide {name!r}",
        fix=f"use one of {', '.join(NUCLIDES)}",
    )
