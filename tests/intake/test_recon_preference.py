"""The reconstruction preference of init: from --recon, or from the study's study.yaml on a re-run."""

from __future__ import annotations

import logging

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.errors import ImmunoPETError
from immunopet.intake import init_study
from tests.intake.conftest import read

PSF = "OSEM-PSF"  # the simulator's second reconstruction has ReconstructionMethod "OSEM-PSF 3i21s, ..."


def _second_recons(sim) -> set[str]:
    decoys = read(sim / "truth" / "decoys.csv")
    return set(decoys.loc[decoys["kind"] == "second_recon", "series_uid"])


def test_study_yaml_preference_picks_the_second_reconstruction(pacs_export, tmp_path):
    study = tmp_path / "study"
    init_study(study, pacs_export / "dicom-export", workers=1)
    assert not (_second_recons(pacs_export) & set(read(study / "scans.csv")["pet_series_uid"]))
    config = yaml.safe_load((study / "study.yaml").read_text())
    (study / "study.yaml").write_text(yaml.safe_dump({**config, "reconstruction": PSF}))  # the user's edit
    init_study(study, pacs_export / "dicom-export", workers=1, force=True)
    assert yaml.safe_load((study / "study.yaml").read_text())["reconstruction"] == PSF  # kept on --force
    chosen = set(read(study / "scans.csv")["pet_series_uid"])
    psf = _second_recons(pacs_export)
    assert psf and psf <= chosen  # every time point with a PSF reconstruction now quantifies that one
    series = read(study / "init" / "series.csv").set_index("series_uid")
    left = series[series["reason"].str.startswith("second reconstruction")]
    assert len(left) == len(psf) and left["reason"].str.contains(f"preference '{PSF}'").all()
    from immunopet.study import load_study

    assert load_study(study).config.reconstruction == PSF  # the key is part of the validated study.yaml


def test_recon_on_the_command_line_is_written_to_a_new_study_yaml(pacs_export_small, tmp_path):
    study = tmp_path / "study"
    init_study(study, pacs_export_small / "dicom-export", recon=PSF, workers=1)
    assert yaml.safe_load((study / "study.yaml").read_text())["reconstruction"] == PSF
    assert _second_recons(pacs_export_small) <= set(read(study / "scans.csv")["pet_series_uid"])


def test_command_line_wins_over_study_yaml_and_says_so(pacs_export_small, tmp_path, caplog):
    study = tmp_path / "study"
    study.mkdir()
    (study / "study.yaml").write_text(yaml.safe_dump({"name": "pref", "nuclide": "Zr-89", "reconstruction": PSF}))
    with caplog.at_level(logging.WARNING, logger="immunopet"):
        init_study(study, pacs_export_small / "dicom-export", recon="no such recon", workers=1)
    assert any("study.yaml keeps reconstruction" in r.getMessage() for r in caplog.records)
    assert not (_second_recons(pacs_export_small) & set(read(study / "scans.csv")["pet_series_uid"]))


@pytest.mark.parametrize("value", [5, "", "  ", ["a"]])
def test_a_reconstruction_that_is_not_text_is_refused_naming_the_key(pacs_export_small, tmp_path, value):
    study = tmp_path / "study"
    study.mkdir()
    (study / "study.yaml").write_text(yaml.safe_dump({"name": "x", "nuclide": "Zr-89", "reconstruction": value}))
    with pytest.raises(ImmunoPETError, match="reconstruction must be text") as refused:
        init_study(study, pacs_export_small / "dicom-export", workers=1)
    assert refused.value.file == str(study / "study.yaml") and refused.value.attribute == "reconstruction"


def test_an_unreadable_study_yaml_is_a_clear_error(pacs_export_small, tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    (study / "study.yaml").write_text("name: [unclosed\n")
    with pytest.raises(ImmunoPETError, match="study.yaml cannot be read"):
        init_study(study, pacs_export_small / "dicom-export", workers=1)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.booleans(), st.none(),
                 st.lists(st.text(max_size=5), max_size=2)),
       st.one_of(st.none(), st.text(max_size=20)))
def test_any_stored_value_and_recon_give_text_or_a_clear_error(tmp_path_factory, stored, recon):
    from immunopet.intake.init import reconstruction_preference

    study = tmp_path_factory.mktemp("recon")
    (study / "study.yaml").write_text(yaml.safe_dump({"name": "x", "nuclide": "Zr-89", "reconstruction": stored}))
    try:
        chosen = reconstruction_preference(study, recon)
    except ImmunoPETError as refused:
        assert refused.attribute == "reconstruction" and refused.file == str(study / "study.yaml")
        assert not (isinstance(stored, str) and stored.strip()) and stored is not None
        return
    given = recon.strip() if recon and recon.strip() else None
    kept = stored.strip() if isinstance(stored, str) and stored.strip() else None
    assert chosen == (given or kept)
