"""immunopet: quantitative immunoPET studies (multi-day 89Zr PET/CT) from DICOM to report."""

from typing import Any

from immunopet.errors import ImmunoPETError

__all__ = ["Image", "ImmunoPETError", "__version__"]


def __getattr__(name: str) -> Any:
    """``Image`` (numpy) and ``__version__`` (importlib.metadata) on first use: fast start-up."""
    if name == "Image":
        from immunopet.image import Image

        globals()["Image"] = Image
        return Image
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("immunopet")
        except PackageNotFoundError:  # running from a source tree that is not installed
            found = "0.0.0+unknown"
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'immunopet' has no attribute {name!r}")
