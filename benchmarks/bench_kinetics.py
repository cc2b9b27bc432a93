"""Benchmark: what the kinetic analyses cost the user of `immunopet analyze`, against references.

Input: a measured study (``immunopet run`` done); without STUDY_DIR the simulator's quick study of
``--patients`` patients x 4 scan days is simulated and run into a temporary folder (not timed).
Timed as separate processes, the whole job each (start-up, reading the store, fitting, writing),
best of ``--repeats``:

- ``immunopet analyze STUDY --out ...``: the command as the user runs it;
- the same command with the kinetic step left out (``kinetics_section`` replaced by an empty
  block): the reference of "what kinetics adds to analyze";
- the kinetic step alone as analyze runs it: ``load_results``, then
  ``immunopet.analysis.kinetics.kinetics`` (blood curves, Patlak WLS with SE/CI for every VOI, TIAC
  with trapezoid, three fitted models and AICc), its tables written as CSV;
- reference of that step: ``load_results``, then a plain loop doing the minimum of the same work,
  ``scipy.optimize.curve_fit`` of a bi-exponential blood curve per patient, ``numpy.linalg.lstsq``
  Patlak line per VOI, ``numpy.trapezoid`` TIAC per VOI (no weights, no SE, no model selection).

Prints wall-clock and CPU times and their ratios. Nothing here asserts a time.
Run: ``.venv/bin/python benchmarks/bench_kinetics.py [STUDY_DIR] [--patients 22] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ANALYZE = "import sys; from immunopet.cli import main; sys.exit(main(sys.argv[1:]))"

ANALYZE_WITHOUT_KINETICS = """
import sys
import immunopet.analysis.pipeline as pipeline
pipeline.kinetics_section = lambda *args, **kwargs: ({"reason": "left out (benchmark reference)"}, {})
from immunopet.cli import main
sys.exit(main(sys.argv[1:]))
"""

KINETICS = """
import sys
from immunopet.analysis.kinetics.params import KineticsParams
from immunopet.analysis.kinetics.study_kinetics import kinetics
from immunopet.analysis.record import Notes
from immunopet.study import load_results
results = load_results(sys.argv[1])
params = KineticsParams.from_config(results.config)
block, tables = kinetics(results.measurements, params=params, notes=Notes())
for name, table in tables.items():
    table.to_csv(f"{sys.argv[2]}/{name}.csv", index=False)
print(block["n_patlak_fits"], len(tables["tiac"]))
"""

REFERENCE = """
import sys, numpy as np, pandas as pd
from scipy.optimize import curve_fit
from immunopet.study import load_results
m = load_results(sys.argv[1]).measurements
lam = np.log(2) / 78.41
biexp = lambda t, a1, k1, a2, k2: a1 * np.exp(-k1 * t) + a2 * np.exp(-k2 * t)
rows = []
for pid, part in m.groupby("patient_id"):
    blood = part[part.voi_id == "blood_pool"].sort_values("hours_pi")
    t, b = blood.hours_pi.to_numpy(float), blood.suv_mean.to_numpy(float)
    try:
        p, _ = curve_fit(biexp, t, b, p0=(b[0] / 2, 0.07, b[0] / 2, 0.01), maxfev=5000)
    except (RuntimeError, TypeError):
        p = (0.0, 1.0, b.mean(), 0.01)
    integral = lambda x: p[0] * -np.expm1(-p[1] * x) / p[1] + p[2] * -np.expm1(-p[3] * x) / p[3]
    for voi, rows_voi in part.groupby("voi_id"):
        r = rows_voi.sort_values("hours_pi")
        late = r[r.day >= 2]
        cb = biexp(late.hours_pi.to_numpy(float), *p)
        x, y = integral(late.hours_pi.to_numpy(float)) / cb, late.suv_mean.to_numpy(float) / cb
        (ki, vt), *_ = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)
        f = r.pct_id.to_numpy(float) / 100 * np.exp(-lam * r.hours_pi.to_numpy(float))
        tiac = np.trapezoid(np.r_[0, f], np.r_[0, r.hours_pi.to_numpy(float)]) + f[-1] / lam
        rows.append((pid, voi, ki, vt, tiac))
pd.DataFrame(rows, columns=["patient_id", "voi_id", "ki", "v_t", "tiac"]).to_csv(f"{sys.argv[2]}/reference.csv")
print(len(rows))
"""


def measured_study(workdir: Path, patients: int) -> Path:
    """The simulator's quick study, measured by ``run_study`` (setup, not timed)."""
    from immunopet.simulate import simulate_study
    from immunopet.study import run_study

    start = time.perf_counter()
    study = simulate_study(workdir / "study", patients=patients, quick=True, seed=0)
    run_study(study, progress=False)
    print(f"simulated and measured {patients} patients x 4 days (quick) in {time.perf_counter() - start:.0f} s")
    return study


def best_of(repeats: int, args: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeats`` runs; the CPU time (user + system of the
    process) is the steadier figure on a shared machine."""
    runs = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append((wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    return min(runs)


def report(name: str, ours: tuple[float, float], reference: tuple[float, float]) -> None:
    print(f"ratio {name}: {ours[0] / reference[0]:.2f} (wall), {ours[1] / reference[1]:.2f} (CPU)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, help="a measured study folder (default: simulate one)")
    parser.add_argument("--patients", type=int, default=22, help="patients to simulate (default 22)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each command; the best counts (default 3)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-kinetics-"))
    try:
        study = args.study if args.study is not None else measured_study(workdir, args.patients)
        out = {name: workdir / name for name in ("analyze", "without", "kinetics", "reference")}
        for folder in out.values():
            folder.mkdir()
        py = sys.executable
        analyze = best_of(args.repeats, [py, "-c", ANALYZE, "analyze", str(study), "--out", str(out["analyze"])])
        without = best_of(args.repeats, [py, "-c", ANALYZE_WITHOUT_KINETICS, "analyze", str(study), "--out",
                                         str(out["without"])])
        ours = best_of(args.repeats, [py, "-c", KINETICS, str(study), str(out["kinetics"])])
        reference = best_of(args.repeats, [py, "-c", REFERENCE, str(study), str(out["reference"])])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for label, (wall, cpu) in (("immunopet analyze (whole command)", analyze),
                               ("immunopet analyze without the kinetic step (reference)", without),
                               ("kinetic step as analyze runs it (read store, fit, write CSV)", ours),
                               ("reference (read store, curve_fit + lstsq Patlak + trapezoid)", reference)):
        print(f"{label:<64} {wall:7.2f} s wall {cpu:7.2f} s CPU")
    report("analyze / analyze without kinetics", analyze, without)
    report("kinetic step / reference", ours, reference)
    return 0


if __name__ == "__main__":
    sys.exit(main())
