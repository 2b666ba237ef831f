"""The four names of :mod:`typing` the library uses at run time, without importing typing.

Importing :mod:`typing` (with :mod:`warnings` behind it) costs ~2.5 ms, paid by every cold
script before its first CLI call (docs/performance.md, "cold script"). Annotations never
need it (``from __future__ import annotations`` keeps them as text, and the modules import
annotation-only names under ``TYPE_CHECKING``), but a class statement and a decorator run:

- ``class ProcessStream(Generic[T])`` and ``class Runner(Protocol)``;
- ``T = TypeVar("T", str, bytes)``;
- ``@overload``.

Type checkers see the real :mod:`typing` names (the ``TYPE_CHECKING`` branch). At run time
the stand-ins are inert: such a class is a plain class that can still be subscripted
(``ProcessStream[str]`` is ``ProcessStream``), a type variable is its name, and
``@overload`` returns the function (the implementation defined last is the one kept, as
with typing's own).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Generic as Generic
    from typing import Protocol as Protocol
    from typing import TypeVar as TypeVar
    from typing import overload as overload
else:

    class Generic:
        """A base that can be subscripted: ``Generic[T]`` is this class, and so is
        ``Sub[X]`` for any subclass ``Sub``."""

        __slots__ = ()

        def __class_getitem__(cls, item):
            return cls

    Protocol = Generic

    def TypeVar(name, *constraints, **options):  # typing's name
        return name

    def overload(function):
        return function


__all__ = ["Generic", "Protocol", "TypeVar", "overload"]
