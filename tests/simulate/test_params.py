"""Parameter files: defaults, overrides, and errors that name the file and the key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from immunopet.simulate import SimulationParamsError, default_params, draw_cohort, load_params


def test_defaults_have_every_section():
    params = default_params()
    assert {"study", "cohort", "kinetics", "lesions", "clinical", "phantom", "scanner"} <= set(params)
    assert params["scanner"]["psf_fwhm_mm"] == 6.5 and params["phantom"]["voxel_mm"] == 4.0


def test_a_yaml_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("scanner:\n  psf_fwhm_mm: 8.0\ncohort:\n  tumour_types: {bladder: 1}\n")
    params = load_params(path)
    assert params["scanner"]["psf_fwhm_mm"] == 8.0
    assert params["scanner"]["minutes_per_bed"] == default_params()["scanner"]["minutes_per_bed"]
    assert params["cohort"]["tumour_types"] == {"bladder": 1}  # a data table is replaced as a whole
    assert set(draw_cohort(4, 0, params=path).patients["tumour_type"]) == {"bladder"}


def test_unknown_key_is_an_error_naming_it(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("scanner:\n  psf_fwhm: 8.0\n")
    with pytest.raises(SimulationParamsError) as error:
        load_params(path)
    assert "scanner.psf_fwhm" in str(error.value) and str(path) in str(error.value)


def test_missing_and_broken_files_are_errors(tmp_path):
    with pytest.raises(SimulationParamsError, match="cannot read"):
        load_params(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("scanner: [unclosed\n")
    with pytest.raises(SimulationParamsError, match="YAML"):
        load_params(bad)


def test_a_tumour_type_without_sites_is_an_error():
    with pytest.raises(SimulationParamsError, match="lesions.sites"):
        load_params({"cohort": {"tumour_types": {"melanoma": 1}, "male_fraction": {"melanoma": 0.5}}})


def test_non_positive_sizes_are_errors():
    with pytest.raises(SimulationParamsError, match="phantom.voxel_mm"):
        load_params({"phantom": {"voxel_mm": 0}})
    with pytest.raises(SimulationParamsError, match="psf_fwhm_mm"):
        load_params({"scanner": {"psf_fwhm_mm": -1}})


def test_scenarios_override_the_defaults_and_unknown_ones_are_errors():
    assert load_params(scenario="null")["clinical"]["beta_pet"] == 0.0
    assert load_params(scenario="strong")["clinical"]["beta_pet"] == 1.3
    assert load_params({"clinical": {"beta_pet": 0.5}}, scenario="null")["clinical"]["beta_pet"] == 0.5  # file wins
    with pytest.raises(SimulationParamsError, match="unknown scenario"):
        load_params(scenario="optimistic")


def test_noise_parameters_are_checked():
    with pytest.raises(SimulationParamsError, match="noise_alpha"):
        load_params({"scanner": {"noise_alpha": 2.5}})
    with pytest.raises(SimulationParamsError, match="noise_long_cv"):
        load_params({"scanner": {"noise_long_cv": -0.1}})


@given(value=st.one_of(st.floats(allow_nan=True), st.integers(-10, 10), st.booleans(), st.text(max_size=5), st.none()))
def test_the_attenuation_power_is_a_number_from_0_to_3(value):
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and 0 <= value <= 3
    if ok:
        assert load_params({"scanner": {"noise_attenuation_power": value}})["scanner"]["noise_attenuation_power"] == value
    else:
        with pytest.raises(SimulationParamsError, match="noise_attenuation_power"):
            load_params({"scanner": {"noise_attenuation_power": value}})


@given(value=st.one_of(st.booleans(), st.integers(0, 1), st.text(max_size=5), st.none()))
def test_partial_volume_is_true_or_false(value):
    if isinstance(value, bool):
        assert load_params({"lesions": {"partial_volume": value}})["lesions"]["partial_volume"] is value
    else:
        with pytest.raises(SimulationParamsError, match="partial_volume"):
            load_params({"lesions": {"partial_volume": value}})
