"""Benchmark of `immunopet register`: every scan of a study on the demo's grid (4 mm) to its reference.

Simulates a study at the demo's resolution (default 2 patients x 4 days: 6 scan pairs), then times
as separate processes, in the same run:

- the reference: `immunopet validate STUDY` (start-up and reading the study, no image work);
- `immunopet register STUDY --force --workers 1` and `--workers 2` (whole-study time);

and prints wall and CPU time of each process (on a shared machine the CPU time is the fair
number), the time per pair (whole command / pairs, and the registration alone from the records)
and the ratios to the reference. The issue's target is <= 5 s per pair on 2 cores.

Run: .venv/bin/python benchmarks/bench_register.py [--patients 2] [--deformable]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from immunopet.simulate import simulate_study


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(args: list[str]) -> tuple[float, int]:
    command = [str(Path(sys.executable).with_name("immunopet")), *args]
    started, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
    seconds = time.perf_counter() - started
    print(f"  {' '.join(args[:1] + args[2:])}: wall {seconds:.2f} s, CPU {_children_cpu() - cpu:.2f} s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    if done.returncode not in (0, 1):
        print(f"  {' '.join(args[:1])} exited {done.returncode}: {(done.stdout + done.stderr).strip()[-400:]}")
    return seconds, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2)
    parser.add_argument("--deformable", action="store_true", help="add the B-spline step")
    options = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-register-"))
    try:
        study = simulate_study(root / "study", patients=options.patients, seed=0, workers=2)
        pairs = options.patients * 3
        reference, _ = _timed(["validate", str(study)])
        print(f"reference (immunopet validate): {reference:.2f} s")
        mode = ["--deformable"] if options.deformable else ["--rigid"]
        for workers in (1, 2):
            seconds, code = _timed(["register", str(study), "--force", "--workers", str(workers), *mode])
            records = json.loads((study / "registration" / "registration.json").read_text())["scans"]
            alone = [r["seconds"] for r in records if r.get("seconds") is not None]
            poor = sum(r.get("verdict") == "poor" for r in records)
            print(f"register, {workers} worker(s): {seconds:.2f} s for {pairs} pairs = {seconds / pairs:.2f} s/pair "
                  f"(registration alone: mean {sum(alone) / len(alone):.2f} s, max {max(alone):.2f} s); "
                  f"{seconds / reference:.1f}x the reference; exit {code}, {poor} poor")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
