"""The prespecified analysis plan of ``study.yaml`` (its ``analysis:`` block), as a pydantic model.

A statistical reviewer asks, before any number is read: what is the primary endpoint and predictor,
which cut-offs were fixed in advance, what is adjusted for, and which p-values are corrected
together for multiplicity. This block states it::

    analysis:
      primary: {predictor: pet_uptake, endpoint: response}
      covariates: [tumour_type]
      cutoffs:
        ihc_ic: {value: 1, label: IC2/3 vs IC0/1}
        pet_uptake: {quantile: 0.5}
      families:
        survival_secondary: ["outcome.survival.*.cox_adjusted"]
      rmst_horizon_months: 12
      piecewise_months: 3

Every key has a default (the plan above without ``pet_uptake``'s cut-off), so a study without the
block still gets a declared, documented plan (``docs/analyses.md``, "Analysis plan").
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ENDPOINTS = ("response", "pfs", "os")


class CutOff(BaseModel):
    """A prespecified split of one predictor: "high" is strictly above ``value`` (or the quantile)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float | None = None
    quantile: float | None = Field(None, gt=0.0, lt=1.0)
    label: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> CutOff:
        if (self.value is None) == (self.quantile is None):
            raise ValueError("give exactly one of value: (e.g. 1 for IC2/3 vs IC0/1) or quantile: (e.g. 0.5)")
        return self


class PrimaryAnalysis(BaseModel):
    """The one prespecified test the study stands on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    predictor: str = Field("pet_uptake", min_length=1)
    endpoint: Literal[ENDPOINTS] = "response"  # type: ignore[valid-type]


def _default_cutoffs() -> dict[str, CutOff]:
    # the SP142 scores' usual clinical cut-offs (IC2/3 vs IC0/1; TC2/3 vs TC0/1)
    return {"ihc_ic": CutOff(value=1, label="IC2/3 vs IC0/1"), "ihc_tc": CutOff(value=1, label="TC2/3 vs TC0/1")}


class AnalysisPlan(BaseModel):
    """The ``analysis:`` block of ``study.yaml``.

    Attributes
    ----------
    primary
        Primary predictor (a patient-table column, ``pet_uptake`` for the PET summary) and endpoint.
    secondary_endpoints
        Endpoints on which the primary predictor's adjusted models are *secondary* results (Holm
        within the ``secondary`` family); everything not primary or secondary is exploratory.
    covariates
        Patient-table columns every adjusted model includes (categorical ones stratify Cox models).
    cutoffs
        Prespecified Kaplan-Meier / log-rank cut-offs per predictor; a predictor without one is split
        at its median, reported as a data-driven (exploratory) split.
    families
        Extra multiplicity families: name -> patterns (``fnmatch``) of result paths in
        ``analysis.json``; Holm within each. Built-in families ``primary``, ``secondary``,
        ``auc_vs_pet`` are always formed (a family given here with the same name replaces it).
    rmst_horizon_months
        Horizon of the restricted-mean-survival-time difference reported beside every Cox model.
    piecewise_months
        Break point of the piecewise (early / late) hazard ratio.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    primary: PrimaryAnalysis = Field(default_factory=PrimaryAnalysis)
    secondary_endpoints: list[Literal[ENDPOINTS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: list(ENDPOINTS))
    covariates: list[str] = Field(default_factory=lambda: ["tumour_type"])
    cutoffs: dict[str, CutOff] = Field(default_factory=_default_cutoffs)
    families: dict[str, list[str]] = Field(default_factory=dict)
    rmst_horizon_months: float = Field(12.0, gt=0.0)
    piecewise_months: float = Field(3.0, gt=0.0)

    @model_validator(mode="after")
    def _families_not_empty(self) -> AnalysisPlan:
        empty = [name for name, patterns in self.families.items() if not patterns]
        if empty:
            raise ValueError(f"family {empty[0]!r} lists no results (give result paths, e.g. outcome.survival.*.cox)")
        return self
