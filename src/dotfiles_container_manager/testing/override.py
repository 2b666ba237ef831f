"""``use_engine``: make ``ContainerEngineFactory.create()`` return a given engine for a while."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from .. import factory
from ..core.base import ContainerEngine

__all__ = ["use_engine"]

E = TypeVar("E", bound=ContainerEngine)
_lock = threading.Lock()


@contextmanager
def use_engine(engine: E) -> Iterator[E]:
    """Within the ``with`` block, every ``ContainerEngineFactory.create()`` call (whatever its
    arguments; a bad runtime name or timeout is still refused) returns ``engine``, and so do
    ``detect()``, ``is_available()`` and ``available_runtimes()`` through it.

    Code that creates its own engine can so be tested against a :class:`FakeEngine` without
    patching anything. Blocks nest (the innermost engine wins) and the previous state comes
    back when the block ends, also when it raises. The override is process-wide: every thread
    sees it.
    """
    if not isinstance(engine, ContainerEngine):
        raise TypeError(f"use_engine() needs a ContainerEngine, not {type(engine).__name__}")
    with _lock:
        factory._overrides.append(engine)
    try:
        yield engine
    finally:
        with _lock:
            stack = factory._overrides
            for index in range(len(stack) - 1, -1, -1):
                if stack[index] is engine:
                    del stack[index]
                    break
