"""Creating and saving report figures without pyplot's global state.

Every figure function in this package returns a :class:`matplotlib.figure.Figure` made by
:func:`new_figure` (an Agg canvas attached, so it renders headless and is garbage-collected as soon
as it is dropped). :func:`save_figure` writes it as PNG and SVG and hands back the PNG bytes that
the HTML report embeds.
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

P = ParamSpec("P")
R = TypeVar("R")

#: Resolution of the PNG files and of the images embedded in the report.
PNG_DPI = 110

#: Colours per tumour type / category, colour-blind safe (Okabe & Ito 2008).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")

RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "svg.fonttype": "none",
}


def styled(function: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run a figure function inside the report's matplotlib style (:data:`RC`)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib

        with matplotlib.rc_context(RC):
            return function(*args, **kwargs)

    return wrapper


def new_figure(width_in: float, height_in: float, **kwargs) -> Figure:
    """A figure of the given size (inches) on its own Agg canvas, constrained layout on."""
    fig = Figure(figsize=(width_in, height_in), layout=kwargs.pop("layout", "constrained"), **kwargs)
    FigureCanvasAgg(fig)
    return fig


@dataclass(frozen=True)
class SavedFigure:
    """A figure written to disk: its PNG and SVG paths, the PNG bytes and a caption."""

    name: str
    png: Path
    svg: Path
    png_bytes: bytes
    caption: str = ""


def safe_file_stem(name: str, *, max_length: int = 120) -> str:
    """``name`` as a file name inside its folder: letters, digits, ``-``, ``_`` and ``.`` only (any
    other character, including ``/``, becomes ``_``), no leading dot, at most ``max_length`` characters."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")[:max_length]
    return stem or "_"


def save_figure(fig: Figure, out_dir: Path, name: str, *, caption: str = "", dpi: int = PNG_DPI,
                svg: bool = True) -> SavedFigure:
    """Write ``fig`` as ``out_dir/name.png`` and ``.svg``; return them with the PNG bytes.

    ``name`` passes through :func:`safe_file_stem`, so a patient id can never place a file outside
    ``out_dir``; each file is written to a temporary name and renamed, so a full disk leaves no
    truncated figure.

    Parameters
    ----------
    fig
        The figure (made by :func:`new_figure`).
    out_dir
        Folder for the files (created if missing).
    name
        File stem, e.g. ``"mip_P01"``.
    caption
        Legend text shown under the figure in the report.
    dpi
        PNG resolution.
    svg
        Also write the vector version.
    """
    import matplotlib

    from immunopet.atomic import atomic_bytes, atomic_write

    name = safe_file_stem(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    engine = fig.get_layout_engine()
    if engine is not None:  # lay out once, then keep the positions for both formats
        engine.execute(fig)
        # no engine at all: with one (even matplotlib's 'none' placeholder) savefig draws the whole
        # figure once more, without output, before drawing it for the file
        with matplotlib.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)
    buffer = io.BytesIO()
    with matplotlib.rc_context(RC):
        fig.savefig(buffer, format="png", dpi=dpi)
        png = buffer.getvalue()
        png_path = atomic_bytes(out_dir / f"{name}.png", png)
        svg_path = out_dir / f"{name}.svg"
        if svg:
            atomic_write(svg_path, lambda p: fig.savefig(p, format="svg", dpi=dpi))
    return SavedFigure(name, png_path, svg_path, png, caption)


def plain_log_ticks(axis) -> None:
    """Label a log-scaled axis with plain numbers (``2``, ``5``, ``10``) instead of powers."""
    from matplotlib.ticker import FuncFormatter, LogLocator

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def nice_ceiling(value: float) -> float:
    """``value`` rounded up to 1, 2, 2.5 or 5 times a power of ten (a readable scale end)."""
    if not math.isfinite(value) or value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power * (1 + 1e-9):
            return step * power
    return 10 * power
