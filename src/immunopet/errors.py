"""The exception hierarchy. Every error a user can cause is an :class:`ImmunoPETError`.

A message names what is wrong, where (``file``, DICOM ``attribute``, table ``row``/``column``) and
how to fix it (``fix``), so the command line can print it without a traceback.
"""

from __future__ import annotations

from os import PathLike


class ImmunoPETError(Exception):
    """Base class of all errors caused by input the user can correct.

    Parameters
    ----------
    message
        What is wrong, in one sentence.
    file
        The file (or folder) the problem was found in.
    attribute
        The DICOM attribute, e.g. ``"RadiopharmaceuticalStartDateTime (0018,1078)"``, or the
        table column the problem concerns.
    fix
        How the user can fix it, e.g. which override to supply.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        attribute: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.attribute = attribute
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}: ")
        parts.append(self.message)
        if self.attribute:
            parts.append(f" [attribute: {self.attribute}]")
        if self.fix:
            parts.append(f" Fix: {self.fix}")
        return "".join(parts)


class DicomError(ImmunoPETError):
    """A DICOM file or series cannot be read or assembled into a volume."""


class SUVError(DicomError):
    """An input of the SUV factor is missing, inconsistent or of unknown units."""


class GeometryError(ImmunoPETError):
    """Image geometry is inconsistent: irregular slices, frames of reference, orientations."""


class RegistrationError(ImmunoPETError):
    """Two scans cannot be registered (no overlap, no usable image, an unreadable transform file)."""


class VOIError(ImmunoPETError):
    """A volume of interest cannot be mapped onto the image, or is empty there."""


class StudyError(ImmunoPETError):
    """A study folder, manifest or table is invalid."""


class AnalysisError(ImmunoPETError):
    """An analysis cannot be run on the data given (too few patients, missing columns)."""
