"""``immunopet inspect`` and ``immunopet convert``: list DICOM series; write NIfTI + JSON sidecar."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from immunopet.logging_setup import console

_OVERRIDE_HELP = "Override of the header (logged, recorded in the audit/sidecar)."


def _overrides(injection_datetime: str | None, injected_mbq: float | None, weight_kg: float | None,
               height_cm: float | None, sex: str | None, nuclide: str | None) -> Any:
    from immunopet.dicom.overrides import SuvOverrides

    return SuvOverrides(
        injection_datetime=injection_datetime,  # type: ignore[arg-type]  # ISO text is parsed
        injected_bq=None if injected_mbq is None else injected_mbq * 1.0e6,
        weight_kg=weight_kg, height_cm=height_cm, sex=sex, nuclide=nuclide,
    )


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value)


def _pet_block(info: Any, overrides: Any) -> dict[str, Any]:
    """SUV inputs of one PET series (headers only), or the error that prevents SUV."""
    from immunopet.dicom.pet import pet_inputs_from_headers
    from immunopet.errors import ImmunoPETError

    try:
        inputs = pet_inputs_from_headers(list(zip(info.files, info.headers)), overrides=overrides)
        block: dict[str, Any] = {"inputs": inputs.as_dict(), "warnings": list(inputs.warnings),
                                 "overrides": sorted(inputs.replaced)}
        try:
            block["injected_bq_at_reference"] = inputs.injected_bq_at_reference()
            block["suv_bw_factor"] = inputs.normaliser("bw") / block["injected_bq_at_reference"]
        except ImmunoPETError as error:
            block["suv_error"] = str(error)
        return block
    except ImmunoPETError as error:
        return {"suv_error": str(error)}


def _print_listing(found: Any, pet: dict[str, dict[str, Any]]) -> None:
    """The text listing; every header-derived string goes through safe_text/safe_markup."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from immunopet.safe_text import safe_markup, safe_text

    out = Console(highlight=False, soft_wrap=True)
    table = Table(title=f"{len(found.series)} series", show_lines=False)
    for column in ("modality", "patient", "series date-time", "description", "n", "grid (I,J,K)", "spacing mm"):
        table.add_column(column)
    table.add_column("series UID", overflow="fold")  # never truncated: it is what --series takes
    for s in found.series:
        spacing = "x".join(f"{v:.3g}" for v in s.spacing) if s.spacing else "-"
        cells = (s.modality, _fmt(s.patient_id), _fmt(s.series_datetime), s.description, str(s.n_instances),
                 "x".join(map(str, s.shape)) if s.shape else "-", spacing, s.series_uid)
        table.add_row(*(Text(safe_text(c, max_length=200)) for c in cells))  # Text: never parsed as markup
    out.print(table)
    for s in found.series:
        if s.geometry_problem:
            out.print(f"[yellow]geometry[/] {safe_markup(s.series_uid)}: {safe_markup(s.geometry_problem)}")
        for file, reason in s.unreadable:
            out.print(f"[red]unusable[/] {safe_markup(file)}: {safe_markup(reason)}")
    for uid, block in pet.items():
        out.print(f"\n[bold]SUV inputs of PET series {safe_markup(uid)}[/]")
        for name, item in block.get("inputs", {}).items():
            note = f"  ({item['note']})" if item["note"] else ""
            out.print(safe_markup(f"  {name:20s} {_fmt(item['value']):28s} {item['source']}{note}"))
        if "suv_bw_factor" in block:
            out.print(f"  {'SUVbw factor':20s} {block['suv_bw_factor']:.6g} mL/Bq "
                      f"(D_ref = {block['injected_bq_at_reference'] / 1e6:.4g} MBq)")
        for name in block.get("overrides", []):
            out.print(f"  [cyan]override in use:[/] {safe_markup(name)}")
        for warning in block.get("warnings", []):
            out.print(f"  [yellow]warning:[/] {safe_markup(warning)}")
        if "suv_error" in block:
            out.print(f"  [red]no trustworthy SUV:[/] {safe_markup(block['suv_error'])}")
    for file, reason in found.unreadable:
        out.print(f"[red]unreadable[/] {safe_markup(file)}: {safe_markup(reason)}")


_IDENTIFIERS_HELP = ("Keep DICOM UIDs, calendar date-times and absolute paths in the JSON (default: removed; "
                     "times are given as hours after injection).")


