"""Configuration objects (validated when built) and the records the managers return.

Configuration objects (:class:`BuildContext`, :class:`RunConfig`, :class:`VolumeMount`,
:class:`PortMapping`) are frozen dataclasses that check every field in ``__post_init__``:
a bad value raises :class:`~.exceptions.InvalidConfigError` before any process starts.
Mappings are copied into plain dicts and sequences into tuples, so changing the caller's
objects afterwards changes nothing here.

Records (:class:`ImageInfo`, :class:`ContainerInfo`, :class:`VolumeInfo`,
:class:`NetworkInfo`, :class:`ExecResult`) are normalised the same way on docker and
podman: ids (``sha256:`` prefixed for images), names (no leading ``/``), references (no
``localhost/``), labels as dicts, states, ports, whole-second UTC datetimes. Values each
runtime computes itself (image sizes and digests, labels a builder adds such as podman's
``io.buildah.version``) are reported as the runtime gives them. The runtime's own JSON is
kept in ``raw`` (not compared).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from . import validation as v
from .enums import ContainerState, PullPolicy, RestartPolicy
from .exceptions import InvalidConfigError

__all__ = [
    "HEALTH_STATES",
    "BuildContext",
    "ContainerInfo",
    "EngineInfo",
    "EngineOptions",
    "ExecResult",
    "Filters",
    "HealthCheck",
    "HealthState",
    "ImageInfo",
    "LogLine",
    "NetworkInfo",
    "PortMapping",
    "ProgressEvent",
    "RunConfig",
    "VolumeInfo",
    "VolumeMount",
]

#: Default cap on the size of a build context's files (see ``BuildContext.max_size``).
DEFAULT_MAX_CONTEXT_BYTES = 2 * 1024**3
_PROTOCOLS = ("tcp", "udp", "sctp")
#: The health states :attr:`ContainerInfo.health` takes (None: no health check).
HealthState = Literal["starting", "healthy", "unhealthy"]
HEALTH_STATES: tuple[HealthState, ...] = ("starting", "healthy", "unhealthy")
# The runtimes refuse health-check durations under a millisecond (and parse them as Go
# durations, so they are written with at most millisecond precision).
_HEALTH_MIN = 0.001

#: ``filters=`` of the list and prune calls (see :func:`.validation.check_filters`).
Filters = v.Filters


def _set(obj: object, name: str, value: object) -> None:
    # Frozen dataclasses normalise their own fields in __post_init__ this way.
    object.__setattr__(obj, name, value)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class PortMapping:
    """A published port: ``host_ip:host_port -> container_port/protocol``.

    ``host_port=None`` lets the runtime choose a free port; ``host_ip=None`` binds every
    interface (use ``"127.0.0.1"`` to stay on loopback).
    """

    container_port: int
    host_port: int | None = None
    protocol: str = "tcp"
    host_ip: str | None = None

    def __post_init__(self) -> None:
        v.check_port("PortMapping.container_port", self.container_port)
        if self.host_port is not None:
            v.check_port("PortMapping.host_port", self.host_port)
        if self.protocol not in _PROTOCOLS:
            raise InvalidConfigError(
                "PortMapping.protocol", self.protocol, f"must be one of {', '.join(_PROTOCOLS)}"
            )
        if self.host_ip is not None:
            try:
                ipaddress.ip_address(self.host_ip)
            except (ValueError, TypeError):
                raise InvalidConfigError(
                    "PortMapping.host_ip", self.host_ip, "must be an IP address"
                ) from None


@dataclass(frozen=True)
class VolumeMount:
    """A mount into a container.

    ``source`` is a named volume (``"data"``) or a host path (absolute, or starting with
    ``./`` or ``../``, made absolute against the current directory). A missing host path is
    an error on every runtime (docker would otherwise create it as an empty root-owned dir).
    Paths may hold any character but NUL and newline (``/home/me/proj:2`` is fine: the
    ``--mount`` value quotes it).
    """

    source: str
    target: str
    read_only: bool = False

    def __post_init__(self) -> None:
        v.check_text("VolumeMount.source", self.source)
        v.check_text("VolumeMount.target", self.target)
        if not self.target.startswith("/"):
            raise InvalidConfigError("VolumeMount.target", self.target, "must be absolute")
        for name in ("source", "target"):
            value = getattr(self, name)
            # --mount is CSV: ',' and '"' are quoted (docker/utils.mount_spec), but a
            # newline would end the record.
            if "\n" in value:
                raise InvalidConfigError(f"VolumeMount.{name}", value, "must not contain a newline")
        if self.is_bind:
            _set(self, "source", os.path.abspath(self.source))
        else:
            v.check_name("VolumeMount.source", self.source)

    @property
    def is_bind(self) -> bool:
        """True when ``source`` is a host path rather than a volume name."""
        return self.source.startswith(("/", "./", "../")) or self.source in (".", "..")


@dataclass(frozen=True)
class BuildContext:
    """An image build from memory: a Dockerfile and the files it uses.

    Args:
        dockerfile: The Dockerfile's text.
        files: Context files by relative path (``"app/main.py"``); ``str`` is UTF-8 encoded.
        build_args: ``--build-arg`` values. Passed through the CLI's environment, never argv.
        target: Build stage to stop at (``--target``).
        labels: Labels set on the image.
        no_cache: Do not use the layer cache.
        pull: Always try to pull a newer base image.
        tags: Extra tags for the built image (besides the ``image_name`` given to build).
        dockerfile_path: Where the Dockerfile goes inside the context.
        max_size: Cap on the total size of the files, in bytes.
        executable: Paths (keys of ``files``) written with mode 0755 instead of 0644.
    """

    dockerfile: str
    files: Mapping[str, bytes | str] = field(default_factory=dict)
    build_args: Mapping[str, str] = field(default_factory=dict, repr=False)  # may be secret
    target: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    tags: Sequence[str] = ()
    dockerfile_path: str = "Dockerfile"
    max_size: int = DEFAULT_MAX_CONTEXT_BYTES
    executable: Sequence[str] = ()

    def __post_init__(self) -> None:
        v.check_text("BuildContext.dockerfile", self.dockerfile)
        dockerfile_path = v.normalize_context_path(
            "BuildContext.dockerfile_path", self.dockerfile_path
        )
        _set(self, "dockerfile_path", dockerfile_path)
        files = v.check_files("BuildContext.files", self.files)
        if dockerfile_path in files:
            given = next(
                k for k in self.files if v.normalize_context_path("", k) == dockerfile_path
            )
            raise InvalidConfigError(
                "BuildContext.files key",
                given,
                f"duplicates {dockerfile_path!r} after normalisation",
            )
        total = sum(len(data) for data in files.values())
        if total > self.max_size:
            raise InvalidConfigError(
                "BuildContext.files", f"{total} bytes", f"exceeds max_size={self.max_size}"
            )
        _set(self, "files", files)
        _set(self, "build_args", v.check_env("BuildContext.build_args", self.build_args))
        if self.target is not None:
            v.check_reference("BuildContext.target", self.target)
        _set(self, "labels", v.check_labels("BuildContext.labels", self.labels))
        _set(self, "tags", tuple(v.check_image_ref("BuildContext.tags", t) for t in self.tags))
        executable = tuple(
            v.normalize_context_path("BuildContext.executable", p) for p in self.executable
        )
        for path in executable:
            if path not in files:
                raise InvalidConfigError("BuildContext.executable", path, "is not in files")
        _set(self, "executable", executable)

    @property
    def size(self) -> int:
        """Total bytes of the Dockerfile and files (the tar adds headers)."""
        return len(self.dockerfile.encode("utf-8")) + sum(len(d) for d in self.files.values())


@dataclass(frozen=True)
class HealthCheck:
    """A container health check (``--health-cmd`` and its timing options).

    Args:
        command: A shell command, run with ``/bin/sh -c`` inside the container; exit status
            0 means healthy.
        interval: Seconds between two checks.
        timeout: Seconds one check may take before it counts as failed.
        retries: Consecutive failures that make the container ``unhealthy``.
        start_period: Seconds after the start during which failures do not count.

    Durations are seconds (at least 0.001, rounded to the millisecond; ``start_period`` may
    be 0). The defaults are the runtimes' own.
    """

    command: str
    interval: float = 30.0
    timeout: float = 30.0
    retries: int = 3
    start_period: float = 0.0

    def __post_init__(self) -> None:
        v.check_text("HealthCheck.command", self.command)
        for name in ("interval", "timeout", "start_period"):
            given = getattr(self, name)
            value = v.check_duration(f"HealthCheck.{name}", given)
            if given < _HEALTH_MIN and not (name == "start_period" and given == 0):
                raise InvalidConfigError(f"HealthCheck.{name}", given, "must be at least 0.001 s")
            _set(self, name, value)
        v.check_count("HealthCheck.retries", self.retries)


@dataclass(frozen=True)
class RunConfig:
    """How to create and run a container: the options of ``docker run`` users reach for.

    ``environment`` values are secrets: they reach the CLI through its own environment
    (``-e KEY``), never its argv, and never appear in errors or logs.
    """

    image: str
    name: str | None = None
    command: Sequence[str] | None = None
    environment: Mapping[str, str] = field(default_factory=dict)
    volumes: Sequence[VolumeMount] = ()
    ports: Sequence[PortMapping] = ()
    network: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    restart_policy: RestartPolicy = RestartPolicy.NO
    detach: bool = True
    #: With ``RestartPolicy.ON_FAILURE`` only: how many restarts at most.
    restart_max_retries: int | None = None
    entrypoint: Sequence[str] | None = None
    working_dir: str | None = None
    user: str | None = None
    hostname: str | None = None
    #: Remove the container when it exits (``--rm``).
    remove: bool = False
    pull: PullPolicy | None = None
    network_aliases: Sequence[str] = ()
    extra_hosts: Mapping[str, str] = field(default_factory=dict)
    tmpfs: Sequence[str] = ()
    read_only: bool = False
    privileged: bool = False
    init: bool = False
    cap_add: Sequence[str] = ()
    cap_drop: Sequence[str] = ()
    memory: str | None = None
    cpus: float | None = None
    stop_signal: str | None = None
    stop_timeout: int | None = None
    #: The health check: a shell command (``--health-cmd``, run with ``/bin/sh -c``, the
    #: runtime's default timing) or a :class:`HealthCheck` with its timing.
    healthcheck: str | HealthCheck | None = None
    #: Pass the whole environment through a private 0600 env-file instead (large
    #: environments; values must not contain newlines). The file is always removed.
    env_file: bool = False

    def __post_init__(self) -> None:
        v.check_image("RunConfig.image", self.image)
        if self.name is not None:
            v.check_name("RunConfig.name", self.name)
        if self.command is not None:
            _set(self, "command", v.check_args("RunConfig.command", self.command))
        if self.entrypoint is not None:
            _set(self, "entrypoint", v.check_args("RunConfig.entrypoint", self.entrypoint))
        _set(self, "environment", v.check_env("RunConfig.environment", self.environment))
        if self.env_file:
            for key, val in self.environment.items():
                if "\n" in val:
                    raise InvalidConfigError(
                        f"RunConfig.environment[{key}]",
                        v.REDACTED,
                        "must not contain a newline when env_file=True",
                    )
        _set(self, "volumes", self._typed_tuple("volumes", self.volumes, VolumeMount))
        _set(self, "ports", self._typed_tuple("ports", self.ports, PortMapping))
        if self.network is not None:
            v.check_reference("RunConfig.network", self.network)
        _set(self, "labels", v.check_labels("RunConfig.labels", self.labels))
        try:
            _set(self, "restart_policy", RestartPolicy(self.restart_policy))
        except ValueError:
            raise InvalidConfigError(
                "RunConfig.restart_policy", self.restart_policy, "is not a RestartPolicy"
            ) from None
        if self.restart_max_retries is not None:
            if self.restart_policy is not RestartPolicy.ON_FAILURE:
                raise InvalidConfigError(
                    "RunConfig.restart_max_retries",
                    self.restart_max_retries,
                    "needs restart_policy=RestartPolicy.ON_FAILURE",
                )
            v.check_restart_retries("RunConfig.restart_max_retries", self.restart_max_retries)
        if self.remove and self.restart_policy is not RestartPolicy.NO:
            raise InvalidConfigError(
                "RunConfig.remove", self.remove, "cannot be combined with a restart policy"
            )
        if self.pull is not None:
            _set(self, "pull", PullPolicy(self.pull))
        if self.working_dir is not None:
            v.check_text("RunConfig.working_dir", self.working_dir)
            if not self.working_dir.startswith("/"):
                raise InvalidConfigError(
                    "RunConfig.working_dir", self.working_dir, "must be absolute"
                )
        if self.memory is not None:
            v.check_memory("RunConfig.memory", self.memory)
        for name in ("user", "hostname", "stop_signal"):
            value = getattr(self, name)
            if value is not None:
                v.check_reference(f"RunConfig.{name}", value)
        if self.healthcheck is not None and not isinstance(self.healthcheck, HealthCheck):
            v.check_text("RunConfig.healthcheck", self.healthcheck)
        for name in ("network_aliases", "cap_add", "cap_drop"):
            _set(
                self,
                name,
                tuple(
                    v.check_reference(f"RunConfig.{name}", x)
                    for x in v.check_args(f"RunConfig.{name}", getattr(self, name))
                ),
            )
        tmpfs = v.check_args("RunConfig.tmpfs", self.tmpfs)
        for path in tmpfs:
            if not path.startswith("/"):
                raise InvalidConfigError("RunConfig.tmpfs", path, "must be absolute")
        _set(self, "tmpfs", tmpfs)
        hosts = {}
        for host, ip in self.extra_hosts.items():
            v.check_reference("RunConfig.extra_hosts key", host)
            if ":" in host:
                # --add-host is host:ip; the CLIs split at the first ':'.
                raise InvalidConfigError("RunConfig.extra_hosts key", host, "must not contain ':'")
            try:
                if not isinstance(ip, str):  # ip_address(5) would be 0.0.0.5
                    raise TypeError(ip)
                ipaddress.ip_address(ip)
            except (ValueError, TypeError):
                raise InvalidConfigError(
                    f"RunConfig.extra_hosts[{host}]", ip, "must be an IP"
                ) from None
            hosts[host] = ip
        _set(self, "extra_hosts", hosts)
        if self.cpus is not None:
            v.check_cpus("RunConfig.cpus", self.cpus)
        if self.stop_timeout is not None:
            v.check_stop_timeout("RunConfig.stop_timeout", self.stop_timeout)

    def __repr__(self) -> str:
        # Environment values are secrets: show the keys only.
        keys = ", ".join(sorted(self.environment))
        return f"RunConfig(image={self.image!r}, name={self.name!r}, environment keys=[{keys}])"

    @staticmethod
    def _typed_tuple(name: str, items: Sequence[Any], kind: type) -> tuple[Any, ...]:
        out = tuple(items)
        for item in out:
            if not isinstance(item, kind):
                raise InvalidConfigError(f"RunConfig.{name}", item, f"must be a {kind.__name__}")
        return out


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ExecResult:
    """The outcome of a command run inside a container.

    ``stdout``/``stderr`` are the text (UTF-8, undecodable bytes replaced); the exact bytes
    are in ``stdout_bytes``/``stderr_bytes``. A command that could not be started (missing
    or not executable) gives 127 or 126 on every runtime.
    """

    exit_code: int
    stdout_bytes: bytes = b""
    stderr_bytes: bytes = b""

    @property
    def stdout(self) -> str:
        """Standard output as text."""
        return _decode(self.stdout_bytes)

    @property
    def stderr(self) -> str:
        """Standard error as text."""
        return _decode(self.stderr_bytes)

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exit_code == 0


@dataclass(frozen=True)
class ImageInfo:
    """An image. ``id`` is the full ``sha256:…`` id; ``tags`` are in docker's short form
    (``name:tag``; podman's ``localhost/`` and ``docker.io/library/`` prefixes dropped)."""

    id: str
    tags: tuple[str, ...] = ()
    size: int = 0
    created: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    digests: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id."""
        return self.id.removeprefix("sha256:")[:12]


@dataclass(frozen=True)
class ContainerInfo:
    """A container as ``list`` or ``inspect`` report it.

    ``exit_code`` is set for exited containers; ``image_id`` only by ``inspect`` (``ps``
    does not report it on docker). ``ports`` are the published ports. ``health`` is the
    health check's status (``"starting"``, ``"healthy"``, ``"unhealthy"``) or None when the
    container has none.
    """

    id: str
    name: str
    image: str
    state: ContainerState
    labels: Mapping[str, str] = field(default_factory=dict)
    created: datetime | None = None
    ports: tuple[PortMapping, ...] = ()
    networks: tuple[str, ...] = ()
    exit_code: int | None = None
    image_id: str | None = None
    #: ``"starting"``, ``"healthy"`` or ``"unhealthy"``; None when it has no health check.
    health: HealthState | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id."""
        return self.id[:12]

    @property
    def running(self) -> bool:
        """True when the container is running (paused counts as not running)."""
        return self.state is ContainerState.RUNNING

    def host_port(self, container_port: int, protocol: str = "tcp") -> int | None:
        """The host port published for ``container_port``, or None."""
        for port in self.ports:
            if port.container_port == container_port and port.protocol == protocol:
                return port.host_port
        return None


@dataclass(frozen=True)
class VolumeInfo:
    """A volume."""

    name: str
    driver: str = "local"
    mountpoint: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    created: datetime | None = None
    scope: str = "local"
    options: Mapping[str, str] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class NetworkInfo:
    """A network. ``subnets`` are CIDR strings."""

    id: str
    name: str
    driver: str = "bridge"
    labels: Mapping[str, str] = field(default_factory=dict)
    created: datetime | None = None
    internal: bool = False
    subnets: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class EngineInfo:
    """What ``engine.info()`` reports, the same keys on every runtime."""

    runtime: str
    version: str
    api_version: str = ""
    os: str = ""
    arch: str = ""
    storage_driver: str = ""
    cgroup_version: str = ""
    rootless: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class EngineOptions:
    """Where and how an engine runs its CLI: what :meth:`ContainerEngineFactory.create` was
    given, handed to :meth:`ContainerEngine.from_options`.

    Attributes:
        command: The CLI (a name on PATH or a path); None: the runtime's name.
        timeout: Default limit, in seconds, for one CLI call; None: 120.
        host: The engine to reach (docker ``--host``, podman ``--url``).
        context: A docker context (``--context``) or podman connection (``--connection``).
        global_args: Further options put before every subcommand.
        env: Extra environment for every call.
    """

    command: str | None = None
    timeout: float | None = None
    host: str | None = None
    context: str | None = None
    global_args: Sequence[str] = ()
    env: Mapping[str, str] | None = None


# --------------------------------------------------------------------------- streaming


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One line of a build's, pull's or push's output, handed to ``progress=`` as it arrives.

    ``line`` is the text (no line ending; of a line the CLI redrew with carriage returns, the
    last version). ``step``/``total_steps`` come from the builder's step lines (docker's
    ``Step 2/5 :``, podman's ``STEP 2/5:``, BuildKit's ``#5 [2/5]``): the step the line
    belongs to, carried forward to the lines that follow it; None before the first step
    line, and for output that has no steps (pull, push).
    """

    line: str
    step: int | None = None
    total_steps: int | None = None


@dataclass(frozen=True, slots=True)
class LogLine:
    """One line a container wrote: ``text`` without its line ending, and ``stream``,
    ``"stdout"`` or ``"stderr"``."""

    text: str
    stream: str
