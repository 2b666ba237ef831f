"""The fake engine's records of calls and scripts, and its in-memory resources.

Resources (:class:`Container`, :class:`Image`, :class:`Volume`, :class:`Network`) are plain
mutable objects with ``__slots__``, changed only under the engine's lock. Each caches the
record (``ContainerInfo``...) it last produced; a change clears the cache, so listing 1,000
unchanged containers builds no record at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from ..core.enums import ContainerState
from ..core.types import ContainerInfo, ExecResult, ImageInfo, NetworkInfo, PortMapping, RunConfig

__all__ = [
    "Call",
    "Container",
    "ExecCall",
    "ExecHandler",
    "ExecRule",
    "Image",
    "Main",
    "Network",
    "RunRule",
    "Volume",
]


class Call(NamedTuple):
    """One public call the fake engine received (``engine.calls``).

    ``manager`` is ``"images"``, ``"containers"``, ``"volumes"``, ``"networks"`` or
    ``"engine"``; ``method`` the public method's name (``"run"``, ``"exec"``...); ``args`` its
    arguments by parameter name, as the engine received them after the checks (a
    ``RunConfig``, an id or a name as given, a filters mapping of tuples...). A named tuple:
    cheap to make, since every call makes one.
    """

    manager: str
    method: str
    args: Mapping[str, Any]


@dataclass(frozen=True)
class ExecCall:
    """What a scripted ``exec`` handler receives: the command and where it runs.

    ``environment`` is what the command would see: the image's ``ENV``, the container's
    environment, then the exec's own.
    """

    container_id: str
    container_name: str
    image: str
    command: tuple[str, ...]
    environment: Mapping[str, str]
    working_dir: str
    user: str
    input: bytes | None


#: A scripted exec result computed from the call.
ExecHandler = Callable[[ExecCall], ExecResult]


@dataclass(frozen=True)
class Main:
    """What a container's main process does when it starts (see ``Script.run``).

    ``exit_code`` None: it runs until stopped or killed. ``exit_on="start"``: it writes its
    output and exits at once; ``"wait"``: it runs until someone waits for it, then exits.
    ``sigterm_exit_code`` None: it ignores SIGTERM (a PID 1 without a handler), so ``stop``
    kills it after the timeout: 137. ``sleep`` is set for the ``sleep N`` builtin: a wait of
    at least N seconds sees it exit 0.
    """

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    exit_on: Literal["start", "wait"] = "start"
    sigterm_exit_code: int | None = None
    sleep: float | None = None


#: The default: a service that runs until it is stopped.
SERVICE = Main()


@dataclass(frozen=True)
class ExecRule:
    """``Script.exec``: for containers matching ``target``, commands starting ``prefix``."""

    target: str | None
    prefix: tuple[str, ...]
    result: ExecResult | ExecHandler


@dataclass(frozen=True)
class RunRule:
    """``Script.run``: for containers matching ``target`` whose command starts ``prefix``."""

    target: str | None
    prefix: tuple[str, ...]
    main: Main


class Image:
    """A local image: its config (docker's ``Config`` shape), tags and lineage."""

    __slots__ = (
        "cmd",
        "config",
        "created",
        "entrypoint",
        "env",
        "id",
        "info",
        "labels",
        "parent",
        "size",
        "tags",
        "user",
        "users",
        "volumes",
        "working_dir",
    )

    def __init__(
        self,
        image_id: str,
        config: dict[str, Any],
        *,
        created: datetime,
        parent: str | None = None,
        size: int = 0,
    ) -> None:
        self.id = image_id
        self.config = config  # never changed once made: what containers start from
        self.labels: dict[str, str] = dict(config.get("Labels") or {})
        self.env: dict[str, str] = {}
        for item in config.get("Env") or ():
            key, _, value = str(item).partition("=")
            self.env[key] = value
        self.entrypoint: tuple[str, ...] = tuple(config.get("Entrypoint") or ())
        self.cmd: tuple[str, ...] = tuple(config.get("Cmd") or ())
        self.working_dir: str = config.get("WorkingDir") or ""
        self.user: str = config.get("User") or ""
        self.volumes: tuple[str, ...] = tuple(config.get("Volumes") or ())
        self.created = created
        self.parent = parent
        self.size = size
        self.tags: list[str] = []  # normalised references, in the order given
        self.users: set[str] = set()  # ids of the containers made from it
        self.info: ImageInfo | None = None


class Volume:
    """A volume: named, or anonymous (64 hex, made for an image's ``VOLUME``)."""

    __slots__ = ("created", "driver", "labels", "mountpoint", "name", "options", "users")

    def __init__(
        self,
        name: str,
        *,
        driver: str,
        labels: dict[str, str],
        options: dict[str, str],
        created: datetime,
        mountpoint: str,
    ) -> None:
        self.name = name
        self.driver = driver
        self.labels = labels
        self.options = options
        self.created = created
        self.mountpoint = mountpoint
        self.users: set[str] = set()


class Network:
    """A network and the containers attached to it."""

    __slots__ = (
        "builtin",
        "created",
        "driver",
        "hosts",
        "id",
        "info",
        "internal",
        "labels",
        "members",
        "name",
        "subnet",
    )

    def __init__(
        self,
        network_id: str,
        name: str,
        *,
        driver: str,
        labels: dict[str, str],
        subnet: str,
        internal: bool,
        created: datetime,
        builtin: bool = False,
    ) -> None:
        self.id = network_id
        self.name = name
        self.driver = driver
        self.labels = labels
        self.subnet = subnet
        self.internal = internal
        self.created = created
        self.builtin = builtin
        self.members: dict[str, int] = {}  # container id -> host number in the subnet
        self.hosts = 1  # the last host number given (1 is the gateway)
        self.info: NetworkInfo | None = None


class Container:
    """A container and its main process, as far as the fake knows it."""

    __slots__ = (
        "aliases",
        "anonymous",
        "argv",
        "bound",
        "cmd",
        "config",
        "created",
        "entrypoint",
        "env",
        "exit_code",
        "finished",
        "hostname",
        "id",
        "image",
        "image_id",
        "info",
        "labels",
        "list_info",
        "logs",
        "main",
        "missing_network",
        "mounts",
        "name",
        "networks",
        "seq",
        "started",
        "state",
        "user",
        "working_dir",
    )

    def __init__(
        self,
        container_id: str,
        name: str,
        config: RunConfig,
        *,
        image: str,
        image_id: str,
        entrypoint: tuple[str, ...],
        cmd: tuple[str, ...],
        env: dict[str, str],
        labels: dict[str, str],
        working_dir: str,
        user: str,
        created: datetime,
        seq: int,
    ) -> None:
        self.id = container_id
        self.name = name
        self.config = config
        self.image = image  # the reference as given, normalised (ContainerInfo.image)
        self.image_id = image_id
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.argv = entrypoint + cmd
        self.seq = seq
        self.env = env
        self.labels = labels
        self.working_dir = working_dir
        self.user = user
        self.hostname = config.hostname or container_id[:12]
        self.created = created
        self.state = ContainerState.CREATED
        self.exit_code: int | None = None
        self.started: datetime | None = None
        self.finished: datetime | None = None
        self.main = SERVICE
        # network name -> Network; a docker container may name a network that does not
        # exist yet (its start fails): that name is kept in missing_network.
        self.networks: dict[str, Network] = {}
        self.aliases: dict[str, tuple[str, ...]] = {}  # network name -> its aliases
        self.missing_network: str | None = None
        self.mounts: list[tuple[str, str, str, bool]] = []  # (type, source, target, ro)
        self.anonymous: list[str] = []  # anonymous volumes made for it
        self.bound: tuple[PortMapping, ...] = ()  # published ports with host ports
        self.logs: list[tuple[int, int, bytes]] = []  # (time ns, 1 stdout | 2 stderr, data)
        self.info: ContainerInfo | None = None
        self.list_info: ContainerInfo | None = None
