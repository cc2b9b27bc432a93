"""Fixtures of the registration tests: a phantom and the same body moved by a known transform."""

from __future__ import annotations

import pytest

from immunopet.register.pair import register_pair
from support.moved_phantom import moved_pair


@pytest.fixture(scope="session")
def pair():
    return moved_pair()


@pytest.fixture(scope="session")
def registered(pair):
    """The moved day (fixed) registered rigidly to the reference day (moving)."""
    return register_pair(pair.moved_ct, pair.reference_ct)
