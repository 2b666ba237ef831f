"""Package exports loaded on first use (PEP 562).

A package's ``__init__`` that imported every module it exports would load the whole
package for a script that needs one class of it: ``from ...docker import DockerEngine``
would load the image, volume and network managers, and a cold script would pay for them
(docs/performance.md, "cold script"). With :func:`lazy_exports` each name is imported when it
is first looked up, then kept in the package's namespace.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, namespace: dict[str, Any], exports: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package`` (its ``globals()`` is ``namespace``)
    for ``exports``: name -> module that defines it, relative to the package (``".engine"``).

    Use it as ``__getattr__, __dir__ = lazy_exports(__name__, globals(), {...})``, with the
    same names imported under ``TYPE_CHECKING`` for type checkers.
    """

    def __getattr__(name: str) -> Any:  # the module hook's own name
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # __import__ is a builtin: no importlib to load for the first lookup.
        value = getattr(__import__(package + module, fromlist=[name]), name)
        namespace[name] = value  # later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__
