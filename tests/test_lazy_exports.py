"""Public names loaded on first use: every advertised name resolves, unknown names fail cleanly."""

import importlib

import pytest


@pytest.mark.parametrize("package", ["immunopet.voi", "immunopet.report"])
def test_every_public_name_resolves(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None
        assert name in dir(module)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        module.no_such_name  # noqa: B018
