"""The engine interface: one runtime, its four managers, and its identity."""

from __future__ import annotations

from abc import ABC, abstractmethod

from . import endpoint
from .enums import ContainerRuntime
from .exceptions import ContainerError
from .types import EngineInfo, EngineOptions, PortMapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

    from .managers import ContainerManager, ImageManager, NetworkManager, VolumeManager

__all__ = ["ContainerEngine"]


class ContainerEngine(ABC):
    """A container runtime: ``engine.images``, ``.containers``, ``.volumes``, ``.networks``.

    Obtain one from :meth:`ContainerEngineFactory.create`. An engine is safe to share
    between threads: every call starts its own CLI process, and the little an engine keeps
    (the server's API version, learnt once) is written once and only read afterwards.

    An engine that the factory can make implements :meth:`from_options`; every engine
    implements :meth:`probe`, the one check the factory and :meth:`is_available` rely on.
    """

    #: Which runtime this engine drives.
    runtime: ClassVar[ContainerRuntime]
    #: The CLI this engine runs (as given: a name on PATH or a path); "" when it runs none.
    command: str = ""
    #: The engine's address: the one given (docker ``--host``, podman ``--url``), else the
    #: one the CLI's environment and default context chose, as the probe saw it. None for an
    #: engine that has no address (local podman) or was not probed yet.
    host: str | None = None
    #: The named context (docker ``--context``) or connection (podman ``--connection``): the
    #: one given, else the one in force when the probe ran (docker's is ``"default"`` unless
    #: another is selected). None when none is used.
    context: str | None = None

    @classmethod
    def from_options(cls, options: EngineOptions) -> ContainerEngine:
        """An engine for ``options``, not yet probed (the factory calls this)."""
        raise NotImplementedError(f"{cls.__name__} cannot be made by the factory")

    @property
    @abstractmethod
    def images(self) -> ImageManager:
        """Image operations."""

    @property
    @abstractmethod
    def containers(self) -> ContainerManager:
        """Container operations."""

    @property
    @abstractmethod
    def volumes(self) -> VolumeManager:
        """Volume operations."""

    @property
    @abstractmethod
    def networks(self) -> NetworkManager:
        """Network operations."""

    @abstractmethod
    def probe(self) -> ContainerRuntime:
        """Check that the engine answers and say which runtime answered.

        A ``docker`` command can be podman (the podman-docker shim), so the answer may differ
        from :attr:`runtime`.

        Raises:
            RuntimeNotAvailableError: The CLI is missing, or its daemon/service does not
                answer or reports no server.
        """

    def is_available(self) -> bool:
        """True when :meth:`probe` succeeds. Never raises."""
        try:
            self.probe()
        except ContainerError:
            return False
        return True

    @property
    def is_remote(self) -> bool:
        """True when the engine is reached over the network (``ssh://``, ``tcp://``): bind
        mount sources are paths on that host, and published ports bind there."""
        return endpoint.is_remote(self.host)

    @property
    def host_address(self) -> str:
        """The address at which this engine's published ports are reached from here: the
        engine's host for ``ssh://`` and ``tcp://`` engines, ``127.0.0.1`` for local ones."""
        return endpoint.host_address(self.host)

    def address_for(self, port: PortMapping) -> str:
        """The address to connect to for ``port``, a mapping the engine published (as
        ``inspect`` reports it): its own ``host_ip`` when that names one interface, else
        :attr:`host_address`. A remote engine's loopback is not this machine's: a port it
        published on ``127.0.0.1`` also gives :attr:`host_address`, where it is reachable
        only if the remote host forwards it (an ssh tunnel, say)."""
        if port.host_ip:
            import ipaddress

            ip = ipaddress.ip_address(port.host_ip)
            if not ip.is_unspecified and not (ip.is_loopback and self.is_remote):
                return port.host_ip
        return self.host_address

    @abstractmethod
    def version(self) -> str:
        """The server/engine version (e.g. ``"20.10.24+dfsg1"``, ``"4.3.1"``)."""

    @abstractmethod
    def info(self) -> EngineInfo:
        """Facts about the runtime (version, storage driver, cgroups, rootless...)."""

    def __repr__(self) -> str:
        where = f", host={self.host!r}" if self.host else ""
        where += f", context={self.context!r}" if self.context else ""
        return f"{type(self).__name__}(command={self.command!r}{where})"
