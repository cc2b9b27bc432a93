"""Synthetic tables and volumes for the report tests (no other package needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from immunopet.image import Image

TYPES = ("bladder", "NSCLC", "TNBC")
ORGANS = ("blood_pool", "liver", "spleen", "kidneys")
DAYS = (0.04, 2.0, 4.0, 7.0)


@pytest.fixture(scope="session")
def synthetic_patients() -> pd.DataFrame:
    """A 22-patient table with uptake, biomarkers, response and survival drawn at random."""
    rng = np.random.default_rng(3)
    n = 22
    uptake = np.exp(rng.normal(1.5, 0.5, n))
    pct = np.clip(-60 * (np.log(uptake) - 1.5) + rng.normal(0, 25, n), -100, 120)
    response = np.where(pct <= -30, "PR", np.where(pct >= 20, "PD", "SD"))
    response[np.argmin(pct)] = "CR"
    return pd.DataFrame({
        "patient_id": [f"P{i + 1:02d}" for i in range(n)],
        "tumour_type": [TYPES[i % 3] for i in range(n)],
        "ihc_ic": rng.integers(0, 4, n),
        "rna_cd274": rng.normal(4, 1, n) + 0.5 * np.log(uptake),
        "best_response": response,
        "best_pct_change": pct,
        "pfs_months": np.round(rng.exponential(6, n) + 0.5, 1),
        "pfs_event": rng.integers(0, 2, n),
        "os_months": np.round(rng.exponential(12, n) + 1.0, 1),
        "os_event": rng.integers(0, 2, n),
        "pet_uptake": uptake,
        "n_lesions": 3,
    })


@pytest.fixture(scope="session")
def synthetic_measurements(synthetic_patients) -> pd.DataFrame:
    """Organ and lesion rows per patient and day, in the study measurements format."""
    rng = np.random.default_rng(5)
    rows = []
    for p in synthetic_patients.itertuples():
        for day in DAYS:
            for organ in ORGANS:
                rows.append(dict(patient_id=p.patient_id, tumour_type=p.tumour_type, day=day,
                                 hours_pi=24 * day, scan_id=f"{p.patient_id}_D{day:g}", voi_id=organ,
                                 kind="organ", site=organ, suv_max=np.nan, suv_peak=np.nan,
                                 suv_mean=float(rng.gamma(4, 1.0 + day / 7)), volume_ml=100.0))
            for lesion in range(3):
                rows.append(dict(patient_id=p.patient_id, tumour_type=p.tumour_type, day=day,
                                 hours_pi=24 * day, scan_id=f"{p.patient_id}_D{day:g}",
                                 voi_id=f"L{lesion + 1}", kind="lesion", site="lung",
                                 suv_max=float(p.pet_uptake * np.exp(rng.normal(0, 0.4))),
                                 suv_peak=np.nan, suv_mean=np.nan, volume_ml=5.0))
    return pd.DataFrame(rows)


@pytest.fixture()
def oblique_free_volume() -> tuple[Image, np.ndarray]:
    """A 40x30x50 PET-like volume with a hot spot, axes flipped (j towards anterior), and the spot's LPS."""
    array = np.zeros((40, 30, 50), dtype=np.float32)
    array[10:15, 20:23, 30:33] = 2.0
    array[12, 21, 31] = 9.0  # the hottest voxel
    affine = np.array([[4.0, 0, 0, -80], [0, -3.0, 0, 60], [0, 0, 2.5, -100], [0, 0, 0, 1]])
    image = Image(array, affine, "SUVbw")
    return image, image.index_to_world(np.array([12, 21, 31]))


@pytest.fixture(scope="session")
def demo_quick(tmp_path_factory):
    """``immunopet demo DIR --quick`` run once through the command line: (exit code, study folder)."""
    from immunopet.cli import main

    study = tmp_path_factory.mktemp("report-demo") / "demo-study"
    code = main(["--quiet", "demo", str(study), "--quick", "--workers", "2"])
    return code, study
