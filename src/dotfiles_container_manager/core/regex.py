"""Regular expressions compiled when first used, not when their module is imported.

Compiling a pattern costs 50-200 µs. The library's modules hold about forty of them, most for
calls a given script never makes (a failed exec, a podman build's output), and a cold script
paid ~3 ms compiling them all before its first CLI call (docs/performance.md, "cold
script"). A :class:`Regex` reads like the compiled pattern it stands for.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["Regex"]

# The methods of re.Pattern a Regex offers.
_METHODS = ("findall", "finditer", "fullmatch", "match", "search", "sub")


class Regex:
    """``re.compile(pattern, flags)``, done at the first match, search or substitution.

    The first use of any method compiles the pattern and stores the compiled pattern's own
    methods in this object's slots, so every later call goes straight to ``re``'s C code:
    listing 50 containers calls these 200 times, and a Python wrapper cost ~0.1 µs a call.
    """

    __slots__ = ("flags", "pattern", *_METHODS)

    pattern: str
    flags: int
    match: Callable[[str], re.Match[str] | None]
    fullmatch: Callable[[str], re.Match[str] | None]
    search: Callable[[str], re.Match[str] | None]
    finditer: Callable[[str], Iterator[re.Match[str]]]
    findall: Callable[[str], list[str]]
    sub: Callable[[str | Callable[[re.Match[str]], str], str], str]

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str) -> object:
        # Reached only while a method's slot is empty, that is before the first use.
        if name not in _METHODS:
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self.flags)
        for method in _METHODS:
            setattr(self, method, getattr(compiled, method))
        return getattr(compiled, name)

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (``re`` keeps it in its cache)."""
        return re.compile(self.pattern, self.flags)

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r}, {self.flags!r})"
