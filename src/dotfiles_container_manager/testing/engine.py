"""FakeEngine: a ContainerEngine in memory that starts no process."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from typing import ClassVar

from ..core.base import ContainerEngine
from ..core.enums import ContainerRuntime
from ..core.exceptions import InvalidConfigError
from ..core.types import EngineInfo
from ..implementations.cli.parsing import normalize_reference
from ._model import Call
from ._store import DOCKER_VERSION, PODMAN_VERSION, Store
from .containers import FakeContainerManager
from .images import FakeImageManager
from .networks import FakeNetworkManager, predefined
from .script import Script
from .volumes import FakeVolumeManager

__all__ = ["FakeEngine"]

_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def _runtime(value: object) -> ContainerRuntime:
    try:
        return ContainerRuntime(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise InvalidConfigError("runtime", value, "must be docker or podman") from None


class FakeEngine(ContainerEngine):
    """A :class:`ContainerEngine` whose four managers keep everything in memory.

    It follows the contract of the real engines: the same states, records, validation and
    exception types for the same calls, as docker (``runtime=ContainerRuntime.DOCKER``) or
    podman show them through this library. No process is ever started; one lock per engine
    makes it safe to share between threads.

    Args:
        runtime: The runtime to behave as (a :class:`ContainerRuntime` or its name).
        images: References of the images present from the start (busybox-like: ``PATH``
            set, ``CMD ["/bin/sh"]``). A build ``FROM`` any other image fails, as offline.
        registry: References a ``pull`` (and ``run``/``build`` with ``pull``) can fetch.
            ``push`` adds to it. Nothing else can be pulled.

    ``engine.script`` decides what processes do (:class:`~.script.Script`);
    ``engine.calls`` lists every public call received, in order.
    """

    runtime: ClassVar[ContainerRuntime] = ContainerRuntime.DOCKER
    command = ""

    def __new__(
        cls,
        runtime: ContainerRuntime | str = ContainerRuntime.DOCKER,
        images: Iterable[str] = (),
        *,
        registry: Iterable[str] = (),
    ) -> FakeEngine:
        podman = _runtime(runtime) is ContainerRuntime.PODMAN
        kind = cls if cls is not FakeEngine else FakePodmanEngine if podman else FakeEngine
        return super().__new__(kind)

    def __init__(
        self,
        runtime: ContainerRuntime | str = ContainerRuntime.DOCKER,
        images: Iterable[str] = (),
        *,
        registry: Iterable[str] = (),
    ) -> None:
        if isinstance(images, str) or isinstance(registry, str):
            raise InvalidConfigError("images", images, "must be a list of references")
        self._store = store = Store(self.runtime)  # as __new__ chose the class
        predefined(store)
        for reference in images:
            store.seed(reference)
        for reference in registry:
            store.registry[normalize_reference(reference)] = None
        self._images = FakeImageManager(store)
        self._containers = FakeContainerManager(store)
        self._volumes = FakeVolumeManager(store)
        self._networks = FakeNetworkManager(store)
        #: Scripts what the containers' processes do.
        self.script = Script(store, self._containers)

    @property
    def images(self) -> FakeImageManager:
        """Image operations."""
        return self._images

    @property
    def containers(self) -> FakeContainerManager:
        """Container operations."""
        return self._containers

    @property
    def volumes(self) -> FakeVolumeManager:
        """Volume operations."""
        return self._volumes

    @property
    def networks(self) -> FakeNetworkManager:
        """Network operations."""
        return self._networks

    @property
    def calls(self) -> list[Call]:
        """Every public call received so far, oldest first (a copy)."""
        with self._store.lock:
            return list(self._store.calls)

    def clear_calls(self) -> None:
        """Forget the calls recorded so far."""
        with self._store.lock:
            self._store.calls.clear()

    def probe(self) -> ContainerRuntime:
        """The runtime it behaves as: a fake engine always answers."""
        with self._store.lock:
            self._store.record("engine", "probe", {})
        return self.runtime

    def version(self) -> str:
        """The version of the runtime it behaves as (docker 20.10.24, podman 4.3.1)."""
        with self._store.lock:
            self._store.record("engine", "version", {})
        return PODMAN_VERSION if self._store.podman else DOCKER_VERSION

    def info(self) -> EngineInfo:
        """Facts about the runtime it behaves as (storage driver ``"memory"``)."""
        with self._store.lock:
            self._store.record("engine", "info", {})
        podman = self._store.podman
        machine = platform.machine()
        return EngineInfo(
            runtime=self.runtime.value,
            version=PODMAN_VERSION if podman else DOCKER_VERSION,
            api_version=PODMAN_VERSION if podman else "",
            os="linux",
            arch=_GOARCH.get(machine, machine),
            storage_driver="memory",
            cgroup_version="2",
            rootless=False,
            raw={"fake": True},
        )

    def __repr__(self) -> str:
        return f"FakeEngine(runtime={self.runtime.value!r})"


class FakePodmanEngine(FakeEngine):
    """:class:`FakeEngine` behaving as podman: what ``FakeEngine(runtime="podman")`` makes
    (``FakePodmanEngine()`` is the same)."""

    runtime: ClassVar[ContainerRuntime] = ContainerRuntime.PODMAN
