"""The volume manager interface."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from ..types import VolumeInfo

__all__ = ["VolumeManager"]


class VolumeManager(ABC):
    """Named volumes: create, inspect, list, remove, prune."""

    @abstractmethod
    def create(
        self,
        name: str | None = None,
        *,
        driver: str | None = None,
        labels: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> str:
        """Create a volume (a generated name when ``name`` is None); return its name.

        A name that already exists raises :class:`VolumeConflictError` on every runtime,
        unless ``exist_ok`` (then the existing volume is kept as it is).
        """

    @abstractmethod
    def remove(self, name: str, force: bool = False) -> None:
        """Remove a volume. :class:`VolumeConflictError` when a container uses it."""

    @abstractmethod
    def exists(self, name: str) -> bool:
        """True when the volume exists."""

    @abstractmethod
    def inspect(self, name: str) -> VolumeInfo:
        """The volume's record; :class:`VolumeNotFoundError` when missing."""

    @abstractmethod
    def list(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[VolumeInfo]:
        """Volumes, from one CLI call."""

    @abstractmethod
    def prune(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[str]:
        """Remove unused volumes (matching ``filters``); return their names."""

    @contextmanager
    def temporary(self, name: str | None = None, **kwargs: object) -> Iterator[str]:
        """A volume for the length of a ``with`` block, removed even when the block raises."""
        volume = self.create(name, **kwargs)  # type: ignore[arg-type]
        try:
            yield volume
        finally:
            self.remove(volume, force=True)
