"""``simulate_study``: the whole synthetic trial, written as a study folder (docs/study-format.md)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from immunopet.errors import ImmunoPETError
from immunopet.simulate.cohort import draw_cohort
from immunopet.simulate.manifest import write_tables
from immunopet.simulate.patient import simulate_patient
from immunopet.simulate.pool import run_tasks, worker_count


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise ImmunoPETError(
            "the output folder exists and is not empty", file=out_dir,
            fix="give a new or empty folder; the simulator never overwrites a study",
        )


def _check_days(days: Sequence[float]) -> list[float]:
    values = [float(d) for d in days]
    if not values or not all(0 <= d < math.inf for d in values) or len(set(values)) != len(values):
        raise ImmunoPETError(
            f"scan days must be distinct, finite and not negative, got {list(days)}", attribute="--days",
            fix="give days after injection such as 0.04,2,4,7 (0.04 d = 1 h)",
        )
    return sorted(values)


def simulate_study(out_dir: str | os.PathLike[str], *, patients: int = 22, seed: int = 0,
                   days: Sequence[float] = (0.04, 2, 4, 7), quick: bool = False,
                   params: str | os.PathLike[str] | Mapping[str, Any] | None = None,
                   workers: int | None = None, retest: bool = False, scenario: str | None = None,
                   vois: str = "per-day") -> Path:
    """Simulate a multi-day 89Zr-immunoPET trial and write it as a study folder.

    Parameters
    ----------
    out_dir
        New (or empty) folder to write.
    patients
        Number of patients; with ``quick`` the parameter ``scanner.quick_patients`` is used unless
        another number is given explicitly.
    seed
        Random seed: the same seed, parameters and options give byte-identical files.
    days
        Nominal scan days after injection.
    quick
        Few patients on a coarse grid (8 mm voxels), for tests; the patients are picked so that
        every tumour type and response class appears (``draw_cohort(..., balanced=True)``).
    params
        Parameter overrides: a YAML file or a mapping (see the packaged ``params.yaml``).
    workers
        Processes (default: 1 with ``quick``, else the number of CPUs; 1 runs in this process).
    retest
        Write a second PET series of every scan with the same truth and independent noise (scan id
        ``<scan>_R``, ``retest_of`` in scans.csv), to measure the repeatability of VOI methods.
    scenario
        A named parameter scenario (``null``: PET uptake unrelated to outcome), applied before ``params``.
    vois
        ``per-day``: every VOI on every scan (the truth's label maps); ``drawn-once``: per patient the
        segmenter-rule organs of the segmented CT and the lesions as seeds on that scan, measured on
        every scan after registration (:mod:`immunopet.simulate.drawn_once`).

    Returns
    -------
    Path
        The study folder.
    """
    out = Path(out_dir)
    from immunopet.simulate.drawn_once import check_voi_layout, write_drawn_once

    check_voi_layout(vois)
    _check_out_dir(out)
    day_list = _check_days(days)
    if patients < 1:
        raise ImmunoPETError(f"need at least one patient, got {patients}", attribute="--patients",
                             fix="give --patients 1 or more")
    from immunopet.simulate.params import load_params

    resolved = load_params(params if not isinstance(params, os.PathLike) else str(params), scenario=scenario)
    n = int(resolved["scanner"]["quick_patients"]) if quick and patients == 22 else int(patients)
    cohort = draw_cohort(n, seed, params=resolved, days=day_list, balanced=quick)
    tasks = []
    for subject in cohort.subjects.to_dict("records"):
        pid = subject["patient_id"]
        tasks.append(dict(out_dir=out, subject=subject, lesions=cohort.lesions[cohort.lesions.patient_id == pid],
                          organs=cohort.organs[cohort.organs.patient_id == pid],
                          scans=cohort.scans[cohort.scans.patient_id == pid], params=resolved, seed=seed, quick=quick,
                          retest=retest))
    out.mkdir(parents=True, exist_ok=True)
    results = run_tasks(simulate_patient, tasks, worker_count(workers, len(tasks), quick=quick),
                        f"simulating {len(tasks)} patients")
    rows: dict[str, list[dict]] = {key: [r for result in results for r in result[key]] for key in results[0]}
    write_tables(out, cohort, rows, seed=seed, quick=quick, retest=retest, scenario=scenario)
    if vois == "drawn-once":
        write_drawn_once(out)
    return out

