"""The volume manager interface.

Public methods check their arguments, then call one abstract hook with the checked values
(see :mod:`.container` for why the checks live here).
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from .. import validation as v
from ..types import Filters, VolumeInfo

__all__ = ["VolumeManager"]


class VolumeManager(ABC):
    """Named volumes: create, inspect, list, remove, prune."""

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
        return self._create(
            None if name is None else v.check_name("name", name),
            None if driver is None else v.check_reference("driver", driver),
            v.check_labels("labels", labels or {}),
            v.check_labels("options", options or {}),
            bool(exist_ok),
        )

    def remove(self, name: str, force: bool = False) -> None:
        """Remove a volume. :class:`VolumeConflictError` when a container uses it; with
        ``force`` a missing volume is not an error."""
        self._remove(v.check_reference("name", name), bool(force))

    def exists(self, name: str) -> bool:
        """True when the volume exists."""
        return self._exists(v.check_reference("name", name))

    def inspect(self, name: str) -> VolumeInfo:
        """The volume's record; :class:`VolumeNotFoundError` when missing."""
        return self._inspect(v.check_reference("name", name))

    def list(self, *, filters: Filters | None = None) -> builtins.list[VolumeInfo]:
        """Volumes, from one CLI call."""
        return self._list(v.check_filters("filters", filters))

    def prune(self, *, filters: Filters | None = None) -> builtins.list[str]:
        """Remove unused volumes (matching ``filters``); return their names."""
        return self._prune(v.check_filters("filters", filters))

    @contextmanager
    def temporary(
        self,
        name: str | None = None,
        *,
        driver: str | None = None,
        labels: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
    ) -> Iterator[str]:
        """A volume for the length of a ``with`` block, removed even when the block raises."""
        volume = self.create(name, driver=driver, labels=labels, options=options)
        try:
            yield volume
        finally:
            self.remove(volume, force=True)

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def _create(
        self,
        name: str | None,
        driver: str | None,
        labels: dict[str, str],
        options: dict[str, str],
        exist_ok: bool,
    ) -> str: ...

    @abstractmethod
    def _remove(self, name: str, force: bool) -> None: ...

    @abstractmethod
    def _exists(self, name: str) -> bool: ...

    @abstractmethod
    def _inspect(self, name: str) -> VolumeInfo: ...

    @abstractmethod
    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[VolumeInfo]: ...

    @abstractmethod
    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]: ...
