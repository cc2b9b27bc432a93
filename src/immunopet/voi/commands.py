"""``immunopet measure``: uptake metrics per VOI of one PET scan."""

from __future__ import annotations

from pathlib import Path

import typer

from immunopet.logging_setup import console


def register(app: typer.Typer) -> None:
    """Add the ``measure`` command to ``app``."""

    @app.command("measure")
    def measure(
        pet: Path = typer.Argument(..., help="PET DICOM series folder, or a NIfTI PET (then give --units)."),
        series_uid: str | None = typer.Option(
            None, "--series-uid", help="PET series to use when the folder holds several."
        ),
        mask: list[Path] = typer.Option([], "--mask", help="NIfTI label map or binary mask (repeatable)."),
        labels: Path | None = typer.Option(
            None, "--labels", help="Label names for --mask: CSV/TSV label,name or JSON."
        ),
        rtstruct: list[Path] = typer.Option([], "--rtstruct", help="DICOM RTSTRUCT file (repeatable)."),
        roi: list[str] = typer.Option([], "--roi", help="RTSTRUCT ROI name to take (repeatable; default all)."),
        seg: list[Path] = typer.Option([], "--seg", help="DICOM SEG file (repeatable)."),
        sphere: list[str] = typer.Option([], "--sphere", help="X,Y,Z,DIAM_MM[,NAME]: sphere in LPS mm (repeatable)."),
        segmenter: list[Path] = typer.Option(
            [], "--segmenter", help="TotalSegmentator/MOOSE folder: one NIfTI per organ."
        ),
        partial_volume: bool = typer.Option(False, "--partial-volume", help="NIfTI masks as partial-volume fractions."),
        suv: str = typer.Option("bw", "--suv", help="SUV kind for DICOM PET: bw, lbm, bsa or ibw."),
        units: str | None = typer.Option(
            None, "--units", help="Units of a NIfTI PET: BQML, SUVbw, SUVlbm, SUVbsa, SUVibw."
        ),
        injected_mbq: float | None = typer.Option(
            None, "--injected-mbq",
            help="Injected activity (MBq). NIfTI PET: decayed to the image reference time (for %ID and SUV "
            "from BQML). DICOM: overrides the header's administered activity.",
        ),
        weight_kg: float | None = typer.Option(
            None, "--weight-kg", help="Patient weight (kg): SUV from a BQML NIfTI; Bq/mL from an SUVbw NIfTI."
        ),
        assume_unit_slope: bool = typer.Option(
            False, "--assume-unit-slope",
            help="DICOM PET slices without RescaleSlope: use 1 (logged) instead of refusing."),
        blood_pool: str = typer.Option("blood_pool", "--blood-pool", help="VOI name used for tumour-to-blood ratios."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON records to stdout."),
        as_csv: bool = typer.Option(False, "--csv", help="Print CSV to stdout."),
    ) -> None:
        """Print SUVmax, SUVpeak, SUVmean, ... (docs/metrics.md) for each VOI of a PET scan.

        Example:

            immunopet measure pet/ --rtstruct rtstruct/1-1.dcm --roi GTV_Mass --sphere 12,-30,104,17.7,blood_pool --json

            immunopet measure suv.nii.gz --units SUVbw --mask lesions.nii.gz --labels lesions.csv --csv
        """
        import json

        from immunopet.safe_text import safe_markup
        from immunopet.voi.scan import measure_scan

        if suv not in ("bw", "lbm", "bsa", "ibw"):
            raise typer.BadParameter(f"--suv must be bw, lbm, bsa or ibw, not {suv!r}")
        table = measure_scan(
            pet, series_uid=series_uid, suv=suv, units=units, injected_mbq=injected_mbq, weight_kg=weight_kg,
            assume_unit_slope=assume_unit_slope, blood_pool=blood_pool,
            masks=[str(m) for m in mask], labels=str(labels) if labels else None, rtstructs=[str(r) for r in rtstruct],
            rois=list(roi) or None, segs=[str(s) for s in seg], spheres=list(sphere),
            segmenters=[str(d) for d in segmenter], fractional=partial_volume,
        )
        for note in table.attrs.get("notes", []):
            console.print(f"[yellow]note:[/] {safe_markup(note)}")
        if as_json:
            from immunopet.jsonable import jsonable

            records = jsonable(table.to_dict(orient="records"))
            typer.echo(json.dumps(records, indent=2, allow_nan=False))  # strict JSON: no NaN/Infinity
        elif as_csv:
            typer.echo(table.to_csv(index=False), nl=False)
        else:
            _print_table(table)
        errors = table.attrs.get("errors", [])
        for error in errors:
            console.print(f"[bold red]failed:[/] {safe_markup(error)}", highlight=False)
        if errors:
            raise typer.Exit(1)


def _print_table(table) -> None:
    """A Rich table with one column per VOI and one row per metric (fits a terminal)."""
    from rich.console import Console
    from rich.table import Table

    from immunopet.safe_text import safe_markup

    out = Table(title=f"VOI metrics ({table.attrs.get('suv_units', 'SUV')})")
    out.add_column("metric")
    for name in table["voi_id"]:
        out.add_column(safe_markup(name), justify="right")
    for column in table.columns[1:]:
        out.add_row(column, *[_fmt(v) for v in table[column]])
    Console().print(out)


def _fmt(value) -> str:
    if isinstance(value, float):
        return "" if value != value else f"{value:.4g}"
    return str(value)
