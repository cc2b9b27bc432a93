"""Benchmark of `immunopet register` against a plain SimpleITK registration of the same scan pairs.

Simulates a study at the demo's resolution (default 2 patients x 4 days: 6 scan pairs), then times
as separate processes, in the same run (a user waits for start-up, reading and writing):

- the reference: one Python process that, for every pair `immunopet register` would register,
  reads both CT series with SimpleITK's ``ImageSeriesReader`` (GDCM), registers them rigidly with
  the same metric, sampling, levels and optimiser settings (geometric centring, no CT window, no
  quality measures) and writes the transform file: a lower bound for the same work;
- `immunopet register STUDY --force --workers 1` and `--workers 2` (whole command: start-up,
  validating the study, reading, registering, the quality measures, writing the records and store);
- `immunopet validate STUDY` for scale (start-up and reading the study, no image work).

Printed: wall and CPU time of each process (on a shared machine the CPU time is the fair number),
the time per pair, and the ratios immunopet / SimpleITK of both. Target: <= 5 s per pair on 2 cores.
Nothing here asserts a time.

Run: .venv/bin/python benchmarks/bench_register.py [--patients 2] [--deformable] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from immunopet.simulate import simulate_study

SITK_SCRIPT = """
import json, sys
import SimpleITK as sitk

spec = json.load(open(sys.argv[1]))
p = spec["params"]
for pair in spec["pairs"]:
    images = []
    for folder in (pair["fixed"], pair["moving"]):
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
        reader.SetOutputPixelType(sitk.sitkFloat32)
        images.append(reader.Execute())
    fixed, moving = images
    finest = min(fixed.GetSpacing())
    shrink = [max(1, round(mm / finest)) for mm in p["rigid_levels_mm"]]
    method = sitk.ImageRegistrationMethod()
    method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=p["histogram_bins"])
    method.SetMetricSamplingStrategy(method.RANDOM)
    method.SetMetricSamplingPercentage(p["sampling"], p["seed"])
    method.SetInterpolator(sitk.sitkLinear)
    method.SetShrinkFactorsPerLevel(shrink)
    method.SetSmoothingSigmasPerLevel([(f - 1) * finest / 2 for f in shrink])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    method.SetOptimizerAsRegularStepGradientDescent(learningRate=4.0, minStep=0.01,
                                                    numberOfIterations=p["rigid_iterations"], relaxationFactor=0.6)
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetInitialTransform(sitk.CenteredTransformInitializer(
        fixed, moving, sitk.Euler3DTransform(), sitk.CenteredTransformInitializerFilter.GEOMETRY), inPlace=True)
    transform = method.Execute(fixed, moving)
    sitk.WriteTransform(transform, pair["out"])
"""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], label: str) -> tuple[float, float, int]:
    """(wall s, CPU s, exit code) of one process."""
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
    wall, used = time.perf_counter() - started, _children_cpu() - cpu
    print(f"  {label}: wall {wall:.2f} s, CPU {used:.2f} s (load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} CPUs)")
    if done.returncode not in (0, 1):
        print(f"  {label} exited {done.returncode}: {(done.stdout + done.stderr).strip()[-400:]}")
    return wall, used, done.returncode


def _reference_spec(study: Path, out: Path, deformable: bool) -> dict:
    """The pairs `immunopet register` registers (same fixed/moving series) and its settings."""
    from immunopet.study.manifest import load_study
    from immunopet.study.registration import _settings, plan_jobs

    loaded = load_study(study)
    params, limits = _settings(loaded)
    params["deformable"] = deformable
    pairs = [{"fixed": job["fixed"], "moving": job["moving"], "out": str(out / f"{job['scan_id']}.tfm")}
             for job in plan_jobs(loaded, params, limits)]
    return {"params": params, "pairs": pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2)
    parser.add_argument("--deformable", action="store_true", help="add the B-spline step (the reference stays rigid)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each process (medians are printed)")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-register-"))
    immunopet = str(Path(sys.executable).with_name("immunopet"))
    try:
        study = simulate_study(root / "study", patients=options.patients, seed=0, workers=2)
        spec = _reference_spec(study, root / "sitk", options.deformable)
        (root / "sitk").mkdir()
        (root / "spec.json").write_text(json.dumps(spec))
        (root / "reference.py").write_text(SITK_SCRIPT)
        pairs = len(spec["pairs"])
        mode = ["--deformable"] if options.deformable else ["--rigid"]
        commands = {
            "SimpleITK": [sys.executable, str(root / "reference.py"), str(root / "spec.json")],
            "register --workers 1": [immunopet, "register", str(study), "--force", "--workers", "1", *mode],
            "register --workers 2": [immunopet, "register", str(study), "--force", "--workers", "2", *mode],
            "validate": [immunopet, "validate", str(study)],
        }
        runs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in commands}
        for _ in range(options.repeat):  # alternating, so a change of load hits every command alike
            for name, command in commands.items():
                runs[name].append(_timed(command, name))
        wall = {name: statistics.median(r[0] for r in got) for name, got in runs.items()}
        cpu = {name: statistics.median(r[1] for r in got) for name, got in runs.items()}
        print(f"{pairs} pairs; medians of {options.repeat} run(s)")
        for name in commands:
            print(f"{name:>22}: wall {wall[name]:6.2f} s = {wall[name] / pairs:5.2f} s/pair, CPU {cpu[name]:6.2f} s; "
                  f"wall {wall[name] / wall['SimpleITK']:.2f}x, CPU {cpu[name] / cpu['SimpleITK']:.2f}x SimpleITK")
        records = json.loads((study / "registration" / "registration.json").read_text())["scans"]
        alone = [r["seconds"] for r in records if r.get("seconds") is not None]
        poor = sum(r.get("verdict") == "poor" for r in records)
        print(f"last register: registration alone mean {statistics.mean(alone):.2f} s, max {max(alone):.2f} s "
              f"per pair; {poor} poor")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
