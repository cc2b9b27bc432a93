"""``study.yaml``: what the study is and how it is quantified (a pydantic model)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from immunopet.study.analysis_plan import AnalysisPlan
from immunopet.study.limits import TEXT_LENGTH
from immunopet.voi.track import DEFAULT_MAX_DISTANCE_MM

#: Lesion metrics that can be summarised per patient (a column of the measurements table).
LESION_METRICS = (
    "suv_max", "suv_peak", "suv_peak_local", "suv_mean", "suv_median", "tlu", "tbr_max", "tbr_peak", "tbr_mean",
)
RESPONSES = ("CR", "PR", "SD", "PD", "NE")


class TableFiles(BaseModel):
    """File names of the study tables, relative to the study folder."""

    model_config = ConfigDict(extra="forbid")

    patients: str = "patients.csv"
    scans: str = "scans.csv"
    vois: str = "vois.csv"
    lesions: str = "lesions.csv"


Organ = Literal["liver", "spleen", "kidneys", "lungs", "brain", "muscle"]


class OrganRulesConfig(BaseModel):
    """study.yaml ``organ_rules:``: parameters of the ``segmenter-rules`` organ VOIs
    (:class:`immunopet.voi.organ_rules.OrganRules`); a key left out keeps its default."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    # strict: a number as written (``yes`` or ``"10"`` is refused, not read as 1.0 or 10 mm)
    blood_pool_ml: float | None = Field(None, gt=0, le=100, strict=True)
    arch_band_mm: float | None = Field(None, gt=0, le=300, strict=True)
    bone_marrow_ml: float | None = Field(None, gt=0, le=100, strict=True)
    cortex_mm: float | None = Field(None, ge=0, le=20, strict=True)
    margins_mm: dict[Organ, Annotated[float, Field(strict=True)]] = Field(default_factory=dict)

    @field_validator("margins_mm")
    @classmethod
    def _margins(cls, value: dict[str, float]) -> dict[str, float]:
        import math

        bad = {organ: mm for organ, mm in value.items() if not (math.isfinite(mm) and 0 <= mm <= 50)}
        if bad:
            raise ValueError(f"margins must be 0-50 mm: {bad}")
        return value

    def given(self) -> dict[str, Any]:
        """The keys set in study.yaml (empty: every rule at its default)."""
        return self.model_dump(exclude_none=True, exclude_defaults=True)


class StudyConfig(BaseModel):
    """The validated content of ``study.yaml`` (see ``docs/study-format.md``).

    Unknown keys are errors, so that a misspelt key (``suv_tpye: lbm``) cannot silently fall back to
    a default and change every SUV.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str = Field(min_length=1, max_length=TEXT_LENGTH)
    tracer: str = Field("", max_length=TEXT_LENGTH)
    nuclide: str
    suv_type: Literal["bw", "lbm", "bsa", "ibw"] = "bw"
    suv_peak: Literal["global", "local"] = "global"
    outcome_day: float = Field(7.0, ge=0)
    lesion_metric: Literal[LESION_METRICS] = "suv_max"  # type: ignore[valid-type]
    reference_day: float | None = Field(None, ge=0)  # registration target; None: outcome_day
    registration: dict[str, Any] = Field(default_factory=dict)  # RegistrationParams/QualityLimits fields
    #: largest distance (mm, reference frame) at which a lesion of another day matches a reference lesion
    lesion_match_max_mm: float = Field(DEFAULT_MAX_DISTANCE_MM, gt=0, le=200)
    organ_rules: OrganRulesConfig = Field(default_factory=OrganRulesConfig)  # segmenter-rules parameters
    responders: list[Literal[RESPONSES]] = Field(default_factory=lambda: ["CR", "PR"])  # type: ignore[valid-type]
    tables: TableFiles = Field(default_factory=TableFiles)
    #: ``false`` (default): every path must resolve inside the study folder; ``true``: anywhere; a
    #: list of folders (absolute, or relative to the study folder): inside the study or those.
    allow_outside_paths: bool | list[str] = False
    #: the PET reconstruction ``immunopet init`` prefers when a time point has several (case-insensitive
    #: text in SeriesDescription or ReconstructionMethod); ``init --recon`` gives it on the command line
    reconstruction: str | None = Field(None, min_length=1, max_length=TEXT_LENGTH)

    @field_validator("allow_outside_paths")
    @classmethod
    def _folders(cls, value: bool | list[str]) -> bool | list[str]:
        if isinstance(value, list) and any(not str(folder).strip() or "\x00" in str(folder) for folder in value):
            raise ValueError("allow_outside_paths takes true, false or a list of folders")
        return value

    analysis: AnalysisPlan = Field(default_factory=AnalysisPlan)  # the prespecified plan (study/analysis_plan.py)

    @field_validator("nuclide")
    @classmethod
    def _known_nuclide(cls, value: str) -> str:
        from immunopet.nuclides import get_nuclide

        try:
            return get_nuclide(value).name
        except Exception as unknown:  # ImmunoPETError from the nuclide table
            raise ValueError(f"unknown nuclide {value!r} (e.g. Zr-89, F-18)") from unknown
