"""Package attributes imported on first use (PEP 562), so importing a package stays cheap.

`rnnkit`, `rnnkit.data` and `rnnkit.workflow` re-export names from their
submodules. Importing those eagerly pulled torch, scikit-learn and pandas into
every ``rnnkit`` command before it had looked at its arguments (about 8 s on a
loaded 2-core machine); with :func:`lazy_exports` a package's ``__init__`` costs
nothing until a name is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from collections.abc import Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str]
) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` that import each name from its module.

    Args:
        package: The package's ``__name__``.
        exports: Public name -> the module it comes from. A name that maps to
            ``package.name`` itself is a submodule, imported whole.

    Returns:
        ``(__getattr__, __dir__)`` to assign at the package's top level. A name
        is imported once, then cached in the package's namespace.

    Example:
        >>> getattr_, dir_ = lazy_exports("json", {"JSONDecoder": "json.decoder"})
        >>> getattr_("JSONDecoder").__name__, "JSONDecoder" in dir_()
        ('JSONDecoder', True)
    """
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> object:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if module == f"{package}.{name}":
            value = importlib.import_module(module)
        else:
            value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
