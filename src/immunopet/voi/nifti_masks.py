"""VOIs from NIfTI label maps or binary masks (any orientation and resolution), with label names.

Names: from the label table when one is given; otherwise a 0/1 mask takes the file's stem
(``liver.nii.gz`` -> ``liver``) and other labels their number as text (``"3"``).
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from immunopet.errors import VOIError
from immunopet.image import Image
from immunopet.voi.labelmap import label_image_to_masks, present_labels

log = logging.getLogger(__name__)


def file_stem(path: str | Path) -> str:
    """``liver.nii.gz`` -> ``liver``; ``mask.nii`` -> ``mask``."""
    name = Path(path).name
    for suffix in (".nii.gz", ".nii", ".mha", ".nrrd"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


def read_label_table(path: str | Path) -> dict[int, str]:
    """Read a label-name table: CSV/TSV with columns ``label,name`` or JSON ``{"1": "liver", ...}``.

    JSON may also be a list of ``{"label": 1, "name": "liver"}`` objects.
    """
    path = Path(path)
    if not path.is_file():
        raise VOIError("label table not found", file=path, fix="give a CSV/TSV (label,name) or JSON file")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            items = data.items() if isinstance(data, dict) else ((d["label"], d["name"]) for d in data)
            table = {int(k): str(v) for k, v in items}
        else:
            text = path.read_text(encoding="utf-8-sig")
            delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in text.splitlines()[0] else ","
            rows = list(csv.DictReader(text.splitlines(), delimiter=delimiter))
            table = {int(float(row["label"])): row["name"].strip() for row in rows}
    except (KeyError, ValueError, TypeError, json.JSONDecodeError, IndexError) as bad:
        raise VOIError(
            f"cannot read label table ({bad})", file=path, attribute="label,name",
            fix='use a header row "label,name" and integer labels, or JSON {"1": "liver"}',
        ) from bad
    if len(set(table.values())) != len(table):
        raise VOIError("label table gives the same name to several labels", file=path, attribute="name")
    return table


def masks_from_nifti(
    path: str | Path,
    grid: Image,
    *,
    labels: Mapping[int, str] | None = None,
    label: int | None = None,
    fractional: bool = False,
) -> dict[str, np.ndarray]:
    """Masks on ``grid`` from a NIfTI label map or binary mask.

    Parameters
    ----------
    path
        ``.nii`` / ``.nii.gz`` file; its sform/qform places it in patient space.
    grid
        The PET grid the masks are made on.
    labels
        Label value -> name. When given, only these labels are returned (each must be present).
    label
        Return only this label value.
    fractional
        Partial-volume fractions (float32, 0..1) instead of booleans; see :mod:`immunopet.voi.resample`.

    Returns
    -------
    dict
        VOI name -> mask of ``grid.shape``.
    """
    path = Path(path)
    if not path.is_file():
        raise VOIError("mask file not found", file=path, fix="check the path")
    try:
        source = Image.from_nifti(str(path), dtype=None)
    except VOIError:
        raise
    except Exception as bad:  # nibabel raises many kinds
        raise VOIError(f"cannot read NIfTI mask ({bad})", file=path, fix="give a .nii or .nii.gz label map") from bad
    found = present_labels(source.array, file=str(path))
    if not found:
        raise VOIError("mask is empty (all zeros)", file=path, fix="check that the right file was given")
    stem = file_stem(path)
    if labels is not None:
        names = {int(k): str(v) for k, v in labels.items()}
    else:
        names = {value: (stem if found == [1] else str(value)) for value in found}
    requested = label is not None
    if label is not None:
        names = {int(label): names.get(int(label), stem if found == [int(label)] else str(label))}
    missing = sorted(set(names) - set(found))
    if missing and requested:
        raise VOIError(
            f"label {missing[0]} not present in the mask (present: {found})", file=path, attribute="label",
            fix="check the label number or the label table",
        )
    if missing:
        log.warning("%s: labels %s of the label table are not in the mask; left out", path, missing)
        names = {k: v for k, v in names.items() if k in found}
    if not names:
        raise VOIError("none of the table's labels is in the mask", file=path, attribute="label")
    array = source.array.astype(np.int32, copy=False)
    return label_image_to_masks(
        Image(array, source.affine, "label"), grid, names, requested=requested, fractional=fractional, file=str(path)
    )
