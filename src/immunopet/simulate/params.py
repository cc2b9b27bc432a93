"""The simulator's parameters: the packaged defaults (``params.yaml``) merged with a user's file."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from immunopet.errors import ImmunoPETError

#: Top-level sections every parameter set has.
SECTIONS = ("study", "cohort", "kinetics", "lesions", "clinical", "phantom", "motion", "scanner")


class SimulationParamsError(ImmunoPETError):
    """A parameter file for the simulator cannot be read or has unknown keys."""


#: Named scenarios: overrides applied after the packaged defaults and before a user's file.
#: ``null``: the PET signal carries no information on outcome (beta_pet 0, no lesion-level link, and
#: one response intercept for every packaged tumour type, since uptake also differs by type and a
#: type effect on response would make uptake predictive through the type), so outcome tests of the
#: PET uptake must reject at their nominal type-I error rate.
#: ``strong``: the PET effect of earlier versions (beta_pet 1.3, expected AUC about 0.87), for tests
#: of analyses that need a clear signal in few patients.
SCENARIOS: dict[str, dict[str, Any]] = {
    "default": {},
    "strong": {"clinical": {"beta_pet": 1.3}},
    "null": {"clinical": {"beta_pet": 0.0, "pct_per_lesion_log_uptake": 0.0,
                          "type_effect": {"bladder": 0.0, "NSCLC": 0.0, "TNBC": 0.0}}},
}


def default_params() -> dict[str, Any]:
    """The packaged default parameters (a fresh, mutable copy)."""
    text = resources.files("immunopet.simulate").joinpath("params.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


#: Tables replaced as a whole by an override (their entries are proportions of one population).
REPLACED = {"cohort.tumour_types", "cohort.dose_cohorts"}
#: Tables keyed by data (tumour types, sites, dose cohorts): overrides may add keys.
OPEN = {"cohort.male_fraction", "kinetics.dose_cohort_effects", "lesions.count_mean_extra", "lesions.sites",
        "lesions.first_site", "lesions.max_diameter_by_site", "lesions.ki_median", "lesions.ki_site_log_effect",
        "clinical.type_effect"}


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str, file: str | None) -> None:
    table = where.rstrip(".")
    for key, value in override.items():
        path = f"{where}{key}"
        if key not in base:
            if table in OPEN:
                base[key] = copy.deepcopy(value)
                continue
            raise SimulationParamsError(
                f"unknown parameter {path}",
                file=file,
                attribute=path,
                fix="check the spelling against the packaged params.yaml (see docs/simulator.md)",
            )
        if isinstance(base[key], dict) and isinstance(value, Mapping) and path not in REPLACED:
            _merge(base[key], value, f"{path}.", file)
        else:
            base[key] = copy.deepcopy(value)


def load_params(params: str | Path | Mapping[str, Any] | None = None, *, scenario: str | None = None) -> dict[str, Any]:
    """Default parameters updated with a named ``scenario`` and then with ``params``.

    Parameters
    ----------
    params
        ``None`` (defaults), a mapping of overrides, or the path of a YAML file of overrides.
    scenario
        A name of :data:`SCENARIOS` (``default``, ``null``).

    Returns
    -------
    dict
        The complete parameter set.

    Raises
    ------
    SimulationParamsError
        The file is missing or not YAML, or names a parameter that does not exist.
    """
    merged = default_params()
    if scenario is not None:
        if scenario not in SCENARIOS:
            raise SimulationParamsError(f"unknown scenario {scenario!r}", attribute="--scenario",
                                        fix=f"use one of {', '.join(SCENARIOS)}")
        _merge(merged, SCENARIOS[scenario], "", None)
    if params is None:
        return merged
    file: str | None = None
    if isinstance(params, (str, Path)):
        file = str(params)
        try:
            loaded = yaml.safe_load(Path(params).read_text(encoding="utf-8"))
        except OSError as error:
            raise SimulationParamsError(
                f"cannot read the parameter file ({error.strerror})",
                file=file,
                fix="give the path of a YAML file such as the packaged params.yaml",
            ) from error
        except yaml.YAMLError as error:
            raise SimulationParamsError(
                f"not valid YAML: {error}", file=file, fix="correct the YAML syntax"
            ) from error
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, Mapping):
            raise SimulationParamsError(
                "the parameter file must hold a mapping of sections", file=file,
                fix=f"use top-level sections {', '.join(SECTIONS)}",
            )
        params = loaded
    _merge(merged, params, "", file)
    _check(merged, file)
    return merged


def _check(params: dict[str, Any], file: str | None) -> None:
    types = params["cohort"]["tumour_types"]
    for section, key in (("lesions", "sites"), ("lesions", "ki_median"), ("lesions", "count_mean_extra"),
                         ("cohort", "male_fraction"), ("clinical", "type_effect")):
        missing = sorted(set(types) - set(params[section][key]))
        if missing:
            raise SimulationParamsError(
                f"tumour type(s) {missing} have no entry in {section}.{key}",
                file=file, attribute=f"{section}.{key}",
                fix="give every tumour type of cohort.tumour_types an entry there",
            )
    for section, key in (("phantom", "voxel_mm"), ("phantom", "quick_voxel_mm"), ("scanner", "minutes_per_bed"),
                         ("scanner", "noise_equivalent_sensitivity"), ("cohort", "bmi_median")):
        if not float(params[section][key]) > 0:
            raise SimulationParamsError(
                f"{section}.{key} must be positive, got {params[section][key]!r}",
                file=file, attribute=f"{section}.{key}", fix="give a positive number",
            )
    negative = [k for k in ("psf_fwhm_mm", "noise_kernel_fwhm_mm", "noise_long_fwhm_mm", "noise_long_cv")
                if float(params["scanner"][k]) < 0]
    if negative:
        raise SimulationParamsError(
            f"scanner.{negative[0]} must not be negative",
            file=file, attribute=f"scanner.{negative[0]}", fix="give 0 (none) or a positive value",
        )
    if not 1.0 <= float(params["scanner"]["noise_alpha"]) <= 2.0:
        raise SimulationParamsError(
            f"scanner.noise_alpha must lie in [1, 2], got {params['scanner']['noise_alpha']!r}",
            file=file, attribute="scanner.noise_alpha", fix="1 = Poisson-like, 2 = multiplicative noise")
    power = params["scanner"]["noise_attenuation_power"]
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not 0.0 <= float(power) <= 3.0:
        raise SimulationParamsError(
            f"scanner.noise_attenuation_power must be a number in [0, 3], got {power!r}",
            file=file, attribute="scanner.noise_attenuation_power",
            fix="0 = noise independent of attenuation, 1 = variance proportional to the correction factor")
    if not isinstance(params["lesions"]["partial_volume"], bool):
        raise SimulationParamsError(
            f"lesions.partial_volume must be true or false, got {params['lesions']['partial_volume']!r}",
            file=file, attribute="lesions.partial_volume", fix="give true (fractions) or false (whole voxels)")
    if any(float(v) < 0 for v in types.values()) or sum(float(v) for v in types.values()) <= 0:
        raise SimulationParamsError(
            "cohort.tumour_types must have non-negative counts with a positive sum",
            file=file, attribute="cohort.tumour_types", fix="give counts or proportions such as 9, 9, 4",
        )
