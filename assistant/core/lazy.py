"""Start-up laziness, written once, at package boundaries.

A package lists what it exports and the module each name lives in; importing
the package costs nothing, and a module is imported when one of its names is
first read (PEP 562). Code in another package imports the package and reads
the name where it is used (`store.LedgerError`), so the first frame does not
wait for a database or a plugin registry it does not need yet; code inside a
package imports its siblings at the top, as usual.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(namespace: dict[str, Any], names: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for the package whose globals are `namespace`:
    `names` maps each exported name to its module, relative to the package (a
    module exported under its own name is the module itself)."""
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:  # noqa: ANN401 - whatever the module holds
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        loaded = importlib.import_module(f"{package}.{module}")
        value = loaded if module == name else getattr(loaded, name)
        namespace[name] = value  # read once: the next access is a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *names})

    return __getattr__, __dir__
