"""Checks across rows and tables: unique ids, references, what each VOI source needs, files.

Every function returns a list of :class:`Problem`; none raises, so all problems are reported at once.
"""

from __future__ import annotations

import pandas as pd

from immunopet.study.paths import PathPolicy
from immunopet.study.problems import Problem

#: Columns each VOI source needs (besides the always-required ones).
SOURCE_NEEDS: dict[str, tuple[str, ...]] = {
    "mask": ("path",),
    "rtstruct": ("path", "label"),
    "seg": ("path",),
    "segmenter": ("path", "label"),
    "segmenter-rules": ("path",),
    "sphere": ("x_mm", "y_mm", "z_mm"),
    "seed": ("x_mm", "y_mm", "z_mm"),
}
NIFTI_SUFFIXES = (".nii", ".nii.gz")
#: sources whose path is a folder of masks (TotalSegmentator / MOOSE layout)
FOLDER_SOURCES = ("segmenter", "segmenter-rules")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value == ""


def duplicates(table: pd.DataFrame, file: str, keys: list[str], what: str) -> list[Problem]:
    """One problem per row whose ``keys`` repeat an earlier row's."""
    if table.empty:
        return []
    repeated = table[table.duplicated(keys, keep="first")]
    first_rows = table.drop_duplicates(keys).set_index(keys)["_row"]
    problems = []
    for row in repeated.to_dict("records"):
        key = tuple(row[k] for k in keys)
        first = first_rows.loc[key if len(keys) > 1 else key[0]]
        shown = ", ".join(f"{k}={v!r}" for k, v in zip(keys, key, strict=True))
        problems.append(Problem(file, row["_row"], keys[-1], f"duplicate {what} ({shown}; first on row {first})"))
    return problems


def known_ids(table: pd.DataFrame, column: str) -> set[str]:
    """Ids of a table, including those of rows rejected for other problems (no follow-on errors)."""
    return set(table[column]) | {r.get(column) for r in table.attrs.get("rejected", [])}


def references(
    table: pd.DataFrame, file: str, column: str, known: set[str], target_file: str
) -> list[Problem]:
    """One problem per row whose ``column`` names an id missing from ``known``."""
    bad = table[~table[column].isin(known)] if not table.empty else table
    return [
        Problem(file, row, column, f"{value!r} is not in {target_file}")
        for row, value in zip(bad["_row"], bad[column], strict=True)
    ]


def _path_problem(policy: PathPolicy, value: str, file: str, row: int, column: str, **kinds: bool) -> list[Problem]:
    found = policy.problem(value, **kinds)
    return [] if found is None else [Problem(file, row, column, found)]


def scan_problems(scans: pd.DataFrame, policy: PathPolicy, file: str, *, suv_units: str | None = None) -> list[Problem]:
    """Files of each scan exist where the study may read; a NIfTI PET states its units, the study's
    SUV (``suv_units``)."""
    problems = []
    for row in scans.to_dict("records"):
        for column in ("pet", "ct"):
            if not _blank(row[column]):
                problems += _path_problem(policy, row[column], file, row["_row"], column)
        nifti = str(row["pet"]).lower().endswith(NIFTI_SUFFIXES)
        if nifti and suv_units and row["pet_units"] != suv_units:
            problems.append(Problem(
                file, row["_row"], "pet_units",
                f"a NIfTI PET must be in the study's SUV ({suv_units}, study.yaml suv_type), found {row['pet_units']!r}; "
                "give the DICOM series for any other SUV, %ID or Bq/mL",
            ))
        elif not nifti and not _blank(row["pet_units"]):
            problems.append(
                Problem(file, row["_row"], "pet_units", "pet_units is for NIfTI PET only; leave it empty")
            )
    return problems


def voi_problems(vois: pd.DataFrame, policy: PathPolicy, file: str) -> list[Problem]:
    """Each VOI row has what its source needs, and its file exists."""
    problems = []
    for row in vois.to_dict("records"):
        source, number = row["source"], row["_row"]
        for column in SOURCE_NEEDS[source]:
            if _blank(row[column]):
                problems.append(Problem(file, number, column, f"source {source!r} needs {column}"))
        if source == "sphere" and _blank(row["diameter_mm"]) == _blank(row["volume_ml"]):
            problems.append(
                Problem(file, number, "diameter_mm", "a sphere needs exactly one of diameter_mm or volume_ml")
            )
        if not _blank(row["delineation"]) and source not in ("seed", "mask"):
            problems.append(
                Problem(file, number, "delineation", f"delineation applies to seed or mask VOIs, not {source!r}")
            )
        if row["delineation"] == "fixed" and _blank(row["threshold"]):
            problems.append(Problem(file, number, "threshold", "delineation 'fixed' needs an SUV threshold"))
        if row["delineation"] == "pct_max" and not _blank(row["threshold"]) and row["threshold"] >= 1:
            problems.append(
                Problem(file, number, "threshold", "pct_max takes a fraction of SUVmax between 0 and 1 (e.g. 0.41)")
            )
        if not _blank(row["path"]):
            folder = source in FOLDER_SOURCES
            problems += _path_problem(policy, row["path"], file, number, "path", file_ok=not folder, folder_ok=folder)
    return problems


def lesion_problems(lesions: pd.DataFrame, lesion_vois: set[tuple[str, str]], file: str) -> list[Problem]:
    """Each lesion row names a lesion VOI of one of the patient's scans."""
    return [
        Problem(file, row["_row"], "voi_id",
                f"no lesion VOI {row['voi_id']!r} of patient {row['patient_id']!r} in vois.csv")
        for row in lesions.to_dict("records")
        if (row["patient_id"], row["voi_id"]) not in lesion_vois
    ]
