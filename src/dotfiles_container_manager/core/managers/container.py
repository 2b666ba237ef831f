"""The container manager interface.

Every public method here checks its arguments, then calls one abstract hook (``_start``,
``_exec``...) with the checked values. The checks live in this class alone, so every engine
(docker, podman, the in-memory fake) refuses the same bad input with the same
:class:`InvalidConfigError`, before it does anything. An engine implements the hooks.
"""

from __future__ import annotations

import builtins
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress

from .. import validation as v
from ..enums import RestartPolicy
from ..exceptions import ContainerNotFoundError, InvalidConfigError
from ..types import ContainerInfo, ExecResult, Filters, PortMapping, RunConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..streams import LogStream

__all__ = ["ContainerManager"]


def _config(config: object) -> RunConfig:
    if not isinstance(config, RunConfig):
        raise InvalidConfigError("config", type(config).__name__, "must be a RunConfig")
    return config


def _tail(tail: object) -> int | None:
    if tail is not None and (isinstance(tail, bool) or not isinstance(tail, int) or tail < 0):
        raise InvalidConfigError("tail", tail, "must be an integer >= 0")
    return tail


def _input(input: object) -> bytes | None:
    if input is not None and not isinstance(input, (bytes, bytearray, memoryview)):
        raise InvalidConfigError("input", type(input).__name__, "must be bytes")
    return None if input is None else bytes(input)


def _put(files: object, executable: object) -> tuple[dict[str, bytes], frozenset[str]]:
    """``put_files``' files, checked like ``BuildContext.files``; no name may also be a
    directory of another (``a`` and ``a/b``)."""
    checked = v.check_files("files", files, inside="the directory")
    for name in checked:
        parent = name.rpartition("/")[0]
        while parent:
            if parent in checked:
                raise InvalidConfigError("files key", name, f"puts a file under file {parent!r}")
            parent = parent.rpartition("/")[0]
    names = frozenset(
        v.normalize_context_path("executable", p, inside="the directory")
        for p in v.check_args("executable", executable)  # type: ignore[arg-type]
    )
    for name in names:
        if name not in checked:
            raise InvalidConfigError("executable", name, "is not in files")
    return checked, names


def _signal(signal: object) -> str | None:
    if signal is None:
        return None
    if isinstance(signal, bool) or not isinstance(signal, (int, str)):
        raise InvalidConfigError("signal", signal, "must be a signal name or number")
    if isinstance(signal, int) and not 0 < signal < 65:
        raise InvalidConfigError("signal", signal, "must be between 1 and 64")
    return v.check_reference("signal", str(signal))


def _pattern(pattern: object) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise InvalidConfigError("pattern", pattern.pattern, "must be a text (str) pattern")
        return pattern
    text = v.check_text("pattern", pattern)
    try:
        return re.compile(text)
    except re.error as exc:
        raise InvalidConfigError("pattern", text, f"is not a regular expression: {exc}") from None


def _protocol(protocol: object) -> str:
    if protocol not in ("tcp", "udp", "sctp"):
        raise InvalidConfigError("protocol", protocol, "must be 'tcp', 'udp' or 'sctp'")
    return str(protocol)


