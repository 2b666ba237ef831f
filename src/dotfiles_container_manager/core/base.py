"""The engine interface: one runtime, its four managers, and its identity."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from .enums import ContainerRuntime
from .exceptions import ContainerError
from .managers import ContainerManager, ImageManager, NetworkManager, VolumeManager
from .types import EngineInfo, EngineOptions

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
    #: The engine's address when one was given (docker ``--host``, podman ``--url``), else
    #: None: the CLI's own environment and default context decide.
    host: str | None = None
    #: The named context (docker ``--context``) or connection (podman ``--connection``).
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
