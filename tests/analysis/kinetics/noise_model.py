"""Simulated Patlak data drawn from the simulator's kinetic and noise models, without images.

The simulator's grain (``immunopet.simulate.scanner``) is white noise of unit density per mL after
its kernel, so the mean over a VOI of volume ``V`` much larger than the kernel has the count
variance ``C / (V p T s)`` whatever the kernel (at ``alpha = 1``; this model keeps that form and
leaves out the low-frequency noise). Drawing the VOI means directly from that gives hundreds of
lesions in milliseconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.nuclides import get_nuclide

BLOOD_POOL_ML = 2.9


def voi_sd_suv(suv: np.ndarray, hours: np.ndarray, volume_ml: np.ndarray, *, injected_bq: float, weight_kg: float,
               params: dict) -> np.ndarray:
    """SD (SUV) of a VOI mean under the simulator's noise model."""
    sc = params["scanner"]
    nuc = get_nuclide(params["study"]["nuclide"])
    decay = np.exp(-np.log(2) * hours * 3600.0 / nuc.half_life_s)
    conc = suv * injected_bq * decay / (weight_kg * 1000.0)
    frame_s = 60.0 * float(sc["minutes_per_bed"])
    sensitivity = float(sc["noise_equivalent_sensitivity"])
    var = np.maximum(conc, 0) / (volume_ml * nuc.positron_fraction * frame_s * sensitivity)
    return np.sqrt(var) * suv / np.maximum(conc, 1e-30)


def noisy_tables(cohort, *, seed: int, noise_scale: float = 1.0, blood_noise: bool = True) -> pd.DataFrame:
    """A measurements table (blood pool and lesions, ``suv_mean``, ``volume_ml``) with simulator-like noise.

    ``blood_noise=False``: the blood input is exact (as from well-counted blood samples) and its
    VOI has no volume, so the Patlak weights hold the tissue's counting noise only.
    """
    from immunopet.simulate.kinetics import BloodCurve, tissue_suv

    rng = np.random.default_rng(seed)
    params = cohort.params
    subjects = cohort.subjects.set_index("patient_id")
    scans = cohort.scans
    rows = []
    for pid, les in cohort.lesions.groupby("patient_id", sort=True):
        s = subjects.loc[pid]
        blood = BloodCurve(s["blood_a_fast"], s["blood_t_fast_h"], s["blood_a_slow"], s["blood_t_slow_h"])
        own = scans[scans["patient_id"] == pid]
        t = own["hours_pi"].to_numpy(float)
        kw = dict(injected_bq=float(s["injected_bq"]), weight_kg=float(s["weight_kg"]), params=params)
        b = blood.suv(t)
        b_noisy = b + noise_scale * voi_sd_suv(b, t, BLOOD_POOL_ML, **kw) * rng.standard_normal(t.size)
        if not blood_noise:
            b_noisy = b
        for scan_id, day, h, value in zip(own["scan_id"], own["day"], t, b_noisy, strict=True):
            rows.append({"patient_id": pid, "scan_id": scan_id, "day": day, "hours_pi": h, "voi_id": "blood_pool",
                         "kind": "organ", "site": "blood_pool", "suv_mean": value,
                         "volume_ml": BLOOD_POOL_ML if blood_noise else np.nan})
        for lesion in les.itertuples():
            factor = 1.0 - 0.6 * lesion.heterogeneity  # VOI mean / centre of the radial profile
            suv = factor * tissue_suv(blood, lesion.v_t, lesion.ki, t)
            volume = np.pi / 6.0 * (lesion.baseline_diameter_mm / 10.0) ** 3
            noisy = suv + noise_scale * voi_sd_suv(suv, t, volume, **kw) * rng.standard_normal(t.size)
            for scan_id, day, h, value in zip(own["scan_id"], own["day"], t, noisy, strict=True):
                rows.append({"patient_id": pid, "scan_id": scan_id, "day": day, "hours_pi": h,
                             "voi_id": lesion.voi_id, "kind": "lesion", "site": lesion.site, "suv_mean": value,
                             "volume_ml": volume, "true_ki": factor * lesion.ki, "true_v_t": factor * lesion.v_t})
    return pd.DataFrame(rows)
