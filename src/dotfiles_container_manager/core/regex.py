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


class Regex:
    """``re.compile(pattern, flags)``, done at the first match, search or substitution."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        compiled = self._compiled
        if compiled is None:
            compiled = self._compiled = re.compile(self.pattern, self.flags)
        return compiled

    def match(self, string: str, pos: int = 0) -> re.Match[str] | None:
        """:meth:`re.Pattern.match`."""
        return self.compiled.match(string, pos)

    def fullmatch(self, string: str) -> re.Match[str] | None:
        """:meth:`re.Pattern.fullmatch`."""
        return self.compiled.fullmatch(string)

    def search(self, string: str) -> re.Match[str] | None:
        """:meth:`re.Pattern.search`."""
        return self.compiled.search(string)

    def finditer(self, string: str) -> Iterator[re.Match[str]]:
        """:meth:`re.Pattern.finditer`."""
        return self.compiled.finditer(string)

    def findall(self, string: str) -> list[str]:
        """:meth:`re.Pattern.findall`."""
        return self.compiled.findall(string)

    def sub(self, repl: str | Callable[[re.Match[str]], str], string: str) -> str:
        """:meth:`re.Pattern.sub`."""
        return self.compiled.sub(repl, string)

    def __repr__(self) -> str:
        return f"Regex({self.pattern!r}, {self.flags!r})"
