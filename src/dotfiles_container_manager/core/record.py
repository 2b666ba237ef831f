"""Frozen value classes without the import-time cost of :mod:`dataclasses`.

``@dataclass`` writes each class's ``__init__``/``__eq__``/``__hash__``/``__repr__`` as source
and compiles it when the module is imported: about 12 ms for the records and configurations
of :mod:`.types`, plus 7 ms to import ``dataclasses`` (and ``inspect`` behind it), paid by
every script before its first CLI call. A :class:`Record` writes its ``__init__`` by hand
(cached in the ``.pyc`` like any code) and takes the rest from here, driven by three tuples
of field names:

- ``_fields``: every field, in the order of ``__init__``'s parameters;
- ``_no_compare``: fields left out of ``==`` and ``hash()`` (``field(compare=False)``);
- ``_no_repr``: fields left out of ``repr()`` (``field(repr=False)``).

Instances behave as ``@dataclass(frozen=True)`` ones do: equal when of the same class with
equal compared fields, hashed on those, assignment raises
:class:`dataclasses.FrozenInstanceError`; the fields are in ``__dict__`` (``vars()``), so
pickling and copying keep the values without running ``__init__`` again.
:func:`replace` stands for :func:`dataclasses.replace` (and hands anything else to it).
"""

from __future__ import annotations

# Not `from typing import ...`: typing costs more to import than this whole module.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar, TypeVar

    _T = TypeVar("_T")

__all__ = ["Record", "replace"]


class Record:
    """Base of the frozen records and configurations (see the module's docstring)."""

    #: Every field, in ``__init__`` order.
    _fields: ClassVar[tuple[str, ...]] = ()
    #: Fields neither compared nor hashed / not shown by ``repr()``.
    _no_compare: ClassVar[tuple[str, ...]] = ()
    _no_repr: ClassVar[tuple[str, ...]] = ()
    #: Derived from the three above.
    _compared: ClassVar[tuple[str, ...]] = ()
    _shown: ClassVar[tuple[str, ...]] = ()
    __match_args__: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._compared = tuple(n for n in cls._fields if n not in cls._no_compare)
        cls._shown = tuple(n for n in cls._fields if n not in cls._no_repr)
        cls.__match_args__ = cls._fields  # type: ignore[misc]  # as @dataclass sets it

    def _init(self, *values: object) -> None:
        """Set every field, in ``_fields`` order (for ``__init__``)."""
        self.__dict__.update(zip(self._fields, values, strict=True))

    def _key(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self._compared])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({shown})"

    def __setattr__(self, name: str, value: object) -> None:
        from dataclasses import FrozenInstanceError  # only a mistake pays for the import

        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        from dataclasses import FrozenInstanceError

        raise FrozenInstanceError(f"cannot delete field {name!r}")


def replace(obj: _T, /, **changes: Any) -> _T:
    """A copy of ``obj`` with ``changes``, built (and so validated) again: what
    :func:`dataclasses.replace` does, for records and dataclasses alike."""
    if not isinstance(obj, Record):
        from dataclasses import replace as replace_dataclass

        return replace_dataclass(obj, **changes)  # type: ignore[type-var]
    for name in obj._fields:
        if name not in changes:
            changes[name] = getattr(obj, name)
    new: _T = obj.__class__(**changes)
    return new
