"""Fixtures of the study tests: a small analytic study (NIfTI SUV volumes with known values)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import nibabel
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from support.tables import keep_patients

from immunopet.image import Image

#: Known SUVs of the analytic study: background, liver block, lesion block, blood-pool block.
BACKGROUND, LIVER, LESION, BLOOD = 1.0, 3.0, 8.0, 2.0
SHAPE = (24, 24, 16)
VOXEL_MM = 4.0


def _affine() -> np.ndarray:
    affine = np.diag([VOXEL_MM, VOXEL_MM, VOXEL_MM, 1.0])
    affine[:3, 3] = [-46.0, -46.0, -30.0]  # voxel (0,0,0) centre in LPS mm
    return affine


def centre_of(i: float, j: float, k: float) -> tuple[float, float, float]:
    """LPS mm of voxel index (i, j, k) on the analytic grid."""
    return tuple(float(v) for v in (_affine() @ np.array([i, j, k, 1.0]))[:3])


def write_pet(path: Path, *, scale: float = 1.0) -> None:
    """SUVbw volume: background, liver block [2:8, 2:8, 2:8], lesion block [14:20]^2 x [4:10], blood [14:20, 2:8, 8:14]."""
    array = np.full(SHAPE, BACKGROUND, dtype=np.float32)
    array[2:8, 2:8, 2:8] = LIVER
    array[14:20, 14:20, 4:10] = LESION
    array[14:20, 2:8, 8:14] = BLOOD
    nibabel.save(Image(array * np.float32(scale), _affine(), "SUVbw").to_nifti(), str(path))


def write_liver_mask(path: Path) -> None:
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[2:8, 2:8, 2:8] = 1
    nibabel.save(Image(labels, _affine(), "label").to_nifti(), str(path))


def make_study(root: Path, *, n_patients: int = 3, days: tuple[float, ...] = (2, 7)) -> Path:
    """Write an analytic study: every scan's PET is a NIfTI in SUVbw; lesion SUV = 8 x (patient number)."""
    (root / "pet").mkdir(parents=True)
    (root / "masks").mkdir()
    (root / "study.yaml").write_text(
        "name: ANALYTIC\ntracer: 89Zr-test\nnuclide: Zr-89\nsuv_type: bw\nsuv_peak: global\n"
        "outcome_day: 7\nlesion_metric: suv_max\nresponders: [CR, PR]\n"
    )
    patients, scans, vois, lesions = [], [], [], []
    lesion_centre = centre_of(16.5, 16.5, 6.5)
    blood_centre = centre_of(16.5, 4.5, 10.5)
    for p in range(1, n_patients + 1):
        pid = f"P{p:02d}"
        patients.append({"patient_id": pid, "tumour_type": "bladder" if p % 2 else "NSCLC", "sex": "M",
                         "height_cm": 175 if p != 3 else None, "dose_cohort": "10mg",
                         "best_response": "PR" if p == 1 else "PD"})
        lesions.append({"patient_id": pid, "voi_id": "L1", "site": "lung", "baseline_diameter_mm": 20, "pct_change": -10 * p})
        for day in days:
            sid = f"{pid}_D{day:g}"
            write_pet(root / "pet" / f"{sid}.nii.gz", scale=p)
            write_liver_mask(root / "masks" / f"{sid}_liver.nii.gz")
            scans.append({"scan_id": sid, "patient_id": pid, "day": day, "pet": f"pet/{sid}.nii.gz", "pet_units": "SUVbw"})
            vois.append({"scan_id": sid, "voi_id": "liver", "kind": "organ", "site": "liver", "source": "mask",
                         "path": f"masks/{sid}_liver.nii.gz", "label": 1})
            vois.append({"scan_id": sid, "voi_id": "blood_pool", "kind": "organ", "site": "blood_pool",
                         "source": "sphere", "x_mm": blood_centre[0], "y_mm": blood_centre[1], "z_mm": blood_centre[2],
                         "diameter_mm": 12})
            vois.append({"scan_id": sid, "voi_id": "L1", "kind": "lesion", "site": "lung", "source": "sphere",
                         "x_mm": lesion_centre[0], "y_mm": lesion_centre[1], "z_mm": lesion_centre[2], "diameter_mm": 16})
    for name, rows in (("patients", patients), ("scans", scans), ("vois", vois), ("lesions", lesions)):
        pd.DataFrame(rows).to_csv(root / f"{name}.csv", index=False)
    return root


@pytest.fixture
def analytic_study(tmp_path: Path) -> Path:
    """A fresh analytic study folder (3 patients x 2 scans x 3 VOIs)."""
    return make_study(tmp_path / "analytic")


@pytest.fixture
def fresh_pg_database(pg_url: str) -> Callable[[], str]:
    """Factory of empty PostgreSQL databases (one per call, dropped at teardown)."""
    admin = sa.create_engine(pg_url, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        name = f"immunopet_test_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        made.append(name)
        return sa.engine.make_url(pg_url).set(database=name).render_as_string(hide_password=False)

    yield make
    with admin.connect() as conn:
        for name in made:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path: Path) -> str:
    """A fresh results-store URL: an SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.sqlite'}"
    return request.getfixturevalue("fresh_pg_database")()


@pytest.fixture
def analytic_values() -> dict[str, float]:
    """SUVs written into the analytic study's PET for patient 1 (patient p: p times these)."""
    return {"background": BACKGROUND, "liver": LIVER, "L1": LESION, "blood_pool": BLOOD}


@pytest.fixture
def copy_quick_study(quick_study: Path, tmp_path: Path) -> Callable[..., Path]:
    """Factory: a private copy of the shared quick study, optionally cut down to some patients
    (``patients=[index, ...]``: positions in patients.csv, so the test does not depend on the ids
    the simulator draws)."""
    import shutil

    def copy(name: str = "study", *, patients: list[int] | None = None) -> Path:
        out = tmp_path / name
        shutil.copytree(quick_study, out, ignore=shutil.ignore_patterns("results"))
        if patients is not None:
            keep_patients(out, patients)
        return out

    return copy


@pytest.fixture(scope="session")
def measured(tmp_path_factory, quick_study):
    """The whole quick study run once with the default process pool: (folder, summary, results
    snapshot taken right after the run; tests may change the folder afterwards)."""
    import shutil

    from immunopet.study import load_results, run_study

    study = tmp_path_factory.mktemp("quick-run") / "study"
    shutil.copytree(quick_study, study)
    summary = run_study(study, workers=2, progress=False)
    return study, summary, load_results(study)



@pytest.fixture
def linked_quick_study(quick_study: Path, tmp_path: Path) -> Callable[..., Path]:
    """Factory: a fast copy of the quick study for tests that edit its tables only: image files are
    hard links (real files inside the copy), the tables and study.yaml are copies."""
    import os
    import shutil

    def copy(name: str = "study", *, patients: list[int] | None = None, under: Path | None = None) -> Path:
        out = (under or tmp_path) / name
        shutil.copytree(quick_study, out, copy_function=os.link, ignore=shutil.ignore_patterns("results"))
        for file in out.iterdir():
            if file.is_file():
                file.unlink()
                shutil.copy2(quick_study / file.name, file)
        if patients is not None:
            keep_patients(out, patients)
        return out

    return copy
