"""Rendering the report: tables and figures into the Jinja2 template (autoescaped, self-contained)."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from immunopet.report.figio import SavedFigure


@dataclass(frozen=True)
class Table:
    """A table as the template shows it: column headings and rows of display strings."""

    columns: list[str]
    rows: list[list[str]]
    empty_text: str = "None."


@dataclass(frozen=True)
class FigureEntry:
    """An embedded figure: PNG as a ``data:`` URI, display width (px) and caption."""

    name: str
    data_uri: str
    caption: str
    width: int


@dataclass
class Block:
    """A titled part of a section: text, a table and/or figures."""

    title: str
    text: str = ""
    table: Table | None = None
    figures: list[FigureEntry] = field(default_factory=list)
    note: str = ""


def format_value(value: Any, *, digits: int = 3) -> str:
    """Display text for one cell: ``""`` for missing, numbers to ``digits`` significant figures.

    Floats are never shown in scientific notation: ``12.345 -> "12.3"``, ``0.0345 -> "0.0345"``.
    """
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == 0 or math.isinf(value):
            return f"{value:g}"
        magnitude = math.floor(math.log10(abs(value)))
        return f"{value:.{max(digits - 1 - magnitude, 0)}f}"
    return str(value)


def table_from_frame(frame: pd.DataFrame, *, columns: Mapping[str, str] | None = None,
                     empty_text: str = "None.", digits: int = 3) -> Table:
    """A :class:`Table` of ``frame``; ``columns`` picks and renames columns (missing ones skipped)."""
    if columns is None:
        columns = {c: c for c in frame.columns}
    present = {k: v for k, v in columns.items() if k in frame.columns}
    rows = [[format_value(v, digits=digits) for v in record] for record in frame[list(present)].itertuples(index=False)]
    return Table(list(present.values()), rows, empty_text)


def figure_entry(saved: SavedFigure, *, dpi: int) -> FigureEntry:
    """Embed a saved figure's PNG; shown at its natural size (96 px per inch) up to the page width."""
    import io

    from PIL import Image as PILImage

    with PILImage.open(io.BytesIO(saved.png_bytes)) as png:
        width = int(round(png.width * 96 / dpi))
    encoded = base64.b64encode(saved.png_bytes).decode("ascii")
    return FigureEntry(saved.name, f"data:image/png;base64,{encoded}", saved.caption, width)


def environment() -> Environment:
    """The package's template environment; HTML templates are autoescaped, text ones are not."""
    return Environment(
        loader=PackageLoader("immunopet.report", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=StrictUndefined,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=True,
    )


def render_report(*, study: Mapping[str, Any], summary: Sequence[tuple[str, str]], patient_table: Table,
                  methods: Sequence[str], qa: Mapping[str, Any], results: Sequence[Block],
                  patients: Sequence[Mapping[str, Any]], version: str, generated: str,
                  include_identifiers: bool, study_dir_name: str) -> str:
    """The report HTML (see ``templates/report.html.j2`` for how each part is shown)."""
    template = environment().get_template("report.html.j2")
    return template.render(
        study=study, summary=summary, patient_table=patient_table, methods=methods, qa=qa,
        results=results, patients=patients, version=version, generated=generated,
        include_identifiers=include_identifiers, study_dir_name=study_dir_name,
    )