class ContainerManager(ABC):
    """Containers: create, run, control, inspect, exec, logs, wait, remove, prune.

    Container arguments accept a name or an id (full or a unique prefix).
    """

    # ------------------------------------------------------------------ lifecycle

    def run(self, config: RunConfig) -> str:
        """Create and start a container; return its full id.

        With ``config.detach`` (the default) it returns once the container started; with
        ``detach=False`` it returns after the container exited (its output is in ``logs``,
        its exit code from ``wait``). Either way the return value is the id.
        """
        return self._run(_config(config))

    def create(self, config: RunConfig) -> str:
        """Create a container without starting it; return its full id."""
        return self._create(_config(config))

    def start(self, container: str) -> None:
        """Start a created or stopped container."""
        self._start(v.check_reference("container", container))

    def stop(self, container: str, timeout: int | None = None) -> None:
        """Stop: SIGTERM, then SIGKILL after ``timeout`` seconds (default: the container's
        own stop timeout, else 10)."""
        self._stop(
            v.check_reference("container", container),
            v.check_optional_stop_timeout("timeout", timeout),
        )

    def restart(self, container: str, timeout: int | None = None) -> None:
        """Stop (as :meth:`stop`) and start again."""
        self._restart(
            v.check_reference("container", container),
            v.check_optional_stop_timeout("timeout", timeout),
        )

    def kill(self, container: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (default SIGKILL) to the container's main process."""
        self._kill(v.check_reference("container", container), _signal(signal))

    def pause(self, container: str) -> None:
        """Freeze every process in the container."""
        self._pause(v.check_reference("container", container))

    def unpause(self, container: str) -> None:
        """Thaw a paused container."""
        self._unpause(v.check_reference("container", container))

    def remove(self, container: str, force: bool = False, volumes: bool = False) -> None:
        """Remove a container. ``force`` kills a running one at once (on every runtime);
        ``volumes`` also removes its anonymous volumes. A missing container raises
        :class:`ContainerNotFoundError`, forced or not."""
        self._remove(v.check_reference("container", container), bool(force), bool(volumes))

    # ------------------------------------------------------------------ queries

    def exists(self, container: str) -> bool:
        """True when the container exists."""
        return self._exists(v.check_reference("container", container))

    def inspect(self, container: str) -> ContainerInfo:
        """The container's record; :class:`ContainerNotFoundError` when missing."""
        return self._inspect(v.check_reference("container", container))

    def list(
        self, all: bool = False, *, filters: Filters | None = None
    ) -> builtins.list[ContainerInfo]:
        """Containers (running and paused; ``all`` adds stopped ones), from one CLI call.

        ``filters`` are the CLI's ``--filter`` keys (``label``, ``name``, ``status``...); a
        list value gives several filters of one key (``{"label": ["a=1", "b"]}``).
        """
        return self._list(bool(all), v.check_filters("filters", filters))

    def logs(
        self,
        container: str,
        *,
        tail: int | None = None,
        since: str | None = None,
        timestamps: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> str:
        """The container's output so far, stdout and stderr interleaved as the CLI wrote
        them (undecodable bytes replaced). :meth:`logs_bytes` gives the raw bytes."""
        data = self.logs_bytes(
            container,
            tail=tail,
            since=since,
            timestamps=timestamps,
            stdout=stdout,
            stderr=stderr,
        )
        return data.decode("utf-8", errors="replace")

    def logs_bytes(
        self,
        container: str,
        *,
        tail: int | None = None,
        since: str | None = None,
        timestamps: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> bytes:
        """The container's output as raw bytes (``stdout``/``stderr`` pick the streams;
        neither gives ``b""`` once the container is known to exist)."""
        return self._logs(
            v.check_reference("container", container),
            _tail(tail),
            None if since is None else v.check_reference("since", since),
            bool(timestamps),
            bool(stdout),
            bool(stderr),
        )

    def stream_logs(
        self,
        container: str,
        *,
        follow: bool = True,
        tail: int | None = None,
        since: str | None = None,
        timeout: float | None = None,
    ) -> LogStream:
        """The container's output as it is written: a :class:`LogStream` of
        :class:`LogLine` (``text``, ``stream`` = ``"stdout"``/``"stderr"``), to iterate and
        to use as a context manager.

        It starts with what was written already (``tail``: only the last lines; ``since``:
        only from that time, as the CLI reads it: ``"10m"``, an RFC 3339 time, ...). With
        ``follow`` (the default) it goes on until the container stops; without it, until
        the output written so far is read. ``timeout`` limits the whole stream (None: no
        limit) and ends it with :class:`CommandTimeoutError`. Closing it (``close()``,
        leaving the ``with`` block, dropping it) or Ctrl-C ends the process that reads the
        logs. A missing container raises :class:`ContainerNotFoundError` when iterated.
        """
        return self._stream_logs(
            v.check_reference("container", container),
            bool(follow),
            _tail(tail),
            None if since is None else v.check_reference("since", since),
            v.check_optional_timeout("timeout", timeout),
        )

    def wait_for_log(
        self, container: str, pattern: str | re.Pattern[str], *, timeout: float
    ) -> str:
        """Block until the container writes a line in which ``pattern`` (a regular
        expression, ``str`` or compiled) is found; return that line (no line ending).

        The search starts at the container's first line: a line written before the call
        counts. Raises :class:`ContainerNotReadyError` (with ``.exit_code`` and ``.logs``)
        when the container stops first, :class:`CommandTimeoutError` after ``timeout``
        seconds. Nothing is left running either way.
        """
        return self._wait_for_log(
            v.check_reference("container", container),
            _pattern(pattern),
            v.check_timeout("timeout", timeout),
        )

    def wait_for_port(
        self, container: str, port: int, *, timeout: float, protocol: str = "tcp"
    ) -> PortMapping:
        """Block until the container's published ``port`` accepts a TCP connection; return
        its :class:`PortMapping` (``host_port`` filled in).

        The connection goes to the address the port is published on (loopback when it is
        published on every interface). ``udp``/``sctp`` ports cannot be probed so: for them
        it returns once the port is published and the container runs. A port the running
        container does not publish raises :class:`ContainerOperationError` at once;
        stopping first :class:`ContainerNotReadyError`; ``timeout``
        :class:`CommandTimeoutError`.
        """
        return self._wait_for_port(
            v.check_reference("container", container),
            v.check_port("port", port),
            _protocol(protocol),
            v.check_timeout("timeout", timeout),
        )

    def wait_for_healthy(self, container: str, *, timeout: float) -> None:
        """Block until the container's health check passes (``ContainerInfo.health`` is
        ``"healthy"``), on every runtime: where the runtime does not run health checks by
        itself (podman without systemd) this runs them, at the check's interval.

        Raises :class:`ContainerNotReadyError` when the container stops first or becomes
        ``unhealthy``, :class:`ContainerOperationError` when it has no health check, and
        :class:`CommandTimeoutError` after ``timeout`` seconds.
        """
        self._wait_for_healthy(
            v.check_reference("container", container), v.check_timeout("timeout", timeout)
        )

    def exec(
        self,
        container: str,
        command: Sequence[str],
        *,
        environment: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` in a running container and return its exit code and output.

        A non-zero exit is a result, not an error. A command that cannot start gives 127
        (not found) or 126 (not executable). A container that is not running raises
        :class:`ContainerConflictError`.
        """
        words = v.check_args("command", command)
        if not words:
            raise InvalidConfigError("command", command, "must not be empty")
        if working_dir is not None:
            v.check_text("working_dir", working_dir)
            if not working_dir.startswith("/"):
                raise InvalidConfigError("working_dir", working_dir, "must be absolute")
        return self._exec(
            v.check_reference("container", container),
            words,
            v.check_env("environment", environment or {}),
            working_dir,
            None if user is None else v.check_reference("user", user),
            _input(input),
            v.check_optional_timeout("timeout", timeout),
        )

    def wait(self, container: str, *, timeout: float | None = None) -> int:
        """Block until the container exits; return its exit code."""
        return self._wait(
            v.check_reference("container", container), v.check_optional_timeout("timeout", timeout)
        )

    def prune(self, *, filters: Filters | None = None) -> builtins.list[str]:
        """Remove every stopped container (matching ``filters``); return the removed ids."""
        return self._prune(v.check_filters("filters", filters))

    # ------------------------------------------------------------------ one-shot runs

    def run_once(
        self, config: RunConfig, *, timeout: float | None = None, input: bytes | None = None
    ) -> ExecResult:
        """Run ``config`` in a fresh container, attached, and remove it; return its result.

        One CLI process (``run --rm``): ``exit_code`` is the container's own exit code
        (125, 126 and 127 included), ``stdout_bytes``/``stderr_bytes`` its two streams
        apart. ``input`` is sent to its standard input (``-i``). Environment values travel
        as for :meth:`run`. ``config.detach`` and ``config.remove`` are ignored (always
        attached, always removed); a restart policy is refused.

        When the CLI itself fails it raises instead: :class:`ImageNotFoundError` for a
        missing image, :class:`ContainerOperationError` when the command cannot start (not
        found, not executable) or the container cannot be created. On timeout
        (:class:`CommandTimeoutError`, ``timeout`` seconds for the whole run, the engine's
        default when None), any other error or Ctrl-C, the container is removed: nothing
        is left behind.
        """
        config = _config(config)
        if config.restart_policy is not RestartPolicy.NO:
            raise InvalidConfigError(
                "config.restart_policy",
                config.restart_policy.value,
                "must be RestartPolicy.NO: run_once removes the container",
            )
        return self._run_once(config, v.check_optional_timeout("timeout", timeout), _input(input))

    # ------------------------------------------------------------------ files

    def put_files(
        self,
        container: str,
        directory: str,
        files: Mapping[str, bytes | str],
        *,
        executable: Sequence[str] = (),
        timeout: float | None = None,
    ) -> None:
        """Write ``files`` into ``directory`` (absolute, existing) of the container.

        ``files`` maps relative names (sub-directories allowed: ``"conf/app.toml"``) to
        contents (``str`` is UTF-8), checked like ``BuildContext.files``: an absolute name,
        ``..`` or an empty name raises :class:`InvalidConfigError` before anything runs.
        The tar is made in memory and streamed to the CLI: nothing is written on the host.

        Files are owned by root (uid/gid 0), mode 0644 (0755 for the names in
        ``executable``), with the current time as mtime; missing sub-directories are
        created (root, 0755); existing files are replaced and existing directories keep
        their mode and owner. Works on stopped containers too.

        Raises:
            ContainerNotFoundError: No such container.
            ContainerPathError: ``directory`` is missing or not a directory.
        """
        checked, names = _put(files, executable)
        self._put_files(
            v.check_reference("container", container),
            v.check_container_path("directory", directory),
            checked,
            names,
            v.check_optional_timeout("timeout", timeout),
        )

    def get_file(self, container: str, path: str, *, timeout: float | None = None) -> bytes:
        """The content of the file at ``path`` (absolute) in the container, read in memory.

        A symbolic link is followed the way the container itself sees it (an absolute
        target or ``..`` never leaves the container's root filesystem).

        Raises:
            ContainerNotFoundError: No such container.
            ContainerPathError: ``path`` is missing, a directory, or a link to nothing.
        """
        return self._get_file(
            v.check_reference("container", container),
            v.check_container_path("path", path),
            v.check_optional_timeout("timeout", timeout),
        )

    def copy_to(
        self,
        container: str,
        source: str | os.PathLike[str],
        destination: str,
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy a host file or directory into the container, as ``docker cp`` does.

        ``destination`` (absolute): an existing directory receives ``source`` under its
        own name; otherwise ``source`` is copied to that path (its parent must exist).
        The CLI streams the tree (memory does not grow with its size). A symbolic link
        given as ``source`` is followed (a symlinked dotfile arrives as its content); links
        inside a copied directory stay links. Modes are kept.

        Raises:
            InvalidConfigError: ``source`` does not exist on the host.
            ContainerNotFoundError: No such container.
            ContainerPathError: ``destination`` cannot be used in the container.
        """
        host = v.check_host_path("source", source)
        if not os.path.exists(host):
            raise InvalidConfigError("source", host, "does not exist on the host")
        self._copy_to(
            v.check_reference("container", container),
            host,
            v.check_container_path("destination", destination),
            v.check_optional_timeout("timeout", timeout),
        )

    def copy_from(
        self,
        container: str,
        source: str,
        destination: str | os.PathLike[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Copy a file or directory of the container into the host directory
        ``destination`` (which must exist), under its own name (``/etc/app`` becomes
        ``destination/app``).

        The tar is read as it streams (memory does not grow with the tree) and nothing is
        ever written outside ``destination``, whatever names or links the container holds:
        no path is followed through a symbolic link while writing, absolute names and
        ``..`` are refused, and a symbolic link is recreated only when it stays inside
        ``destination`` (relative, ``..`` only in front). Files belong to the calling user;
        modes are kept less setuid/setgid/sticky and group/other write. Devices and FIFOs
        are skipped.

        Raises:
            InvalidConfigError: ``destination`` is not an existing host directory.
            ContainerNotFoundError: No such container.
            ContainerPathError: ``source`` is missing; or, after everything else was
                copied, some entries were refused (``.refused`` says which and why).
        """
        host = v.check_host_path("destination", destination)
        if not os.path.isdir(host):
            raise InvalidConfigError("destination", host, "must be an existing host directory")
        self._copy_from(
            v.check_reference("container", container),
            v.check_container_path("source", source),
            host,
            v.check_optional_timeout("timeout", timeout),
        )

    def export(
        self,
        container: str,
        destination: str | os.PathLike[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Write the container's whole filesystem as a tar to the host file
        ``destination`` (``docker export``; ``images.import_`` reads it back).

        The file appears complete or not at all (written beside it, then renamed).
        """
        self._export(
            v.check_reference("container", container),
            v.check_output_file("destination", destination),
            v.check_optional_timeout("timeout", timeout),
        )

    # ------------------------------------------------------------------ helpers

    @contextmanager
    def running(self, config: RunConfig) -> Iterator[str]:
        """Run a container for the length of a ``with`` block, then remove it, even when the
        block raises: ``with engine.containers.running(cfg) as cid: ...``.

        The container is created, then started, so one that fails to start (or whose start
        times out) is removed too; a failed ``run`` would leave it behind. One that is already
        gone at the end (``remove=True``, or the block removed it) is not an error."""
        container_id = self.create(config)
        try:
            self.start(container_id)
            if not config.detach:
                with suppress(ContainerNotFoundError):  # remove=True: gone once it exited
                    self.wait(container_id)
            yield container_id
        finally:
            with suppress(ContainerNotFoundError):
                self.remove(container_id, force=True, volumes=True)

    # ------------------------------------------------------------------ hooks
    # Called with checked arguments only; each engine implements them.

    @abstractmethod
    def _run(self, config: RunConfig) -> str: ...

    @abstractmethod
    def _create(self, config: RunConfig) -> str: ...

    @abstractmethod
    def _start(self, container: str) -> None: ...

    @abstractmethod
    def _stop(self, container: str, timeout: int | None) -> None: ...

    @abstractmethod
    def _restart(self, container: str, timeout: int | None) -> None: ...

    @abstractmethod
    def _kill(self, container: str, signal: str | None) -> None: ...

    @abstractmethod
    def _pause(self, container: str) -> None: ...

    @abstractmethod
    def _unpause(self, container: str) -> None: ...

    @abstractmethod
    def _remove(self, container: str, force: bool, volumes: bool) -> None: ...

    @abstractmethod
    def _exists(self, container: str) -> bool: ...

    @abstractmethod
    def _inspect(self, container: str) -> ContainerInfo: ...

    @abstractmethod
    def _list(
        self, all: bool, filters: dict[str, tuple[str, ...]]
    ) -> builtins.list[ContainerInfo]: ...

    @abstractmethod
    def _logs(
        self,
        container: str,
        tail: int | None,
        since: str | None,
        timestamps: bool,
        stdout: bool,
        stderr: bool,
    ) -> bytes: ...

    @abstractmethod
    def _stream_logs(
        self,
        container: str,
        follow: bool,
        tail: int | None,
        since: str | None,
        timeout: float | None,
    ) -> LogStream:
        """The container's output as a :class:`LogStream` (see :meth:`stream_logs`); a
        missing container fails when the stream is iterated, with ContainerNotFoundError."""

    @abstractmethod
    def _exec(
        self,
        container: str,
        command: tuple[str, ...],
        environment: dict[str, str],
        working_dir: str | None,
        user: str | None,
        input: bytes | None,
        timeout: float | None,
    ) -> ExecResult: ...

    @abstractmethod
    def _wait(self, container: str, timeout: float | None) -> int: ...

    @abstractmethod
    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]: ...

    # ------------------------------------------------------------------ readiness hooks
    # Written once (core/readiness.py) on the hooks above; an engine may override them.
    # readiness (and `socket` behind it) is imported by the first wait: a script that never
    # waits does not load it.

    def _wait_for_log(self, container: str, pattern: re.Pattern[str], timeout: float) -> str:
        from .. import readiness

        return readiness.wait_for_log(self, container, pattern, timeout)

    def _wait_for_port(
        self, container: str, port: int, protocol: str, timeout: float
    ) -> PortMapping:
        from .. import readiness

        return readiness.wait_for_port(self, container, port, protocol, timeout)

    def _wait_for_healthy(self, container: str, timeout: float) -> None:
        from .. import readiness

        readiness.wait_for_healthy(self, container, timeout)

    def _connect_address(self, mapping: PortMapping) -> tuple[str, int]:
        """Where to connect to reach the published ``mapping`` from this machine (see
        :func:`readiness.connect_address`); an engine on another host overrides it."""
        from .. import readiness

        return readiness.connect_address(mapping)

    def _port_accepts(self, host: str, port: int, timeout: float) -> bool:
        """True when ``host:port`` accepts a TCP connection (within ``timeout`` seconds)."""
        from .. import readiness

        return readiness.tcp_accepts(host, port, timeout)

    def _run_health_check(
        self, container: str, info: ContainerInfo, timeout: float
    ) -> float | None:
        """For a runtime that does not run health checks by itself: run the check once,
        now, and return the seconds until the next run is due (the check's interval).
        None (the default): the runtime runs them itself, nothing to do."""
        return None

    @abstractmethod
    def _run_once(
        self, config: RunConfig, timeout: float | None, input: bytes | None
    ) -> ExecResult:
        """Run ``config`` attached in a new container removed at the end; the container's
        exit code and streams. The CLI's own failures raise; nothing is left behind."""

    @abstractmethod
    def _put_files(
        self,
        container: str,
        directory: str,
        files: dict[str, bytes],
        executable: frozenset[str],
        timeout: float | None,
    ) -> None:
        """Write ``files`` (normalised relative names) under the absolute ``directory``:
        root-owned, 0644 or 0755 for the names in ``executable``."""

    @abstractmethod
    def _get_file(self, container: str, path: str, timeout: float | None) -> bytes:
        """The bytes of the regular file at ``path`` (links followed inside the container);
        :class:`ContainerPathError` when missing or not a file."""

    @abstractmethod
    def _copy_to(
        self, container: str, source: str, destination: str, timeout: float | None
    ) -> None:
        """Copy the existing absolute host path ``source`` to ``destination``, as
        ``docker cp``."""

    @abstractmethod
    def _copy_from(
        self, container: str, source: str, destination: str, timeout: float | None
    ) -> None:
        """Copy ``source`` into the existing absolute host directory ``destination`` under
        its own name, never writing outside it; refused entries raise
        :class:`ContainerPathError` at the end."""

    @abstractmethod
    def _export(self, container: str, destination: str, timeout: float | None) -> None:
        """Write the container's filesystem as a tar to the absolute host file
        ``destination`` (complete or not at all)."""
