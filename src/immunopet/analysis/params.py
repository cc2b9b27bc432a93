"""The choices an analysis depends on, recorded in the output's ``parameters`` block."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from immunopet.errors import AnalysisError
from immunopet.study.analysis_plan import AnalysisPlan

#: Biomarker columns of ``patients.csv`` compared with PET (column -> label).
BIOMARKERS = {
    "ihc_ic": "PD-L1 IHC immune cells (IC 0-3)",
    "ihc_tc": "PD-L1 IHC tumour cells (TC 0-3)",
    "rna_cd274": "RNA-seq CD274 (log2)",
    "rna_teff": "RNA-seq T-effector score",
}
#: Lesion metrics the patient PET summary may use.
PET_METRICS = ("suv_max", "suv_peak", "suv_peak_local", "suv_mean", "suv_median", "tbr_max", "tbr_peak",
               "tbr_mean")


@dataclass(frozen=True)
class AnalysisParams:
    """Every choice of the analyses.

    Attributes
    ----------
    day
        Nominal scan day whose lesion uptake is used for the outcome analyses (``outcome_day``).
    metric
        Lesion metric summarised per patient as the geometric mean over lesions (``lesion_metric``).
    split
        Kaplan-Meier split: ``"median"`` (of each predictor) or a number (used for PET uptake; the
        biomarkers are then split at their medians). "High" means strictly above the split.
    responders
        Best responses counted as response; ``NE`` is never evaluable.
    n_boot
        Bootstrap resamples for AUC confidence intervals and paired AUC comparisons.
    seed
        Seed of every resampling step.
    ci_level
        Confidence level of every interval.
    at_risk_times
        Months at which numbers at risk are tabulated; ``None``: every 6 months to the last follow-up.
    min_group
        Smallest group size analysed without a warning.
    min_events_per_covariate
        Events per Cox covariate below which a warning is recorded.
    exact_max_n
        Rank tests with at most this many patients use exact (Mann-Whitney without ties) or
        permutation p-values instead of large-sample approximations.
    n_permutations
        Resamples of those permutation tests (exact enumeration when there are fewer arrangements).
    exact_max_splits
        A two-group rank test with ties is exact (every split of the patients enumerated) when there
        are at most this many splits; above, ``n_permutations`` seeded resamples.
    clearance_min_hours
        Blood-pool samples before this time are left out of the mono-exponential clearance fit (the
        fast distribution phase).
    suv_type
        SUV normalisation of the measurements (informational; from ``study.yaml``).
    plan
        The prespecified analysis plan (``analysis:`` of ``study.yaml``): primary endpoint and
        predictor, covariates, cut-offs, multiplicity families.
    """

    day: float = 7.0
    metric: str = "suv_max"
    split: str | float = "median"
    responders: tuple[str, ...] = ("CR", "PR")
    n_boot: int = 2000
    seed: int = 0
    ci_level: float = 0.95
    at_risk_times: tuple[float, ...] | None = None
    min_group: int = 5
    min_events_per_covariate: int = 10
    exact_max_n: int = 50
    n_permutations: int = 9999
    exact_max_splits: int = 10**15
    clearance_min_hours: float = 24.0
    suv_type: str | None = None
    biomarkers: dict[str, str] = field(default_factory=lambda: dict(BIOMARKERS))
    plan: AnalysisPlan = field(default_factory=AnalysisPlan)

    def __post_init__(self) -> None:
        if self.metric not in PET_METRICS:
            raise AnalysisError(f"unknown lesion metric {self.metric!r}", attribute="lesion_metric",
                                fix=f"use one of {', '.join(PET_METRICS)}")
        if isinstance(self.split, str) and self.split != "median":
            try:
                object.__setattr__(self, "split", float(self.split))
            except ValueError:
                raise AnalysisError(f"split must be 'median' or a number, not {self.split!r}",
                                    attribute="split", fix="e.g. --split median or --split 8.5") from None
        if not 0.5 < self.ci_level < 1.0:
            raise AnalysisError(f"ci_level {self.ci_level} is not between 0.5 and 1", attribute="ci_level")
        if self.n_boot < 100:
            raise AnalysisError(f"n_boot={self.n_boot} is too small for a percentile interval",
                                attribute="n_boot", fix="use at least 100 (default 2000)")
        object.__setattr__(self, "responders", tuple(str(r).upper() for r in self.responders))
        if isinstance(self.plan, Mapping):
            object.__setattr__(self, "plan", plan_from(self.plan))

    @classmethod
    def from_config(cls, config: Any = None, **overrides: Any) -> AnalysisParams:
        """Parameters from ``study.yaml`` (a mapping or pydantic model) with explicit overrides.

        ``None`` values in ``overrides`` keep the study's (or the default) choice.
        """
        if config is None:
            data: Mapping[str, Any] = {}
        elif hasattr(config, "model_dump"):
            data = config.model_dump()
        else:
            data = dict(config)
        values: dict[str, Any] = {}
        if data.get("outcome_day") is not None:
            values["day"] = float(data["outcome_day"])
        if data.get("lesion_metric") is not None:
            values["metric"] = str(data["lesion_metric"])
        if data.get("responders"):
            values["responders"] = tuple(data["responders"])
        if data.get("suv_type") is not None:
            values["suv_type"] = str(data["suv_type"])
        if data.get("analysis") is not None:
            values["plan"] = plan_from(data["analysis"])
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise AnalysisError(f"unknown analysis parameter(s): {', '.join(sorted(unknown))}",
                                fix=f"use {', '.join(sorted(known))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def small_n(self) -> dict[str, int]:
        """Keyword arguments of the rank tests' small-sample p-values."""
        return {"exact_max_n": self.exact_max_n, "seed": self.seed, "n_permutations": self.n_permutations}

    def two_group_n(self) -> dict[str, int]:
        """Keyword arguments of the two-group rank tests (with the enumeration limit)."""
        return {**self.small_n(), "exact_max_splits": self.exact_max_splits}

    def with_(self, **changes: Any) -> AnalysisParams:
        """A copy with some choices changed."""
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """The JSON ``parameters`` block."""
        out = asdict(self)
        out["plan"] = self.plan.model_dump()
        out["responders"] = list(self.responders)
        out["at_risk_times"] = None if self.at_risk_times is None else list(self.at_risk_times)
        return out


def plan_from(data: Any) -> AnalysisPlan:
    """The analysis plan from a mapping (``study.yaml``'s ``analysis:``), with a clear error."""
    from pydantic import ValidationError

    if isinstance(data, AnalysisPlan):
        return data
    try:
        return AnalysisPlan.model_validate(dict(data))
    except (ValidationError, TypeError, ValueError) as bad:
        first = bad.errors()[0] if isinstance(bad, ValidationError) else {"loc": (), "msg": str(bad)}
        where = ".".join(str(p) for p in first["loc"])
        raise AnalysisError(f"analysis plan: {first['msg']}", file="study.yaml",
                            attribute=f"analysis.{where}" if where else "analysis",
                            fix="see docs/analyses.md, 'Analysis plan'") from None
