"""Fixtures of the export tests: one simulated patient (days 2 and 7) measured and exported once."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

#: The VOIs kept per scan: two organs (a label-map mask and the blood-pool sphere) and every lesion.
KEEP_ORGANS = ("liver", "blood_pool")


def cut_down(study: Path, *, days: tuple[str, ...] = ("2.0", "7.0")) -> Path:
    """Keep the first patient's scans of ``days`` and, per scan, the organs above and all lesions."""
    patients = pd.read_csv(study / "patients.csv", dtype=str, keep_default_na=False)
    first = patients["patient_id"].iloc[0]
    patients[patients["patient_id"] == first].to_csv(study / "patients.csv", index=False)
    table = pd.read_csv(study / "scans.csv", dtype=str, keep_default_na=False)
    table = table[table["patient_id"] == first]
    table = table[table["day"].isin(days)]
    table.to_csv(study / "scans.csv", index=False)
    vois = pd.read_csv(study / "vois.csv", dtype=str, keep_default_na=False)
    keep = vois["scan_id"].isin(table["scan_id"]) & ((vois["kind"] == "lesion") | vois["voi_id"].isin(KEEP_ORGANS))
    vois[keep].to_csv(study / "vois.csv", index=False)
    lesions = pd.read_csv(study / "lesions.csv", dtype=str, keep_default_na=False)
    lesions[lesions["patient_id"] == first].to_csv(study / "lesions.csv", index=False)
    return study


@dataclass(frozen=True)
class Exported:
    """The measured study and its two exports (pseudonymous and with identifiers)."""

    study: Path
    results: object  # immunopet.study.Results
    pseudonymous: object  # ExportSummary
    identified: object  # ExportSummary


@pytest.fixture(scope="session")
def exported(tmp_path_factory, quick_study) -> Exported:
    """One patient (two scan days) of the quick study, run, then exported both ways (2 workers, as users run it)."""
    from immunopet.export import export_study
    from immunopet.study import load_results, run_study

    study = cut_down(Path(shutil.copytree(quick_study, tmp_path_factory.mktemp("export") / "study")))
    run_study(study, workers=1, progress=False)
    pseudonymous = export_study(study, progress=False)
    identified = export_study(study, out=study / "export-identified", include_identifiers=True, progress=False)
    return Exported(study, load_results(study), pseudonymous, identified)
