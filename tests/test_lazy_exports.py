"""Public names loaded on first use: every advertised name resolves, unknown names fail cleanly."""

import importlib

import pytest


@pytest.mark.parametrize(
    "package", ["immunopet.dicom", "immunopet.voi", "immunopet.simulate", "immunopet.study", "immunopet.register",
                "immunopet.analysis", "immunopet.report", "immunopet.export", "immunopet.view"]
)
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018


def test_a_name_shared_with_its_module_stays_the_function():
    import immunopet.dicom.discover  # noqa: F401 - importing the submodule first must not hide it
    import immunopet.voi.delineate  # noqa: F401
    from immunopet.dicom import discover
    from immunopet.voi import delineate

    assert callable(discover) and callable(delineate)
