"""The methods text: generated from the parameters a study was actually quantified with.

:func:`methods_parameters` collects those parameters from the study's results and analysis;
:func:`methods_text` renders ``templates/methods.txt.j2`` into paragraphs a paper can cite. The
wording of each phrase is documented in ``docs/methods.md``.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np
import pandas as pd

from immunopet.nuclides import get_nuclide

SUV_PHRASES = {
    "bw": ("body weight (SUVbw)", "body weight"),
    "lbm": ("lean body mass by the Janmahasatian formula (SUL; Janmahasatian et al., Clin Pharmacokinet 2005)",
            "lean body mass"),
    "bsa": ("body surface area by the DuBois formula (SUVbsa)", "body surface area"),
    "ibw": ("ideal body weight (SUVibw)", "ideal body weight"),
}
PEAK_PHRASES = {
    "global": ("the highest mean SUV of a 1 mL sphere (12.4 mm diameter) placed anywhere inside the "
               "lesion VOI (PERCIST, Wahl et al., J Nucl Med 2009; IBSI global intensity peak)"),
    "local": ("the mean SUV of a 1 mL sphere (12.4 mm diameter) centred on the lesion's hottest voxel "
              "(IBSI local intensity peak, Zwanenburg et al., Radiology 2020)"),
}
METRIC_PHRASES = {
    "suv_max": "SUVmax", "suv_peak": "SUVpeak", "suv_peak_local": "local SUVpeak", "suv_mean": "SUVmean",
    "suv_median": "SUVmedian", "tlu": "total lesion uptake", "tbr_max": "tumour-to-blood ratio (SUVmax)",
    "tbr_peak": "tumour-to-blood ratio (SUVpeak)", "tbr_mean": "tumour-to-blood ratio (SUVmean)",
}
LIBRARIES = ("numpy", "pydicom", "SimpleITK", "scipy", "lifelines", "statsmodels", "scikit-learn")


@dataclass(frozen=True)
class MethodsParameters:
    """Everything the methods text states, each taken from the study as run."""

    n_patients: int
    n_scans: int
    tracer: str
    nuclide: str
    days: list[float]
    suv_type: str
    suv_peak: str
    lesion_metric: str
    outcome_day: float
    responders: list[str]
    organs: list[str]
    n_lesions: int
    n_patients_with_lesions: int
    uptake_hours: dict[float, tuple[float, float, float]] = field(default_factory=dict)
    injected_mbq: tuple[float, float, float] | None = None
    statistics: list[str] = field(default_factory=list)
    software_version: str = ""


def _median_range(values: Sequence[float]) -> tuple[float, float, float] | None:
    finite = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    if finite.size == 0:
        return None
    return float(np.median(finite)), float(finite.min()), float(finite.max())


def methods_parameters(config: Any, measurements: pd.DataFrame, *, scans: pd.DataFrame | None = None,
                       statistics: Sequence[str] = (), software_version: str = "") -> MethodsParameters:
    """Collect the methods parameters from the study configuration and its result tables.

    Parameters
    ----------
    config
        The study configuration (``study.yaml``: ``tracer``, ``nuclide``, ``suv_type``, ``suv_peak``,
        ``lesion_metric``, ``outcome_day``, ``responders``), as an object or a mapping.
    measurements
        The tidy measurements table (one row per scan and VOI).
    scans
        The scans table with ``injected_mbq`` (optional).
    statistics
        Sentences describing the statistics run (see :func:`immunopet.report.statistics_text`).
    software_version
        The immunopet version that produced the numbers.
    """
    get = config.get if isinstance(config, Mapping) else lambda key, default=None: getattr(config, key, default)
    hours = {float(day): _median_range(rows["hours_pi"].tolist())
             for day, rows in measurements.drop_duplicates("scan_id").groupby("day")}
    lesions = measurements[measurements["kind"] == "lesion"]
    injected = None
    if scans is not None and "injected_mbq" in scans.columns:
        injected = _median_range(pd.to_numeric(scans.drop_duplicates("patient_id")["injected_mbq"],
                                               errors="coerce").tolist())
    return MethodsParameters(
        n_patients=int(measurements["patient_id"].nunique()),
        n_scans=int(measurements["scan_id"].nunique()),
        tracer=str(get("tracer", "") or ""),
        nuclide=get_nuclide(str(get("nuclide"))).name,
        days=sorted(float(d) for d in measurements["day"].unique()),
        suv_type=str(get("suv_type", "bw")),
        suv_peak=str(get("suv_peak", "global")),
        lesion_metric=str(get("lesion_metric", "suv_max")),
        outcome_day=float(get("outcome_day", 7)),
        responders=list(get("responders", ["CR", "PR"])),
        organs=sorted(measurements.loc[measurements["kind"] == "organ", "site"].unique().tolist()),
        n_lesions=int(lesions[["patient_id", "voi_id"]].drop_duplicates().shape[0]),
        n_patients_with_lesions=int(lesions["patient_id"].nunique()),
        uptake_hours={d: h for d, h in hours.items() if h is not None},
        injected_mbq=injected,
        statistics=list(statistics),
        software_version=software_version,
    )


def _number(value: float) -> str:
    return f"{value:g}" if value == round(value, 2) else f"{value:.2f}"


def _hours(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _library_versions() -> str:
    found = []
    for name in LIBRARIES:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return ", ".join(found)


def methods_text(params: MethodsParameters) -> list[str]:
    """The methods paragraphs (plain text) for ``params``."""
    from immunopet.report.html import environment

    nuclide = get_nuclide(params.nuclide)
    suv_phrase, denominator = SUV_PHRASES[params.suv_type]
    tracer = params.tracer or params.nuclide
    context = {
        "n_patients": params.n_patients,
        "n_scans": params.n_scans,
        "tracer_phrase": f"a single injection of {tracer}",
        "injected_mbq": None if params.injected_mbq is None else dict(
            zip(("median", "low", "high"), (f"{v:.1f}" for v in params.injected_mbq), strict=True)),
        "days_phrase": _join([_number(d) for d in params.days]),
        "uptake_phrases": [
            f"day {_number(d)}: median {_hours(m)} h (range {_hours(lo)}-{_hours(hi)} h)"
            for d, (m, lo, hi) in sorted(params.uptake_hours.items())
        ],
        "suv_phrase": suv_phrase,
        "suv_denominator": denominator,
        "nuclide": nuclide.name,
        "half_life_h": f"{nuclide.half_life_s / 3600:.2f}",
        "organs_phrase": _join([o.replace("_", " ") for o in params.organs]) or "none",
        "n_lesions": params.n_lesions,
        "n_patients_with_lesions": params.n_patients_with_lesions,
        "peak_phrase": PEAK_PHRASES[params.suv_peak],
        "has_blood_pool": "blood_pool" in params.organs,
        "metric_phrase": METRIC_PHRASES.get(params.lesion_metric, params.lesion_metric),
        "outcome_day": _number(params.outcome_day),
        "responders_phrase": _join(params.responders).replace(" and ", " or "),
        "statistics": params.statistics,
        "version": params.software_version,
        "python_version": platform.python_version(),
        "library_phrase": _library_versions(),
    }
    text = environment().get_template("methods.txt.j2").render(**context)
    return [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]


def parameters_dict(params: MethodsParameters) -> dict[str, Any]:
    """The parameters as JSON-able values (written beside the report as ``methods.json``)."""
    out = asdict(params)
    out["uptake_hours"] = {str(k): list(v) for k, v in params.uptake_hours.items()}
    return out
