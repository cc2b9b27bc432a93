"""immunopet: quantitative immunoPET studies (multi-day 89Zr PET/CT) from DICOM to report."""

from importlib.metadata import PackageNotFoundError, version

from immunopet.errors import ImmunoPETError
from immunopet.image import Image

try:
    __version__ = version("immunopet")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["Image", "ImmunoPETError", "__version__"]
