"""The choices of the kinetic analyses, recorded in ``analysis.json`` under ``kinetics.parameters``."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from immunopet.errors import AnalysisError
from immunopet.nuclides import get_nuclide

#: VOI metrics the kinetic analyses may use as the tissue concentration.
TISSUE_METRICS = ("suv_mean", "suv_peak", "suv_max")
WEIGHTS = ("counts", "uniform")
BLOOD_METHODS = ("biexp", "loglinear")


@dataclass(frozen=True)
class KineticsParams:
    """Every choice of the kinetic analyses (defaults in brackets).

    Attributes
    ----------
    patlak_from_day
        Scans at or after this nominal day enter the Patlak fit (2).
    metric
        The tissue concentration: ``suv_mean`` (the VOI's mean; recommended), ``suv_peak`` or ``suv_max``.
    blood_voi
        The VOI name of the image-derived blood input (``blood_pool``: whole blood).
    blood_method
        ``biexp``: bi-exponential fit of all blood points from injection on; ``loglinear``:
        exponential interpolation between them (see ``kinetics/blood.py``).
    blood_start_suv
        For ``loglinear``: the blood value at injection (``None``: back-extrapolated).
    weights
        ``counts``: Patlak weights from counting statistics; ``uniform``: ordinary least squares.
    ci_level
        Confidence level of the Ki intervals (0.95).
    nuclide
        The nuclide whose half-life converts between decay-corrected and measured activity (Zr-89).
    tiac_fit
        Fit mono-/bi-exponential and Patlak-model curves for the TIAC and select by AICc (True).
    blood_draws
        Blood curves drawn per patient with an image-derived input, to carry its uncertainty into
        the Ki and V_T intervals (200; 0: intervals from each VOI's residuals only).
    seed
        Seed of those draws (the analysis' seed, 0).
    """

    patlak_from_day: float = 2.0
    metric: str = "suv_mean"
    blood_voi: str = "blood_pool"
    blood_method: str = "biexp"
    blood_start_suv: float | None = None
    weights: str = "counts"
    ci_level: float = 0.95
    nuclide: str = "Zr-89"
    tiac_fit: bool = True
    blood_draws: int = 200
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value, allowed in (("metric", self.metric, TISSUE_METRICS), ("weights", self.weights, WEIGHTS),
                                     ("blood_method", self.blood_method, BLOOD_METHODS)):
            if value not in allowed:
                raise AnalysisError(f"unknown kinetics {name} {value!r}", attribute=f"kinetics.{name}",
                                    fix=f"use one of {', '.join(allowed)}")
        if not 0.5 < float(self.ci_level) < 1.0:
            raise AnalysisError(f"ci_level {self.ci_level} is not between 0.5 and 1", attribute="kinetics.ci_level")
        if not float(self.patlak_from_day) >= 0:
            raise AnalysisError(f"patlak_from_day must be a day >= 0, not {self.patlak_from_day!r}",
                                attribute="kinetics.patlak_from_day", fix="e.g. 2 (the day-2 scan and later)")
        if isinstance(self.blood_draws, bool) or not isinstance(self.blood_draws, int) or self.blood_draws == 1 \
                or self.blood_draws < 0:
            raise AnalysisError(f"blood_draws must be 0 or an integer >= 2, not {self.blood_draws!r}",
                                attribute="kinetics.blood_draws", fix="e.g. 200; 0 leaves the blood uncertainty out")
        if self.blood_start_suv is not None and not float(self.blood_start_suv) > 0:
            raise AnalysisError("blood_start_suv must be positive", attribute="kinetics.blood_start_suv")
        object.__setattr__(self, "nuclide", get_nuclide(str(self.nuclide)).name)

    @property
    def decay_per_h(self) -> float:
        """Physical decay constant ``ln 2 / T_half`` in 1/h."""
        import math

        return math.log(2.0) / (get_nuclide(self.nuclide).half_life_s / 3600.0)

    @classmethod
    def from_config(cls, config: object = None, *, analysis: object = None, **overrides: object) -> KineticsParams:
        """Parameters with the study's nuclide (``study.yaml``), the confidence level and seed of the
        analyses (``analysis``: an :class:`~immunopet.analysis.params.AnalysisParams`, so every caller
        draws with the seed the user chose) and explicit overrides (``None`` ignored)."""
        get = config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))
        values = {}
        if config is not None and get("nuclide") is not None:
            values["nuclide"] = str(get("nuclide"))
        if analysis is not None:
            values.update(ci_level=analysis.ci_level, seed=analysis.seed)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def as_dict(self) -> dict:
        return {**asdict(self), "half_life_h": 0.6931471805599453 / self.decay_per_h}