def inspect(
    path: Path = typer.Argument(..., help="Folder (searched recursively) or file."),
    as_json: bool = typer.Option(False, "--json", help="Print the listing as JSON on stdout."),
    injection_datetime: str | None = typer.Option(None, "--injection-datetime", help=_OVERRIDE_HELP),
    injected_mbq: float | None = typer.Option(None, "--injected-mbq", help=_OVERRIDE_HELP),
    weight_kg: float | None = typer.Option(None, "--weight-kg", help=_OVERRIDE_HELP),
    height_cm: float | None = typer.Option(None, "--height-cm", help=_OVERRIDE_HELP),
    sex: str | None = typer.Option(None, "--sex", help=_OVERRIDE_HELP),
    nuclide: str | None = typer.Option(None, "--nuclide", help=_OVERRIDE_HELP),
    include_identifiers: bool = typer.Option(False, "--include-identifiers", help=_IDENTIFIERS_HELP),
) -> None:
    """List every DICOM series below PATH, with grids and, for PET, the SUV inputs and their sources.

    Example: immunopet inspect /data/patient01 --json
    """
    from immunopet.dicom.discover import scan
    from immunopet.errors import ImmunoPETError

    overrides = _overrides(injection_datetime, injected_mbq, weight_kg, height_cm, sex, nuclide)
    found = scan(path, full_headers=True)  # one read per file: the SUV inputs come from these headers
    if not found.series:
        raise ImmunoPETError("no DICOM series found", file=path, fix="point to a folder holding DICOM files")
    pet = {s.series_uid: _pet_block(s, overrides) for s in found.series if s.modality == "PT"}
    if as_json:
        payload = {
            "series": [dict(s.as_dict(), suv=pet.get(s.series_uid)) for s in found.series],
            "unreadable": [{"file": f, "reason": r} for f, r in found.unreadable],
        }
        from immunopet.jsonable import jsonable

        payload = jsonable(json.loads(json.dumps(payload, default=str)))  # NaN -> null also with identifiers
        if not include_identifiers:
            from immunopet.dicom.privacy import input_roots, redact

            payload = redact(payload, input_roots(path))
        typer.echo(json.dumps(payload, indent=2, allow_nan=False))
    else:
        _print_listing(found, pet)


def convert(
    series: Path = typer.Argument(..., help="Folder holding one PET or CT series (or use --series)."),
    out: Path = typer.Argument(..., help="Output NIfTI (.nii.gz); a JSON sidecar is written beside it."),
    suv: str = typer.Option("bw", "--suv", help="PET: bw | lbm | bsa | ibw | none (none = Bq/mL)."),
    series_uid: str | None = typer.Option(None, "--series", help="SeriesInstanceUID to pick among several."),
    injection_datetime: str | None = typer.Option(None, "--injection-datetime", help=_OVERRIDE_HELP + " ISO 8601."),
    injected_mbq: float | None = typer.Option(None, "--injected-mbq", help=_OVERRIDE_HELP + " MBq at injection."),
    weight_kg: float | None = typer.Option(None, "--weight-kg", help=_OVERRIDE_HELP),
    height_cm: float | None = typer.Option(None, "--height-cm", help=_OVERRIDE_HELP),
    sex: str | None = typer.Option(None, "--sex", help=_OVERRIDE_HELP + " M, F or O."),
    nuclide: str | None = typer.Option(None, "--nuclide", help=_OVERRIDE_HELP + " e.g. Zr-89."),
    assume_unit_slope: bool = typer.Option(
        False, "--assume-unit-slope", help="PET slices without RescaleSlope: use 1 (logged) instead of refusing."),
    include_identifiers: bool = typer.Option(False, "--include-identifiers", help=_IDENTIFIERS_HELP),
) -> None:
    """Write a PET series as float32 SUV (or Bq/mL) NIfTI, or a CT series in HU, plus OUT.json.

    Example: immunopet convert /data/p01/day7/pet p01_day7_suv.nii.gz --suv bw --weight-kg 72
    """
    from immunopet.dicom.export import check_output_name, write_nifti_slabs
    from immunopet.dicom.pet import conversion
    from immunopet.dicom.slabs import converted_slabs
    from immunopet.dicom.suv import SUV_KINDS
    from immunopet.dicom.volume import read_headers
    from immunopet.errors import ImmunoPETError
    from immunopet.safe_text import safe_markup

    if suv not in (*SUV_KINDS, "none"):
        raise ImmunoPETError(f"--suv {suv!r} is not one of bw, lbm, bsa, ibw, none", fix="e.g. --suv bw")
    check_output_name(out)
    overrides = _overrides(injection_datetime, injected_mbq, weight_kg, height_cm, sex, nuclide)
    # headers, grid and every SUV input first; the voxels are then converted and written a slab at a time
    volume = read_headers(series, series_uid=series_uid, assume_unit_slope=assume_unit_slope)
    factors: list[Any] = []
    if volume.image.meta.get("modality") == "PT":
        image, audit, factors = conversion(volume, None if suv == "none" else suv, overrides=overrides)
        sidecar: dict[str, Any] = {"suv": audit}
    else:
        if overrides.given():
            console.print("[yellow]SUV overrides ignored: the series is not PET[/]")
        image, sidecar = volume.image, {}
    path = write_nifti_slabs(image, converted_slabs(volume, factors, out), out, sidecar=sidecar,
                             include_identifiers=include_identifiers)
    console.print(f"wrote {safe_markup(out)} ({image.units}, {'x'.join(map(str, image.shape))}) and "
                  f"{safe_markup(path.name)}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``inspect`` and ``convert`` to the ``immunopet`` command line."""
    app.command("inspect")(inspect)
    app.command("convert")(convert)
