"""Public names of a package loaded on first use (PEP 562).

Packages whose modules pull in heavy libraries (scipy, pandas, matplotlib, statsmodels) hand their
public names on through :func:`lazy_exports`, so ``immunopet --help`` and the commands' start-up
stay fast.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping
from typing import Any


class _LazyPackage(types.ModuleType):
    """A package whose public name equal to a submodule's name stays the public object.

    When ``package.discover`` (the module) is imported, the import system binds it as the
    package's attribute ``discover``; here the module's own ``discover`` is bound instead.
    """

    _shadowed: frozenset[str] = frozenset()

    def __setattr__(self, name: str, value: Any) -> None:
        if (name in self._shadowed and isinstance(value, types.ModuleType)
                and value.__name__ == f"{self.__name__}.{name}"):
            value = getattr(value, name, value)
        super().__setattr__(name, value)


def lazy_exports(
    package: str, modules: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``.

    ``modules`` maps a submodule name to the space-separated public names it defines; a name is
    imported from ``package.module`` when first used and then cached in the package ``namespace``.
    Use in a package's ``__init__.py``::

        __getattr__, __dir__, __all__ = lazy_exports(__name__, {"pet": "PetScan load_pet"}, globals())

    A name equal to its module's name (``discover`` in ``discover.py``) stays the function when the
    submodule is imported (the package's class becomes :class:`_LazyPackage`); nothing is imported
    before first use, so ``immunopet --help`` does not pay for pydicom or scipy.
    """
    homes = {name: module for module, names in modules.items() for name in names.split()}
    module_object = sys.modules.get(package)
    if module_object is not None and type(module_object) is types.ModuleType:
        module_object.__class__ = _LazyPackage
        object.__setattr__(module_object, "_shadowed", frozenset(n for n, h in homes.items() if n == h))

    def __getattr__(name: str) -> Any:
        if name in homes:
            value = getattr(importlib.import_module(f"{package}.{homes[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(homes))

    return __getattr__, __dir__, sorted(homes)
