"""The network manager interface.

Public methods check their arguments, then call one abstract hook with the checked values
(see :mod:`.container` for why the checks live here).
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress

from .. import validation as v
from ..exceptions import NetworkNotFoundError
from ..types import Filters, NetworkInfo

__all__ = ["NetworkManager"]


class NetworkManager(ABC):
    """Networks: create, connect containers, inspect, list, remove, prune."""

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
        return self._create(
            v.check_name("name", name),
            None if driver is None else v.check_reference("driver", driver),
            v.check_labels("labels", labels or {}),
            None if subnet is None else v.check_reference("subnet", subnet),
            bool(internal),
        )

    def remove(self, network: str) -> None:
        """Remove a network. :class:`NetworkConflictError` while containers are attached."""
        self._remove(v.check_reference("network", network))

    def exists(self, network: str) -> bool:
        """True when the network exists."""
        return self._exists(v.check_reference("network", network))

    def inspect(self, network: str) -> NetworkInfo:
        """The network's record; :class:`NetworkNotFoundError` when missing."""
        return self._inspect(v.check_reference("network", network))

    def list(self, *, filters: Filters | None = None) -> builtins.list[NetworkInfo]:
        """Networks, from one CLI call."""
        return self._list(v.check_filters("filters", filters))

    def connect(self, network: str, container: str, *, aliases: Sequence[str] = ()) -> None:
        """Attach ``container`` to ``network``."""
        self._connect(
            v.check_reference("network", network),
            v.check_reference("container", container),
            tuple(v.check_reference("aliases", a) for a in v.check_args("aliases", aliases)),
        )

    def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        """Detach ``container`` from ``network``."""
        self._disconnect(
            v.check_reference("network", network),
            v.check_reference("container", container),
            bool(force),
        )

    def prune(self, *, filters: Filters | None = None) -> builtins.list[str]:
        """Remove unused networks (matching ``filters``); return their names."""
        return self._prune(v.check_filters("filters", filters))

    @contextmanager
    def temporary(
        self,
        name: str,
        *,
        driver: str | None = None,
        labels: Mapping[str, str] | None = None,
        subnet: str | None = None,
        internal: bool = False,
    ) -> Iterator[str]:
        """A network for the length of a ``with`` block, removed even when the block raises
        (one the block removed itself is not an error). Yields the id."""
        network = self.create(name, driver=driver, labels=labels, subnet=subnet, internal=internal)
        try:
            yield network
        finally:
            with suppress(NetworkNotFoundError):
                self.remove(network)

    # ------------------------------------------------------------------ hooks

    @abstractmethod
    def _create(
        self,
        name: str,
        driver: str | None,
        labels: dict[str, str],
        subnet: str | None,
        internal: bool,
    ) -> str: ...

    @abstractmethod
    def _remove(self, network: str) -> None: ...

    @abstractmethod
    def _exists(self, network: str) -> bool: ...

    @abstractmethod
    def _inspect(self, network: str) -> NetworkInfo: ...

    @abstractmethod
    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[NetworkInfo]: ...

    @abstractmethod
    def _connect(self, network: str, container: str, aliases: tuple[str, ...]) -> None: ...

    @abstractmethod
    def _disconnect(self, network: str, container: str, force: bool) -> None: ...

    @abstractmethod
    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]: ...
