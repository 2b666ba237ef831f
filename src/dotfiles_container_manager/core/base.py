"""The engine interface: one runtime, its four managers, and its identity."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from .enums import ContainerRuntime
from .managers import ContainerManager, ImageManager, NetworkManager, VolumeManager
from .types import EngineInfo

__all__ = ["ContainerEngine"]


class ContainerEngine(ABC):
    """A container runtime: ``engine.images``, ``.containers``, ``.volumes``, ``.networks``.

    Obtain one from :meth:`ContainerEngineFactory.create`. An engine is safe to share
    between threads: each call starts its own CLI process and keeps no mutable state.
    """

    #: Which runtime this engine drives.
    runtime: ClassVar[ContainerRuntime]

    def __init__(self, command: str) -> None:
        #: The CLI executable this engine runs (as given: a name on PATH or a path).
        self.command = command

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
    def is_available(self) -> bool:
        """True when the CLI runs and its daemon/service answers. Never raises."""

    @abstractmethod
    def version(self) -> str:
        """The server/engine version (e.g. ``"20.10.24+dfsg1"``, ``"4.3.1"``)."""

    @abstractmethod
    def info(self) -> EngineInfo:
        """Facts about the runtime (version, storage driver, cgroups, rootless...)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(command={self.command!r})"
