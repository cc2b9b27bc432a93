"""A run study (copy of the quick simulated study) and a running viewer on it, shared by the view tests."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(scope="session")
def viewed_study(quick_study, tmp_path_factory):
    from immunopet.study import run_study
    from immunopet.study.registration import register_study

    study = tmp_path_factory.mktemp("view") / "study"
    shutil.copytree(quick_study, study)
    run_study(study, workers=1)
    register_study(study, workers=1)  # the simulated patients lie differently on each day
    return study


@pytest.fixture(scope="module")
def viewer(viewed_study):
    from immunopet.view.server import ViewerServer

    with ViewerServer(viewed_study, max_seconds=600) as server:
        yield server
