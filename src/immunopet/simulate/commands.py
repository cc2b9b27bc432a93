"""``immunopet simulate``: write a synthetic multi-day 89Zr-immunoPET study folder."""

from __future__ import annotations

from pathlib import Path

import typer

from immunopet.errors import ImmunoPETError


def _parse_days(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise ImmunoPETError(
            f"cannot read scan days {text!r}", attribute="--days",
            fix="give comma-separated days after injection, e.g. --days 0.04,2,4,7",
        ) from error


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command to ``app``."""

    @app.command("simulate")
    def simulate(
        out_dir: Path = typer.Argument(..., help="New or empty folder to write the study into."),
        patients: int = typer.Option(22, "--patients", "-n", help="Number of patients."),
        seed: int = typer.Option(0, "--seed", help="Random seed (same seed = byte-identical files)."),
        days: str = typer.Option("0.04,2,4,7", "--days", help="Scan days after injection, comma-separated."),
        quick: bool = typer.Option(False, "--quick", help="Few patients, 8 mm voxels: a small study for tests."),
        params: Path | None = typer.Option(None, "--params", help="YAML file overriding the default parameters."),
        workers: int | None = typer.Option(None, "--workers", help="Processes to use (default: all CPUs)."),
        retest: bool = typer.Option(False, "--retest", help="A second PET series per scan: same truth, new noise "
                                    "(scans.csv column retest_of)."),
        scenario: str = typer.Option("default", "--scenario", help="Parameter scenario: default, null "
                                     "(PET uptake unrelated to outcome) or strong (AUC ~0.87)."),
        vois: str = typer.Option("per-day", "--vois", help="per-day: every VOI on every scan (the truth); drawn-once: "
                                 "segmenter-rule organs and lesion seeds on the segmented scan, registered to the others."),
        json_out: bool = typer.Option(False, "--json", help="Print a JSON summary on stdout."),
        layout: str = typer.Option("study", "--layout", help="study: a study folder; pacs: a raw DICOM export "
                                   "(OUT/dicom-export/, with decoy series) and OUT/truth/ only, for `immunopet init`."),
    ) -> None:
        """Simulate a multi-day 89Zr-immunoPET trial (PET/CT DICOM, VOIs, clinical tables, truth).

        Example: immunopet simulate demo-study --patients 22 --seed 0 --days 0.04,2,4,7
        """
        import json
        import time

        import pandas as pd

        from immunopet.logging_setup import console
        from immunopet.simulate.study import simulate_study

        started = time.perf_counter()
        if layout not in ("study", "pacs"):
            raise ImmunoPETError(f"unknown layout {layout!r}", attribute="--layout", fix="give --layout study or pacs")
        if layout == "pacs" and vois != "per-day":
            raise ImmunoPETError("--vois drawn-once is for --layout study", attribute="--vois",
                                 fix="simulate a study folder, or give the raw export's VOIs after `immunopet init`")
        if layout == "pacs":
            from immunopet.simulate.pacs_export import EXPORT_FOLDER, simulate_pacs_export

            folder = simulate_pacs_export(out_dir, patients=patients, seed=seed, days=_parse_days(days), quick=quick,
                                          params=params, workers=workers)
            scans = pd.read_csv(folder / "truth" / "scans.csv")
            seconds = round(time.perf_counter() - started, 1)
            console.print(f"wrote a raw export of {scans['patient_id'].nunique()} patients, {len(scans)} scans "
                          f"(plus decoys) to {folder / EXPORT_FOLDER} in {seconds} s; truth in {folder / 'truth'}")
            if json_out:
                typer.echo(json.dumps({"export": str(folder / EXPORT_FOLDER), "patients": int(scans["patient_id"].nunique()),
                                       "scans": len(scans), "seconds": seconds}))
            return
        folder = simulate_study(out_dir, patients=patients, seed=seed, days=_parse_days(days), quick=quick,
                                params=params, workers=workers, retest=retest, scenario=scenario, vois=vois)
        scans = pd.read_csv(folder / "scans.csv")
        summary = {"study": str(folder), "patients": int(scans["patient_id"].nunique()), "scans": len(scans),
                   "seconds": round(time.perf_counter() - started, 1)}
        console.print(f"wrote {summary['patients']} patients, {summary['scans']} scans to {folder} "
                      f"in {summary['seconds']} s")
        if json_out:
            typer.echo(json.dumps(summary))
