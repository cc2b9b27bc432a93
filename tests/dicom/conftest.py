"""Fixtures for the dicom tests: real scanner files and headers crafted from them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
import pytest


@pytest.fixture(scope="session")
def ge_pet(shared_data: Path) -> Path:
    """GE Discovery ST FDG PET, 267 slices with one RescaleSlope per slice."""
    return shared_data / "tcia-sts-001-ge-fdg" / "pet"


@pytest.fixture(scope="session")
def siemens_wb(shared_data: Path) -> Path:
    return shared_data / "acrin-flt-siemens" / "1.dcm"


@pytest.fixture
def craft(tmp_path: Path, siemens_wb: Path) -> Callable[..., Path]:
    """Copy a real single PET slice (Siemens, BQML, START) and edit its header.

    ``craft(name, PatientWeight=70000, **{"rp.RadionuclideTotalDose": 370})``: keys prefixed ``rp.``
    edit the RadiopharmaceuticalInformationSequence item; ``None`` deletes the attribute; a
    ``(group, element)`` tuple key with ``(vr, value)`` adds a private or other element.
    Returns the folder holding the edited file.
    """

    def make(name: str = "case", *, source: Path | None = None, edits: dict[Any, Any] | None = None, **kw: Any) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        target = folder / "slice.dcm"
        shutil.copy(source or siemens_wb, target)
        ds = pydicom.dcmread(target)
        for key, value in {**(edits or {}), **kw}.items():
            holder = ds
            if isinstance(key, str) and key.startswith("rp."):
                holder, key = ds.RadiopharmaceuticalInformationSequence[0], key[3:]
            if isinstance(key, tuple):
                vr, val = value
                holder.add_new(key, vr, val)
            elif value is None:
                if key in holder:
                    delattr(holder, key)
            else:
                setattr(holder, key, value)
        ds.save_as(target)
        return folder

    return make
