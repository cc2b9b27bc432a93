"""Throughput of `immunopet run`: scans per minute with 1 and 2 workers, and a no-change re-run.

Usage::

    .venv/bin/python benchmarks/bench_study_run.py [STUDY_DIR] [--patients N]

Without STUDY_DIR a small full-resolution study is simulated into a temporary folder (``--patients``
patients x scan days 2, 4, 7). Each configuration writes its own SQLite store, so every timed run
measures every scan; the reference of the ratios is the 1-worker run on the same input in the same
process. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path


def _timed(study: Path, db: Path, workers: int) -> tuple[float, object]:
    from immunopet.study import run_study

    start = time.perf_counter()
    summary = run_study(study, db_url=f"sqlite:///{db}", workers=workers, progress=False)
    return time.perf_counter() - start, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", nargs="?", type=Path, help="study folder (default: simulate one)")
    parser.add_argument("--patients", type=int, default=6, help="patients to simulate (default 6)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-study-run-"))
    try:
        if args.study is None:
            from immunopet.simulate import simulate_study

            start = time.perf_counter()
            study = simulate_study(workdir / "study", patients=args.patients, days=(2, 4, 7), seed=11)
            print(f"simulated {args.patients} patients x 3 days (full resolution) in {time.perf_counter() - start:.1f} s")
        else:
            study = workdir / "study"
            shutil.copytree(args.study, study, ignore=shutil.ignore_patterns("results"))
        timings = {}
        for workers in (1, 2):
            seconds, summary = _timed(study, workdir / f"w{workers}.sqlite", workers)
            n = len(summary.done)
            if summary.failed:
                print(f"  warning: {len(summary.failed)} scans failed with {workers} worker(s)")
            timings[workers] = seconds
            print(f"{workers} worker(s): {n} scans, {summary.n_vois_measured} VOIs in {seconds:.2f} s "
                  f"= {60 * n / seconds:.1f} scans/min")
        rerun, summary = _timed(study, workdir / "w2.sqlite", 2)
        print(f"no-change re-run: {len(summary.skipped)} scans skipped, {len(summary.done)} measured in {rerun:.2f} s")
        print(f"ratio 2 workers / 1 worker throughput: {timings[1] / timings[2]:.2f}x")
        print(f"ratio no-change re-run / full 1-worker run time: {rerun / timings[1]:.3f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
