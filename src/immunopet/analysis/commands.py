"""``immunopet analyze``: the study's statistical analyses (writes analysis/analysis.json + CSV tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from immunopet.logging_setup import console

ANALYZE_HELP = """Run the study's statistical analyses and write STUDY_DIR/analysis/ (analysis.json + CSV tables).

Reads the results of `immunopet run`. Biodistribution, tumour uptake, PET uptake vs response and survival, and PD-L1 IHC / RNA-seq biomarkers side by side with PET. Every result carries its n, estimate, confidence interval, p-value and role (primary, secondary or exploratory), with Holm-adjusted p within its family; small-sample warnings are listed. Defaults (day, metric, responders) and the prespecified analysis plan (primary endpoint and predictor, covariates, cut-offs, families: the analysis: block) come from study.yaml.

\b
Examples:
  immunopet analyze demo-study
  immunopet analyze /data/ZR-ATEZO --day 4 --metric suv_peak --split 8.5 --json > analysis.json
  immunopet analyze demo-study --at-risk 0,3,6,12,24 --n-boot 5000 --seed 42
"""


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def print_summary(summary: dict[str, Any]) -> None:
    """The key results (n, estimate, CI, p) and the warnings as Rich tables on stderr."""
    from rich.table import Table

    params = summary["parameters"]
    table = Table(title=f"Key results (day {params['day']:g}, {params['metric']}, split {params['split']}, "
                        f"n_boot {params['n_boot']}, seed {params['seed']})")
    for column in ("result", "role", "n", "estimate", "CI", "p", "p (Holm)"):
        table.add_column(column, justify="left" if column in ("result", "role") else "right")
    for row in summary["key_results"]:
        ci = "-" if row["ci_low"] is None and row["ci_high"] is None else \
            f"{_fmt(row['ci_low'])} to {_fmt(row['ci_high'])}"
        label = f" ({row['estimate_label']})" if row.get("estimate_label") else ""
        if row.get("reason") and row["estimate"] is None and row["p_value"] is None:
            table.add_row(row["name"], row.get("role") or "-", _fmt(row["n"]), f"not run: {row['reason']}", "-", "-",
                          "-")
            continue
        table.add_row(row["name"] + label, row.get("role") or "-", _fmt(row["n"]), _fmt(row["estimate"]), ci,
                      _p(row["p_value"]), _p(row.get("p_adjusted")))
    console.print(table)
    if summary["warnings"]:
        console.print(f"[yellow]{len(summary['warnings'])} warning(s)[/] (small samples, models not run or not "
                      "converged): logged above and listed under \"warnings\" in analysis.json", highlight=False)


def parse_times(text: str | None) -> tuple[float, ...] | None:
    """``"0,6,12"`` -> ``(0.0, 6.0, 12.0)``; ``None`` stays ``None``."""
    if text is None:
        return None
    try:
        return tuple(sorted(float(t) for t in text.split(",") if t.strip()))
    except ValueError:
        from immunopet.errors import AnalysisError

        raise AnalysisError(f"{text!r} is not a comma-separated list of months", attribute="--at-risk",
                            fix="e.g. --at-risk 0,6,12,18") from None


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to the command line."""

    @app.command("analyze", help=ANALYZE_HELP)
    def analyze_command(
        study_dir: Path = typer.Argument(..., help="The study folder (with results/ from `immunopet run`)."),
        db: str | None = typer.Option(None, "--db", help="SQLAlchemy URL of the results store (default: the "
                                                         "study's SQLite file)."),
        day: float | None = typer.Option(None, "--day", help="Scan day for the outcome analyses (default: "
                                                             "outcome_day of study.yaml)."),
        metric: str | None = typer.Option(None, "--metric", help="Lesion metric: suv_max or suv_peak (default: "
                                                                 "lesion_metric of study.yaml)."),
        split: str | None = typer.Option(None, "--split", help="Kaplan-Meier split of PET uptake: 'median' or a "
                                                               "value."),
        n_boot: int | None = typer.Option(None, "--n-boot", help="Bootstrap resamples (default 2000)."),
        seed: int | None = typer.Option(None, "--seed", help="Seed of the resampling (default 0)."),
        at_risk: str | None = typer.Option(None, "--at-risk", help="Months of the numbers-at-risk tables, e.g. "
                                                                   "0,6,12,18 (default: every 6 months)."),
        out: Path | None = typer.Option(None, "--out", help="Output folder (default STUDY_DIR/analysis)."),
        as_json: bool = typer.Option(False, "--json", help="Print analysis.json to stdout."),
    ) -> None:
        from immunopet.analysis.study_io import analyze_study

        result = analyze_study(study_dir, db_url=db, out_dir=out, day=day, metric=metric, split=split,
                               n_boot=n_boot, seed=seed, at_risk_times=parse_times(at_risk))
        if as_json:
            typer.echo(result.to_json())
        else:
            print_summary(result.summary)
            console.print(f"written: {(out or study_dir / 'analysis')}", highlight=False)
