"""Fixtures of the init tests: simulated raw exports (``simulate --layout pacs``) and their init studies."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

#: Decoy kind written by the simulator -> the reason init must give (the phrase before any colon).
EXPECTED_REASON = {
    "second_recon": "second reconstruction",
    "nac": "not attenuation corrected (NAC)",
    "mip": "derived image (MIP, projection or reformat)",
    "scout": "scout / localizer",
    "dose_report": "dose report",
    "rdsr": "dose report",
    "off_schedule_pet": "off schedule",
    "off_schedule_ct": "CT not paired with a quantified PET",
    "annotation_off_schedule": "annotation of no quantified scan",
}


def _export(tmp_path_factory, name: str, **options) -> Path:
    from immunopet.simulate.pacs_export import simulate_pacs_export

    return simulate_pacs_export(tmp_path_factory.mktemp(name) / "sim", quick=True, **options)


@pytest.fixture(scope="session")
def pacs_export(tmp_path_factory) -> Path:
    """A quick raw export, seed 0: five patients, one of them returning for a second injection."""
    return _export(tmp_path_factory, "pacs0", seed=0)


@pytest.fixture(scope="session")
def pacs_export_small(tmp_path_factory) -> Path:
    """A second seed with two patients (no returning patient: injections too close together)."""
    return _export(tmp_path_factory, "pacs3", seed=3, patients=2)


@pytest.fixture(scope="session")
def init_of(tmp_path_factory):
    """``init_of(sim)``: the init study of a simulated export (made once per export)."""
    from immunopet.intake import init_study

    made: dict[Path, object] = {}

    def make(sim: Path):
        if sim not in made:
            made[sim] = init_study(tmp_path_factory.mktemp("init") / "study", sim / "dicom-export", workers=2)
        return made[sim]

    return make


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)
