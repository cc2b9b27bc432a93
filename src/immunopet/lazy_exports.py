"""Public names of a package loaded on first use (PEP 562).

Packages whose modules pull in heavy libraries (scipy, pandas, matplotlib, statsmodels) hand their
public names on through :func:`lazy_exports`, so ``immunopet --help`` and the commands' start-up
stay fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    package: str, modules: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    ``modules`` maps a submodule name to the space-separated public names it defines; a name is
    imported from ``package.module`` when first used and then cached in the package ``namespace``.
    Use in a package's ``__init__.py``::

        __getattr__, __dir__, __all__ = lazy_exports(__name__, {"pet": "PetScan load_pet"}, globals())

    A name equal to its module's name (``discover`` in ``discover.py``) is bound at once: importing
    the submodule would otherwise set the package attribute to the module, hiding the function.
    """
    homes = {name: module for module, names in modules.items() for name in names.split()}
    for name, home in homes.items():
        if name == home:
            namespace[name] = getattr(importlib.import_module(f"{package}.{home}"), name)

    def __getattr__(name: str) -> Any:
        if name in homes:
            value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__, sorted(homes)
