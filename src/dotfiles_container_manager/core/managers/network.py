"""The network manager interface."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress

from ..exceptions import NetworkNotFoundError
from ..types import NetworkInfo

__all__ = ["NetworkManager"]


class NetworkManager(ABC):
    """Networks: create, connect containers, inspect, list, remove, prune."""

    @abstractmethod
    def create(
        self,
        name: str,
        *,
        driver: str | None = None,
        labels: Mapping[str, str] | None = None,
        subnet: str | None = None,
        internal: bool = False,
    ) -> str:
        """Create a network; return its full id. An existing name raises
        :class:`NetworkConflictError`."""

    @abstractmethod
    def remove(self, network: str) -> None:
        """Remove a network. :class:`NetworkConflictError` while containers are attached."""

    @abstractmethod
    def exists(self, network: str) -> bool:
        """True when the network exists."""

    @abstractmethod
    def inspect(self, network: str) -> NetworkInfo:
        """The network's record; :class:`NetworkNotFoundError` when missing."""

    @abstractmethod
    def list(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[NetworkInfo]:
        """Networks, from one CLI call."""

    @abstractmethod
    def connect(self, network: str, container: str, *, aliases: Sequence[str] = ()) -> None:
        """Attach ``container`` to ``network``."""

    @abstractmethod
    def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        """Detach ``container`` from ``network``."""

    @abstractmethod
    def prune(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[str]:
        """Remove unused networks (matching ``filters``); return their names."""

    @contextmanager
    def temporary(self, name: str, **kwargs: object) -> Iterator[str]:
        """A network for the length of a ``with`` block, removed even when the block raises
        (one the block removed itself is not an error)."""
        network = self.create(name, **kwargs)  # type: ignore[arg-type]
        try:
            yield network
        finally:
            with suppress(NetworkNotFoundError):
                self.remove(network)
