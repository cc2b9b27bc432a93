"""Benchmark: every kinetic fit of a demo-sized study (22 patients, 4 scan days, ~16 VOIs each).

Input: the simulator's cohort model (``draw_cohort(22, 0)``) turned into a measurements table with
SUVmean, volume and %ID of the blood pool, 14 organs and every lesion (exact values, 5 % noise), written
to a CSV. Timed as separate processes, the whole job each (import, read, fit, write):

- immunopet: ``immunopet.analysis.kinetics.kinetics`` (blood curves, Patlak WLS with SE/CI for every
  VOI, TIAC with trapezoid, three fitted models and AICc), tables written as CSV;
- reference: a plain loop doing the minimum of the same work, ``scipy.optimize.curve_fit`` of a
  bi-exponential blood curve per patient, ``numpy.linalg.lstsq`` Patlak line per VOI, ``numpy.trapezoid``
  TIAC per VOI (no weights, no SE, no model selection).

Prints both times and their ratio (best of 3). Nothing here asserts a time.
Run: ``.venv/bin/python benchmarks/bench_kinetics.py``
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMMUNOPET = """
import sys, pandas as pd
from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.study_kinetics import kinetics
from immunopet.analysis.record import Notes
m = pd.read_csv(sys.argv[1])
block, tables = kinetics(m, params=KineticsParams(), notes=Notes())
for name, table in tables.items():
    table.to_csv(f"{sys.argv[2]}/{name}.csv", index=False)
print(block["n_patlak_fits"], len(tables["tiac"]))
"""

REFERENCE = """
import sys, numpy as np, pandas as pd
from scipy.optimize import curve_fit
m = pd.read_csv(sys.argv[1])
lam = np.log(2) / 78.41
biexp = lambda t, a1, k1, a2, k2: a1 * np.exp(-k1 * t) + a2 * np.exp(-k2 * t)
rows, n = [], 0
for pid, part in m.groupby("patient_id"):
    blood = part[part.voi_id == "blood_pool"].sort_values("hours_pi")
    t, b = blood.hours_pi.to_numpy(), blood.suv_mean.to_numpy()
    try:
        p, _ = curve_fit(biexp, t, b, p0=(b[0] / 2, 0.07, b[0] / 2, 0.01), maxfev=5000)
    except RuntimeError:
        p = (0.0, 1.0, b.mean(), 0.01)
    integral = lambda x: p[0] * -np.expm1(-p[1] * x) / p[1] + p[2] * -np.expm1(-p[3] * x) / p[3]
    for voi, rows_voi in part.groupby("voi_id"):
        r = rows_voi.sort_values("hours_pi")
        late = r[r.day >= 2]
        cb = biexp(late.hours_pi.to_numpy(), *p)
        x, y = integral(late.hours_pi.to_numpy()) / cb, late.suv_mean.to_numpy() / cb
        (ki, vt), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
        f = r.pct_id.to_numpy() / 100 * np.exp(-lam * r.hours_pi.to_numpy())
        tiac = np.trapezoid(np.r_[0, f], np.r_[0, r.hours_pi.to_numpy()]) + f[-1] / lam
        rows.append((pid, voi, ki, vt, tiac))
        n += 1
pd.DataFrame(rows, columns=["patient_id", "voi_id", "ki", "v_t", "tiac"]).to_csv(f"{sys.argv[2]}/reference.csv")
print(n)
"""


def demo_measurements(path: Path) -> int:
    import numpy as np
    import pandas as pd

    from immunopet.simulate.cohort import draw_cohort

    cohort = draw_cohort(22, 0)
    rng = np.random.default_rng(0)
    scans = cohort.scans[["scan_id", "patient_id", "day", "hours_pi"]]
    organs = cohort.organs.merge(scans, on=["patient_id", "day", "hours_pi"])
    weight = cohort.subjects.set_index("patient_id")["weight_kg"]
    volume = organs["organ"].map(lambda o: 2.9 if o == "blood_pool" else 250.0)
    rows = pd.DataFrame({"patient_id": organs["patient_id"], "scan_id": organs["scan_id"], "day": organs["day"],
                         "hours_pi": organs["hours_pi"], "voi_id": organs["organ"], "kind": "organ",
                         "site": organs["organ"], "suv_mean": organs["suv_mean"], "volume_ml": volume})
    parts = [rows]
    for day in sorted(scans["day"].unique()):
        les = cohort.lesions.merge(scans[scans["day"] == day], on="patient_id")
        parts.append(pd.DataFrame({"patient_id": les["patient_id"], "scan_id": les["scan_id"], "day": day,
                                   "hours_pi": les["hours_pi"], "voi_id": les["voi_id"], "kind": "lesion",
                                   "site": les["site"], "suv_mean": les[f"suv_mean_day{day:g}"],
                                   "volume_ml": np.pi / 6 * (les["baseline_diameter_mm"] / 10) ** 3}))
    m = pd.concat(parts, ignore_index=True)
    m["suv_mean"] *= np.exp(rng.normal(0, 0.05, len(m)))
    m["suv_max"] = m["suv_mean"]
    m["mean_bqml"] = m["suv_mean"]  # units irrelevant to the timing
    m["pct_id"] = 100 * m["suv_mean"] * m["volume_ml"] / (m["patient_id"].map(weight) * 1000)
    m.to_csv(path, index=False)
    return int(m.groupby(["patient_id", "voi_id"]).ngroups)


def best_of(repeats: int, args: list[str]) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-kinetics-") as tmp:
        table = Path(tmp) / "measurements.csv"
        n_vois = demo_measurements(table)
        print(f"demo study: 22 patients, {n_vois} VOI time-activity curves of 4 scans")
        ours = best_of(3, [sys.executable, "-c", IMMUNOPET, str(table), tmp])
        reference = best_of(3, [sys.executable, "-c", REFERENCE, str(table), tmp])
    print(f"immunopet kinetics (Patlak WLS + SE/CI, TIAC 4 methods + AICc): {ours:.2f} s")
    print(f"reference (curve_fit blood + lstsq Patlak + trapezoid TIAC):  {reference:.2f} s")
    print(f"ratio immunopet / reference: {ours / reference:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
