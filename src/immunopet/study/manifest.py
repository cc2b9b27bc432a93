"""The study folder as one validated object: :func:`load_study` -> :class:`Study`.

Every problem in ``study.yaml`` and in the tables is collected first and raised together as a
:class:`~immunopet.study.problems.StudyValidationError` (a :class:`~immunopet.errors.StudyError`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pandas as pd
import yaml
from pydantic import ValidationError

from immunopet.errors import StudyError
from immunopet.study import crosscheck
from immunopet.study.config import StudyConfig
from immunopet.study.paths import PathPolicy
from immunopet.study.problems import Problem, StudyValidationError
from immunopet.study.propagation import expand_drawn_once
from immunopet.study.rows import ROW_MODELS, ROW_RULES
from immunopet.study.tables import read_table

STUDY_FILE = "study.yaml"
SUV_UNITS = {"bw": "SUVbw", "lbm": "SUVlbm", "bsa": "SUVbsa", "ibw": "SUVibw"}


@dataclass(frozen=True, eq=False)
class Study:
    """A validated study folder.

    Attributes
    ----------
    root
        The study folder (absolute).
    config
        ``study.yaml``.
    patients, scans, vois, lesions
        The tables, typed; ``lesions`` is empty when there is no ``lesions.csv``. Each has a ``_row``
        column with the spreadsheet row number it came from.
    """

    root: Path
    config: StudyConfig
    patients: pd.DataFrame
    scans: pd.DataFrame
    vois: pd.DataFrame
    lesions: pd.DataFrame

    @cached_property
    def policy(self) -> PathPolicy:
        """Where the study's paths may point (``allow_outside_paths`` of study.yaml)."""
        return PathPolicy.for_study(self.root, self.config.allow_outside_paths)

    def path(self, relative: str) -> Path:
        """A path from a table, resolved against the study folder (absolute paths stay)."""
        return self.policy.absolute(relative)

    def scan(self, scan_id: str) -> dict:
        """The ``scans.csv`` row of ``scan_id`` as a dict."""
        found = self.scans[self.scans["scan_id"] == scan_id]
        if found.empty:
            raise StudyError(f"scan {scan_id!r} is not in the study", file=self.root / self.config.tables.scans)
        return found.iloc[0].to_dict()

    def scan_vois(self, scan_id: str) -> pd.DataFrame:
        """The ``vois.csv`` rows of one scan."""
        return self.vois[self.vois["scan_id"] == scan_id]


def _read_config(root: Path) -> tuple[StudyConfig | None, list[Problem]]:
    path = root / STUDY_FILE
    if not path.is_file():
        return None, [Problem(STUDY_FILE, None, None, f"file not found in {root}")]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as bad:
        return None, [Problem(STUDY_FILE, None, None, f"not valid YAML ({bad})")]
    if not isinstance(data, dict):
        return None, [Problem(STUDY_FILE, None, None, "expected key: value pairs (name:, nuclide:, ...)")]
    try:
        return StudyConfig.model_validate(data), []
    except ValidationError as invalid:
        problems = []
        for error in invalid.errors():
            key = ".".join(str(part) for part in error["loc"]) or None
            message = "unknown key (misspelt?)" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(Problem(STUDY_FILE, None, key, message))
        return None, problems


def load_study(study_dir: str | Path) -> Study:
    """Read and validate a study folder (``docs/study-format.md``).

    Parameters
    ----------
    study_dir
        Folder holding ``study.yaml`` and the tables.

    Returns
    -------
    Study

    Raises
    ------
    StudyValidationError
        Listing every problem found (file, row, column, what is expected).
    """
    root = Path(study_dir).resolve()
    try:
        found = root.is_dir()
    except OSError as error:  # permission denied on the way, name too long ...
        raise StudyError(f"cannot open the study folder ({error.strerror or error})", file=root,
                         fix="give a folder the user running immunopet may read") from error
    if not found:
        raise StudyError("study folder not found", file=root, fix="give the folder holding study.yaml")
    config, problems = _read_config(root)
    names = config.tables if config is not None else StudyConfig.model_fields["tables"].default_factory()
    policy = PathPolicy.for_study(root, config.allow_outside_paths if config is not None else False)
    tables = {}
    unread = set()  # tables that could not be read: references to them are not checked
    for key, model in ROW_MODELS.items():
        file = getattr(names, key)
        tables[key], found = read_table(root, file, model, optional=(key == "lesions"), rules=ROW_RULES[key],
                                        policy=policy)
        problems += found
        if any(p.row in (None, 1) for p in found):
            unread.add(key)
        elif key in ("patients", "scans", "vois") and tables[key].empty and not tables[key].attrs.get("rejected"):
            problems.append(Problem(file, None, None, "the table has no rows; a study needs at least one"))
    patients, scans, vois, lesions = (tables[k] for k in ("patients", "scans", "vois", "lesions"))
    files = {key: getattr(names, key) for key in ROW_MODELS}
    if not unread & {"scans", "vois"}:  # VOIs drawn once -> one row per scan of the patient
        vois, found = expand_drawn_once(vois, scans, files["vois"], root=root)
        problems += found

    problems += crosscheck.duplicates(patients, files["patients"], ["patient_id"], "patient_id")
    problems += crosscheck.duplicates(scans, files["scans"], ["scan_id"], "scan_id")
    problems += crosscheck.duplicates(vois, files["vois"], ["scan_id", "voi_id"], "VOI of a scan")
    problems += crosscheck.duplicates(lesions, files["lesions"], ["patient_id", "voi_id"], "lesion of a patient")
    if "patients" not in unread:
        known_patients = crosscheck.known_ids(patients, "patient_id")
        for table, key in ((scans, "scans"), (lesions, "lesions")):
            problems += crosscheck.references(table, files[key], "patient_id", known_patients, files["patients"])
    if "scans" not in unread:
        known_scans = crosscheck.known_ids(scans, "scan_id")
        problems += crosscheck.references(vois, files["vois"], "scan_id", known_scans, files["scans"])
    suv_units = None if config is None else SUV_UNITS[config.suv_type]
    problems += crosscheck.scan_problems(scans, policy, files["scans"], suv_units=suv_units)
    problems += crosscheck.voi_problems(vois, policy, files["vois"])
    if not unread & {"scans", "vois"}:
        lesion_vois = vois[vois["kind"] == "lesion"].drop(columns="patient_id").merge(
            scans[["scan_id", "patient_id"]], on="scan_id")
        problems += crosscheck.lesion_problems(
            lesions, set(zip(lesion_vois["patient_id"], lesion_vois["voi_id"], strict=True)), files["lesions"]
        )
    from immunopet.study.blood_samples import blood_problems

    problems += blood_problems(root, policy, None if "patients" in unread else crosscheck.known_ids(patients, "patient_id"))
    if problems:
        raise StudyValidationError(problems, study_dir=str(root))
    assert config is not None  # no problems means study.yaml was read
    return Study(root, config, patients, scans, vois, lesions)
