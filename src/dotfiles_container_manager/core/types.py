"""Configuration objects (validated when built) and the records the managers return.

Configuration objects (:class:`BuildContext`, :class:`RunConfig`, :class:`VolumeMount`,
:class:`PortMapping`) are frozen records (:class:`~.record.Record`: they behave as frozen
dataclasses do; use :func:`~.record.replace` for a changed copy) that check every field when
built: a bad value raises :class:`~.exceptions.InvalidConfigError` before any process starts.
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

import os
from types import MappingProxyType

from . import validation as v
from .enums import ContainerState, PullPolicy, RestartPolicy
from .exceptions import InvalidConfigError
from .record import Record

# No typing, datetime or collections.abc at run time: the annotations are strings.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime
    from typing import Any

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
#: The health states :attr:`ContainerInfo.health` takes (None: no health check); a
#: ``Literal`` for type checkers, ``str`` at run time (no typing import).
if TYPE_CHECKING:
    from typing import Literal

    HealthState = Literal["starting", "healthy", "unhealthy"]
else:
    HealthState = str
HEALTH_STATES: tuple[HealthState, ...] = ("starting", "healthy", "unhealthy")
# The runtimes refuse health-check durations under a millisecond (and parse them as Go
# durations, so they are written with at most millisecond precision).
_HEALTH_MIN = 0.001

#: ``filters=`` of the list and prune calls (see :func:`.validation.check_filters`).
Filters = v.Filters


def _set(obj: object, name: str, value: object) -> None:
    # Frozen records normalise their own fields in __post_init__ this way.
    object.__setattr__(obj, name, value)


#: The default of the mapping fields: records get a dict of their own in its place.
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def _own(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    # What field(default_factory=dict) gave: a new dict per record.
    return {} if mapping is _EMPTY else mapping


def _ip_address(text: object) -> None:
    import ipaddress  # ~1 ms: only configurations that name an IP pay for it

    ipaddress.ip_address(text)  # type: ignore[arg-type]


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- configuration


class PortMapping(Record):
    """A published port: ``host_ip:host_port -> container_port/protocol``.

    ``host_port=None`` lets the runtime choose a free port; ``host_ip=None`` binds every
    interface (use ``"127.0.0.1"`` to stay on loopback).
    """

    _fields = ("container_port", "host_port", "protocol", "host_ip")
    container_port: int
    host_port: int | None
    protocol: str
    host_ip: str | None

    def __init__(
        self,
        container_port: int,
        host_port: int | None = None,
        protocol: str = "tcp",
        host_ip: str | None = None,
    ) -> None:
        v.check_port("PortMapping.container_port", container_port)
        if host_port is not None:
            v.check_port("PortMapping.host_port", host_port)
        if protocol not in _PROTOCOLS:
            raise InvalidConfigError(
                "PortMapping.protocol", protocol, f"must be one of {', '.join(_PROTOCOLS)}"
            )
        if host_ip is not None:
            try:
                _ip_address(host_ip)
            except (ValueError, TypeError):
                raise InvalidConfigError(
                    "PortMapping.host_ip", host_ip, "must be an IP address"
                ) from None
        self._init(container_port, host_port, protocol, host_ip)


class VolumeMount(Record):
    """A mount into a container.

    ``source`` is a named volume (``"data"``) or a host path (absolute, or starting with
    ``./`` or ``../``, made absolute against the current directory). A missing host path is
    an error on every runtime (docker would otherwise create it as an empty root-owned dir).
    Paths may hold any character but NUL and newline (``/home/me/proj:2`` is fine: the
    ``--mount`` value quotes it).
    """

    _fields = ("source", "target", "read_only")
    source: str
    target: str
    read_only: bool
    #: True when ``source`` was given relative (``./data``) and made absolute against this
    #: process's working directory: a path on this machine, which a remote engine refuses.
    #: Not a field: not compared, and ``replace()`` rebuilds from the absolute source.
    relative_source: bool

    def __init__(self, source: str, target: str, read_only: bool = False) -> None:
        v.check_text("VolumeMount.source", source)
        v.check_text("VolumeMount.target", target)
        if not target.startswith("/"):
            raise InvalidConfigError("VolumeMount.target", target, "must be absolute")
        for name, value in (("source", source), ("target", target)):
            # --mount is CSV: ',' and '"' are quoted (docker/utils.mount_spec), but a
            # newline would end the record.
            if "\n" in value:
                raise InvalidConfigError(f"VolumeMount.{name}", value, "must not contain a newline")
        relative = False
        if _is_bind(source):
            relative = not source.startswith("/")
            source = os.path.abspath(source)
        else:
            v.check_name("VolumeMount.source", source)
        self._init(source, target, read_only)
        self.__dict__["relative_source"] = relative

    @property
    def is_bind(self) -> bool:
        """True when ``source`` is a host path rather than a volume name."""
        return _is_bind(self.source)


def _is_bind(source: str) -> bool:
    return source.startswith(("/", "./", "../")) or source in (".", "..")


class BuildContext(Record):
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

    _fields = (
        "dockerfile",
        "files",
        "build_args",
        "target",
        "labels",
        "no_cache",
        "pull",
        "tags",
        "dockerfile_path",
        "max_size",
        "executable",
    )
    _no_repr = ("build_args",)  # may be secret
    dockerfile: str
    files: Mapping[str, bytes | str]
    build_args: Mapping[str, str]
    target: str | None
    labels: Mapping[str, str]
    no_cache: bool
    pull: bool
    tags: Sequence[str]
    dockerfile_path: str
    max_size: int
    executable: Sequence[str]

    def __init__(
        self,
        dockerfile: str,
        files: Mapping[str, bytes | str] = _EMPTY,
        build_args: Mapping[str, str] = _EMPTY,
        target: str | None = None,
        labels: Mapping[str, str] = _EMPTY,
        no_cache: bool = False,
        pull: bool = False,
        tags: Sequence[str] = (),
        dockerfile_path: str = "Dockerfile",
        max_size: int = DEFAULT_MAX_CONTEXT_BYTES,
        executable: Sequence[str] = (),
    ) -> None:
        v.check_text("BuildContext.dockerfile", dockerfile)
        dockerfile_path = v.normalize_context_path("BuildContext.dockerfile_path", dockerfile_path)
        normalised: dict[str, bytes] = {}
        total = 0
        for path, data in files.items():
            norm = v.normalize_context_path("BuildContext.files key", path)
            if norm in normalised or norm == dockerfile_path:
                raise InvalidConfigError(
                    "BuildContext.files key", path, f"duplicates {norm!r} after normalisation"
                )
            if isinstance(data, str):
                v.check_text(f"BuildContext.files[{path}]", data, allow_empty=True)
                data = data.encode("utf-8")
            elif not isinstance(data, (bytes, bytearray, memoryview)):
                raise InvalidConfigError(f"BuildContext.files[{path}]", type(data), "not bytes/str")
            normalised[norm] = bytes(data) if not isinstance(data, bytes) else data
            total += len(data)
        if total > max_size:
            raise InvalidConfigError(
                "BuildContext.files", f"{total} bytes", f"exceeds max_size={max_size}"
            )
        build_args = v.check_env("BuildContext.build_args", build_args)
        if target is not None:
            v.check_reference("BuildContext.target", target)
        labels = v.check_labels("BuildContext.labels", labels)
        tags = tuple(v.check_image_ref("BuildContext.tags", t) for t in tags)
        executable = tuple(
            v.normalize_context_path("BuildContext.executable", p) for p in executable
        )
        for path in executable:
            if path not in normalised:
                raise InvalidConfigError("BuildContext.executable", path, "is not in files")
        self._init(
            dockerfile,
            normalised,
            build_args,
            target,
            labels,
            no_cache,
            pull,
            tags,
            dockerfile_path,
            max_size,
            executable,
        )

    @property
    def size(self) -> int:
        """Total bytes of the Dockerfile and files (the tar adds headers)."""
        return len(self.dockerfile.encode("utf-8")) + sum(len(d) for d in self.files.values())


#: The ``--ulimit`` names both CLIs accept (the resources of setrlimit(2)).
ULIMIT_NAMES = frozenset(
    {
        "core",
        "cpu",
        "data",
        "fsize",
        "locks",
        "memlock",
        "msgqueue",
        "nice",
        "nofile",
        "nproc",
        "rss",
        "rtprio",
        "rttime",
        "sigpending",
        "stack",
    }
)


def _check_ulimits(name: str, ulimits: object) -> dict[str, tuple[int, int]]:
    """``{"nofile": 1024}`` or ``{"nofile": (1024, 4096)}`` as ``{name: (soft, hard)}``."""
    items = getattr(ulimits, "items", None)  # a Mapping (collections.abc not imported here)
    if not callable(items):
        raise InvalidConfigError(name, ulimits, "must be a mapping of limit name to value(s)")
    result: dict[str, tuple[int, int]] = {}
    for key, value in items():
        if key not in ULIMIT_NAMES:
            raise InvalidConfigError(
                f"{name} key", key, f"must be one of {', '.join(sorted(ULIMIT_NAMES))}"
            )
        pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
        if len(pair) != 2 or not all(
            isinstance(x, int) and not isinstance(x, bool) and 0 <= x < 2**63 for x in pair
        ):
            raise InvalidConfigError(
                f"{name}[{key}]", value, "must be an integer >= 0 or a (soft, hard) pair of them"
            )
        if pair[0] > pair[1]:
            raise InvalidConfigError(
                f"{name}[{key}]", value, "the soft limit must not exceed the hard limit"
            )
        result[key] = (pair[0], pair[1])
    return result


class HealthCheck(Record):
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

    _fields = ("command", "interval", "timeout", "retries", "start_period")
    command: str
    interval: float
    timeout: float
    retries: int
    start_period: float

    def __init__(
        self,
        command: str,
        interval: float = 30.0,
        timeout: float = 30.0,
        retries: int = 3,
        start_period: float = 0.0,
    ) -> None:
        v.check_text("HealthCheck.command", command)
        durations = []
        for name, given in (
            ("interval", interval),
            ("timeout", timeout),
            ("start_period", start_period),
        ):
            value = v.check_duration(f"HealthCheck.{name}", given)
            if given < _HEALTH_MIN and not (name == "start_period" and given == 0):
                raise InvalidConfigError(f"HealthCheck.{name}", given, "must be at least 0.001 s")
            durations.append(value)
        v.check_count("HealthCheck.retries", retries)
        self._init(command, durations[0], durations[1], retries, durations[2])


class RunConfig(Record):
    """How to create and run a container: the options of ``docker run`` users reach for.

    ``environment`` values are secrets: they reach the CLI through its own environment
    (``-e KEY``), never its argv, and never appear in errors or logs.
    """

    _fields = (
        "image",
        "name",
        "command",
        "environment",
        "volumes",
        "ports",
        "network",
        "labels",
        "restart_policy",
        "detach",
        "restart_max_retries",
        "entrypoint",
        "working_dir",
        "user",
        "hostname",
        "remove",
        "pull",
        "network_aliases",
        "extra_hosts",
        "tmpfs",
        "read_only",
        "privileged",
        "init",
        "cap_add",
        "cap_drop",
        "memory",
        "cpus",
        "stop_signal",
        "stop_timeout",
        "healthcheck",
        "env_file",
        "ulimits",
    )
    image: str
    name: str | None
    command: Sequence[str] | None
    environment: Mapping[str, str]
    volumes: Sequence[VolumeMount]
    ports: Sequence[PortMapping]
    network: str | None
    labels: Mapping[str, str]
    restart_policy: RestartPolicy
    detach: bool
    #: With ``RestartPolicy.ON_FAILURE`` only: how many restarts at most.
    restart_max_retries: int | None
    entrypoint: Sequence[str] | None
    working_dir: str | None
    user: str | None
    hostname: str | None
    #: Remove the container when it exits (``--rm``).
    remove: bool
    pull: PullPolicy | None
    network_aliases: Sequence[str]
    extra_hosts: Mapping[str, str]
    tmpfs: Sequence[str]
    read_only: bool
    privileged: bool
    init: bool
    cap_add: Sequence[str]
    cap_drop: Sequence[str]
    memory: str | None
    cpus: float | None
    stop_signal: str | None
    stop_timeout: int | None
    #: The health check: a shell command (``--health-cmd``, run with ``/bin/sh -c``, the
    #: runtime's default timing) or a :class:`HealthCheck` with its timing.
    healthcheck: str | HealthCheck | None
    #: Pass the whole environment through a private 0600 env-file instead (large
    #: environments; values must not contain newlines). The file is always removed.
    env_file: bool
    #: Resource limits (``--ulimit``): ``{"nofile": 1024}`` sets soft and hard alike,
    #: ``{"nofile": (1024, 4096)}`` gives (soft, hard). Names: :data:`ULIMIT_NAMES`.
    #: Stored as ``{name: (soft, hard)}``.
    ulimits: Mapping[str, int | tuple[int, int]]

    def __init__(
        self,
        image: str,
        name: str | None = None,
        command: Sequence[str] | None = None,
        environment: Mapping[str, str] = _EMPTY,
        volumes: Sequence[VolumeMount] = (),
        ports: Sequence[PortMapping] = (),
        network: str | None = None,
        labels: Mapping[str, str] = _EMPTY,
        restart_policy: RestartPolicy = RestartPolicy.NO,
        detach: bool = True,
        restart_max_retries: int | None = None,
        entrypoint: Sequence[str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        hostname: str | None = None,
        remove: bool = False,
        pull: PullPolicy | None = None,
        network_aliases: Sequence[str] = (),
        extra_hosts: Mapping[str, str] = _EMPTY,
        tmpfs: Sequence[str] = (),
        read_only: bool = False,
        privileged: bool = False,
        init: bool = False,
        cap_add: Sequence[str] = (),
        cap_drop: Sequence[str] = (),
        memory: str | None = None,
        cpus: float | None = None,
        stop_signal: str | None = None,
        stop_timeout: int | None = None,
        healthcheck: str | HealthCheck | None = None,
        env_file: bool = False,
        ulimits: Mapping[str, int | tuple[int, int]] = _EMPTY,
    ) -> None:
        self._init(
            image,
            name,
            command,
            environment,
            volumes,
            ports,
            network,
            labels,
            restart_policy,
            detach,
            restart_max_retries,
            entrypoint,
            working_dir,
            user,
            hostname,
            remove,
            pull,
            network_aliases,
            extra_hosts,
            tmpfs,
            read_only,
            privileged,
            init,
            cap_add,
            cap_drop,
            memory,
            cpus,
            stop_signal,
            stop_timeout,
            healthcheck,
            env_file,
            ulimits,
        )
        self.__post_init__()

    def __post_init__(self) -> None:
        # The fields as given, checked and normalised in place (the dataclass's hook).
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
        _set(self, "ulimits", _check_ulimits("RunConfig.ulimits", self.ulimits))
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
                _ip_address(ip)
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


class ExecResult(Record):
    """The outcome of a command run inside a container.

    ``stdout``/``stderr`` are the text (UTF-8, undecodable bytes replaced); the exact bytes
    are in ``stdout_bytes``/``stderr_bytes``. A command that could not be started (missing
    or not executable) gives 127 or 126 on every runtime.
    """

    _fields = ("exit_code", "stdout_bytes", "stderr_bytes")
    exit_code: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    def __init__(
        self,
        exit_code: int,
        stdout_bytes: bytes = b"",
        stderr_bytes: bytes = b"",
    ) -> None:
        self._init(exit_code, stdout_bytes, stderr_bytes)

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


class ImageInfo(Record):
    """An image. ``id`` is the full ``sha256:…`` id; ``tags`` are in docker's short form
    (``name:tag``; podman's ``localhost/`` and ``docker.io/library/`` prefixes dropped)."""

    _fields = ("id", "tags", "size", "created", "labels", "digests", "raw")
    _no_compare = ("raw",)
    _no_repr = ("raw",)
    id: str
    tags: tuple[str, ...]
    size: int
    created: datetime | None
    labels: Mapping[str, str]
    digests: tuple[str, ...]
    raw: Mapping[str, Any]

    def __init__(
        self,
        id: str,
        tags: tuple[str, ...] = (),
        size: int = 0,
        created: datetime | None = None,
        labels: Mapping[str, str] = _EMPTY,
        digests: tuple[str, ...] = (),
        raw: Mapping[str, Any] = _EMPTY,
    ) -> None:
        self._init(id, tags, size, created, _own(labels), digests, _own(raw))

    @property
    def short_id(self) -> str:
        """The first 12 hex digits of the id."""
        return self.id.removeprefix("sha256:")[:12]


class ContainerInfo(Record):
    """A container as ``list`` or ``inspect`` report it.

    ``exit_code`` is set for exited containers; ``image_id`` only by ``inspect`` (``ps``
    does not report it on docker). ``ports`` are the published ports. ``health`` is the
    health check's status (``"starting"``, ``"healthy"``, ``"unhealthy"``) or None when the
    container has none.
    """

    _fields = (
        "id",
        "name",
        "image",
        "state",
        "labels",
        "created",
        "ports",
        "networks",
        "exit_code",
        "image_id",
        "health",
        "raw",
    )
    _no_compare = ("raw",)
    _no_repr = ("raw",)
    id: str
    name: str
    image: str
    state: ContainerState
    labels: Mapping[str, str]
    created: datetime | None
    ports: tuple[PortMapping, ...]
    networks: tuple[str, ...]
    exit_code: int | None
    image_id: str | None
    #: ``"starting"``, ``"healthy"`` or ``"unhealthy"``; None when it has no health check.
    health: HealthState | None
    raw: Mapping[str, Any]

    def __init__(
        self,
        id: str,
        name: str,
        image: str,
        state: ContainerState,
        labels: Mapping[str, str] = _EMPTY,
        created: datetime | None = None,
        ports: tuple[PortMapping, ...] = (),
        networks: tuple[str, ...] = (),
        exit_code: int | None = None,
        image_id: str | None = None,
        health: HealthState | None = None,
        raw: Mapping[str, Any] = _EMPTY,
    ) -> None:
        self._init(
            id,
            name,
            image,
            state,
            _own(labels),
            created,
            ports,
            networks,
            exit_code,
            image_id,
            health,
            _own(raw),
        )

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


class VolumeInfo(Record):
    """A volume."""

    _fields = ("name", "driver", "mountpoint", "labels", "created", "scope", "options", "raw")
    _no_compare = ("raw",)
    _no_repr = ("raw",)
    name: str
    driver: str
    mountpoint: str
    labels: Mapping[str, str]
    created: datetime | None
    scope: str
    options: Mapping[str, str]
    raw: Mapping[str, Any]

    def __init__(
        self,
        name: str,
        driver: str = "local",
        mountpoint: str = "",
        labels: Mapping[str, str] = _EMPTY,
        created: datetime | None = None,
        scope: str = "local",
        options: Mapping[str, str] = _EMPTY,
        raw: Mapping[str, Any] = _EMPTY,
    ) -> None:
        self._init(name, driver, mountpoint, _own(labels), created, scope, _own(options), _own(raw))


class NetworkInfo(Record):
    """A network. ``subnets`` are CIDR strings."""

    _fields = ("id", "name", "driver", "labels", "created", "internal", "subnets", "raw")
    _no_compare = ("raw",)
    _no_repr = ("raw",)
    id: str
    name: str
    driver: str
    labels: Mapping[str, str]
    created: datetime | None
    internal: bool
    subnets: tuple[str, ...]
    raw: Mapping[str, Any]

    def __init__(
        self,
        id: str,
        name: str,
        driver: str = "bridge",
        labels: Mapping[str, str] = _EMPTY,
        created: datetime | None = None,
        internal: bool = False,
        subnets: tuple[str, ...] = (),
        raw: Mapping[str, Any] = _EMPTY,
    ) -> None:
        self._init(id, name, driver, _own(labels), created, internal, subnets, _own(raw))


class EngineInfo(Record):
    """What ``engine.info()`` reports, the same keys on every runtime."""

    _fields = (
        "runtime",
        "version",
        "api_version",
        "os",
        "arch",
        "storage_driver",
        "cgroup_version",
        "rootless",
        "raw",
    )
    _no_compare = ("raw",)
    _no_repr = ("raw",)
    runtime: str
    version: str
    api_version: str
    os: str
    arch: str
    storage_driver: str
    cgroup_version: str
    rootless: bool
    raw: Mapping[str, Any]

    def __init__(
        self,
        runtime: str,
        version: str,
        api_version: str = "",
        os: str = "",
        arch: str = "",
        storage_driver: str = "",
        cgroup_version: str = "",
        rootless: bool = False,
        raw: Mapping[str, Any] = _EMPTY,
    ) -> None:
        self._init(
            runtime,
            version,
            api_version,
            os,
            arch,
            storage_driver,
            cgroup_version,
            rootless,
            _own(raw),
        )


class EngineOptions(Record):
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

    _fields = ("command", "timeout", "host", "context", "global_args", "env")
    command: str | None
    timeout: float | None
    host: str | None
    context: str | None
    global_args: Sequence[str]
    env: Mapping[str, str] | None

    def __init__(
        self,
        command: str | None = None,
        timeout: float | None = None,
        host: str | None = None,
        context: str | None = None,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._init(command, timeout, host, context, global_args, env)


# --------------------------------------------------------------------------- streaming


class ProgressEvent(Record):
    """One line of a build's, pull's or push's output, handed to ``progress=`` as it arrives.

    ``line`` is the text (no line ending; of a line the CLI redrew with carriage returns, the
    last version). ``step``/``total_steps`` come from the builder's step lines (docker's
    ``Step 2/5 :``, podman's ``STEP 2/5:``, BuildKit's ``#5 [2/5]``): the step the line
    belongs to, carried forward to the lines that follow it; None before the first step
    line, and for output that has no steps (pull, push).
    """

    _fields = ("line", "step", "total_steps")
    line: str
    step: int | None
    total_steps: int | None

    def __init__(self, line: str, step: int | None = None, total_steps: int | None = None) -> None:
        self._init(line, step, total_steps)


class LogLine(Record):
    """One line a container wrote: ``text`` without its line ending, and ``stream``,
    ``"stdout"`` or ``"stderr"``."""

    _fields = ("text", "stream")
    text: str
    stream: str

    def __init__(self, text: str, stream: str) -> None:
        self._init(text, stream)
