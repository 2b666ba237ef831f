"""Containers on docker (and, through :class:`PodmanContainerManager`, podman)."""

from __future__ import annotations

import builtins
import json
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import suppress

from ...core.enums import ContainerState
from ...core.exceptions import (
    CommandTimeoutError,
    ContainerConflictError,
    ContainerError,
    ContainerOperationError,
    InvalidConfigError,
    OutputParseError,
)
from ...core.managers.container import ContainerManager
from ...core.record import replace
from ...core.regex import Regex
from ...core.types import (
    HEALTH_STATES,
    ContainerInfo,
    ExecResult,
    HealthState,
    PortMapping,
    RunConfig,
)
from ..cli import parsing as p
from ..cli.command import CommandResult, OutputStream
from ..cli.manager import CLIManager
from .files import CLIFilesMixin
from .utils import command_args, filter_args, format_env_vars, private_tempdir, run_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ...core.base import ContainerEngine
    from ...core.streams import LogStream

__all__ = ["DockerContainerManager"]

# "0.0.0.0:18080->80/tcp", "[::]:18080->80/tcp", "127.0.0.1:32768->81/udp", "80/tcp"
_PS_PORT = Regex(r"^(?:\[?([0-9a-fA-F:.]*)\]?:(\d+)->)?(\d+)(?:-\d+)?/(\w+)$")
_EXITED = Regex(r"^Exited \((-?\d+)\)")
# `ps` Status: "Up 5 seconds (healthy)", docker's "(health: starting)", podman's "(starting)"
_PS_HEALTH = Regex(r"\((?:health: )?(starting|healthy|unhealthy)\)\s*$")
_NOT_FOUND_EXEC = Regex(r"executable file not found|no such file or directory", re.I)
_REMOVAL_IN_PROGRESS = Regex(r"removal of container \S+ is already in progress", re.I)
_REMOVAL_POLL = 0.1

#: Seconds a cleanup call (removing what a failed call made) may take, at least: never the
#: failed call's own limit, which may be what cut it short.
CLEANUP_TIMEOUT = 60.0
#: When a create/run/start is cut short, the CLI gets SIGINT and this long to stop by
#: itself before SIGKILL (see ``CommandRunner.run``).
INTERRUPT_GRACE = 5.0
_DEFAULT_STOP_TIMEOUT = 10
# An image named by its id (or an id prefix) in `run`/`create`: docker keeps that text as
# the container's image; podman keeps the reference the image carries.
_IMAGE_ID_REF = Regex(r"(?:sha256:)?([0-9a-f]{12,64})")


def ps_health(status: str) -> HealthState | None:
    """``ContainerInfo.health`` from a ``ps`` row's Status text."""
    match = _PS_HEALTH.search(status) if status.endswith(")") else None
    if match is None:
        return None
    found = match.group(1)
    for known in HEALTH_STATES:
        if found == known:
            return known
    return None


def health_state(state: Mapping[str, Any]) -> HealthState | None:
    """``ContainerInfo.health`` from an inspect document's ``State``: ``Health.Status``
    (docker, podman 4), or ``Healthcheck.Status`` (podman 3); None without a health check
    (docker: no ``Health``; podman: an empty status)."""
    for key in ("Health", "Healthcheck"):
        status = p.as_str(p.as_dict(state.get(key)).get("Status")).lower()
        for known in HEALTH_STATES:
            if status == known:
                return known
    return None


#: Every exec'd command gets this variable, set to a value unique to the call (no secret):
#: the only way to find the command again inside the container when its exec times out.
EXEC_MARKER = "DCM_EXEC_ID"
#: Seconds the exec that kills a timed-out exec's processes may take.
EXEC_KILL_TIMEOUT = 10.0
# Run in the container after an exec timed out, with "DCM_EXEC_ID=<id>" as $1: SIGKILL
# every process whose environment holds it (the command and all it started, which inherit
# it). Several passes, so that a child forked during a pass is found by the next one.
# /proc/PID/environ is NUL-separated: `grep -z` where grep has it (GNU, busybox), else `tr`.
_KILL_MARKED = (
    "if printf 'a\\0' | grep -qxzF a 2>/dev/null; then z=1; fi; "
    'marked() { if [ -n "$z" ]; then grep -qsxzF "$1" "$2"; '
    "else tr '\\0' '\\n' 2>/dev/null <\"$2\" | grep -qxF \"$1\"; fi; }; "
    'for i in 1 2 3 4 5; do found=""; for p in /proc/[0-9]*; do pid="${p#/proc/}"; '
    '[ "$pid" = 1 ] || [ "$pid" = "$$" ] && continue; '
    'if marked "$1" "$p/environ"; then kill -KILL "$pid" 2>/dev/null && found=1; fi; '
    'done; [ -n "$found" ] || break; done'
)


class DockerContainerManager(CLIManager, CLIFilesMixin, ContainerManager):
    """:class:`ContainerManager` over the docker CLI (files and one-shot runs: ``files.py``)."""

    kind = "container"
    error = ContainerOperationError
    #: Options of ``rm`` that make ``force`` kill at once (podman also needs ``-t 0``).
    force_remove_options: tuple[str, ...] = ("-f",)
    #: How the CLI's own messages start (on stderr): "Error…", and the words of an
    #: unreachable daemon (the classifier's `unavailable` patterns).
    cli_error_start: Regex = Regex(
        r"error|cannot connect to the docker daemon|permission denied while trying to connect"
        r"|failed to initialize",
        re.IGNORECASE,
    )
    #: The engine these containers run on, set by the engine: where it is decides what a
    #: bind source names (a remote engine refuses one relative to this machine's working
    #: directory) and where a published port is reached (``wait_for_port``).
    engine: ContainerEngine | None = None

    def _connect_address(self, mapping: PortMapping) -> tuple[str, int]:
        """Where a published port is reached from here: the engine's
        :meth:`~ContainerEngine.address_for` (the engine's host for ``ssh://`` and
        ``tcp://`` engines)."""
        if self.engine is None or mapping.host_port is None:
            return super()._connect_address(mapping)
        return self.engine.address_for(mapping), mapping.host_port

    # ------------------------------------------------------------------ lifecycle

    def _create_with(self, verb: list[str], config: RunConfig) -> str:
        if self.engine is not None and self.engine.is_remote:
            for mount in config.volumes:
                if mount.relative_source:
                    raise InvalidConfigError(
                        "VolumeMount.source",
                        mount.source,
                        f"was given relative to this machine's working directory, but the "
                        f"engine at {self.engine.host} is on another host: give an absolute "
                        "path on that host",
                    )
        with (
            format_env_vars(config.environment, use_file=config.env_file) as (env_args, env),
            private_tempdir() as tmp,
        ):
            # The CLI writes the id here as soon as the container exists: when the call then
            # fails (start refused, timeout, Ctrl-C), what it created is removed, not leaked.
            cidfile = os.path.join(tmp, "cid")
            args = [*verb, "--cidfile", cidfile, *run_args(config), *env_args, config.image]
            try:
                # Cut short, the CLI first gets SIGINT and a grace to stop where it can
                # (podman killed mid-create can leave its conmon behind).
                result = self._call(
                    [*args, *command_args(config)], env=env, interrupt_grace=INTERRUPT_GRACE
                )
            except BaseException:
                self._remove_created(cidfile)
                raise
        lines = self._lines(result)
        if not lines or not p.is_full_id(lines[-1]):
            raise OutputParseError(
                "expected a container id", output=result.stdout_text, command=result.command
            )
        return lines[-1]

    def _remove_created(self, cidfile: str) -> None:
        try:
            with open(cidfile, encoding="ascii") as handle:
                container_id = handle.read().strip()
        except OSError:
            return  # nothing was created
        if p.is_full_id(container_id):
            self._discard(container_id)

    def _discard(self, container_id: str) -> None:
        """Remove a container this call made before it failed; never raises a ContainerError
        (the call's own error is the one that matters). It runs under its own limit, not
        the failed call's: a cleanup killed mid-way is what leaves things behind."""
        with suppress(ContainerError):
            self._force_remove(container_id, volumes=True, timeout=self._cleanup_timeout())

    def _cleanup_timeout(self) -> float:
        return max(self._runner.timeout, CLEANUP_TIMEOUT)

    def _create(self, config: RunConfig) -> str:
        return self._create_with(["create"], config)

    def _run(self, config: RunConfig) -> str:
        if config.detach:
            return self._create_with(["run", "-d"], config)
        # Not `start -a`: its exit status is the container's, indistinguishable from a CLI
        # failure. Start, then wait: the exit code stays available from wait()/inspect().
        container_id = self._create_with(["create"], config)
        try:
            self._call(["start", container_id], interrupt_grace=INTERRUPT_GRACE)
            self._call(["wait", container_id])
        except BaseException:
            # A run that did not complete (the command cannot start, the limit passed,
            # Ctrl-C) leaves nothing: its container is killed and removed.
            self._discard(container_id)
            raise
        return container_id

    def _start(self, container: str) -> None:
        self._call(["start", container])

    def _stop(self, container: str, timeout: int | None) -> None:
        self._stop_verb("stop", container, timeout)

    def _restart(self, container: str, timeout: int | None) -> None:
        self._stop_verb("restart", container, timeout)

    def _stop_verb(self, verb: str, container: str, timeout: int | None) -> None:
        # The CLI waits up to `timeout` (by default the container's own stop timeout) before
        # it kills the container: the call's own limit must leave room for that wait.
        wait = timeout if timeout is not None else self._stop_timeout_of(container)
        args = [verb, *(["-t", str(timeout)] if timeout is not None else []), container]
        self._call(args, timeout=self._runner.timeout + wait)

    def _stop_timeout_of(self, container: str) -> int:
        """The container's own stop timeout (``RunConfig.stop_timeout``), else the CLI's
        default of 10 s: read only when the caller gave none."""
        result = self._call(["inspect", "--format", "{{json .Config.StopTimeout}}", container])
        value = p.as_int(result.stdout_text.strip())
        return value if value is not None and value >= 0 else _DEFAULT_STOP_TIMEOUT

    def _kill(self, container: str, signal: str | None) -> None:
        self._call(["kill", *(["-s", signal] if signal is not None else []), container])

    def _pause(self, container: str) -> None:
        self._call(["pause", container])

    def _unpause(self, container: str) -> None:
        self._call(["unpause", container])

    def _remove(self, container: str, force: bool, volumes: bool) -> None:
        if force:
            self._force_remove(container, volumes=volumes, timeout=None)
            return
        result = self._call(["rm", *(["-v"] if volumes else []), container])
        self._removed_something(result, f"No such container: {container}")

    def _force_remove(self, container: str, *, volumes: bool, timeout: float | None) -> None:
        """``rm -f``. A removal the daemon is already doing (a cut-short call's cleanup, or
        another client's) is waited for, not reported as a failure."""
        self._before_force_remove(container, timeout)
        args = ["rm", *self.force_remove_options, *(["-v"] if volumes else []), container]
        try:
            result = self._call(args, timeout=timeout)
        except ContainerError as exc:
            if not _REMOVAL_IN_PROGRESS.search(str(exc)):
                raise
            self._await_removal(container, timeout, exc)
            return
        self._removed_something(result, f"No such container: {container}")

    def _before_force_remove(self, container: str, timeout: float | None) -> None:
        """Hook run before ``rm -f`` (podman stops the container first)."""

    def _await_removal(
        self, container: str, timeout: float | None, failure: ContainerError
    ) -> None:
        """Wait until ``container`` is gone (another ``rm`` is removing it); ``failure`` is
        raised if it is still there when the limit passes."""
        deadline = time.monotonic() + (timeout or self._cleanup_timeout())
        while self._exists(container):
            if time.monotonic() >= deadline:
                raise failure
            time.sleep(_REMOVAL_POLL)

    # ------------------------------------------------------------------ queries

    def _inspect(self, container: str) -> ContainerInfo:
        return self._images_named([self.from_inspect(self._inspect_record(container))])[0]

    def _images_named(self, records: builtins.list[ContainerInfo]) -> builtins.list[ContainerInfo]:
        """Records whose ``image`` is an image id (the container was created from one) get
        the reference the image carries, its first tag, as podman reports it.

        One ``image inspect`` for all of them, and only when there are any; an image without
        a tag (or gone) keeps the id.
        """
        by_id = {r.image: m.group(1) for r in records if (m := _IMAGE_ID_REF.fullmatch(r.image))}
        if not by_id:
            return records
        result = self._call(
            ["image", "inspect", "--format", "{{.Id}} {{json .RepoTags}}", *by_id.values()],
            check=False,
        )
        tags: dict[str, str] = {}
        for line in result.stdout_text.splitlines():
            image_id, _, names = line.partition(" ")
            try:
                first = next(iter(p.as_list(json.loads(names))), None)
            except ValueError:
                continue
            if first:
                tags[image_id.removeprefix("sha256:")] = p.normalize_reference(first)
        named = {}
        for shown, prefix in by_id.items():
            for image_id, tag in tags.items():
                if image_id.startswith(prefix):
                    named[shown] = tag
        return [replace(r, image=named[r.image]) if r.image in named else r for r in records]

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ContainerInfo]:
        args = ["ps", "--no-trunc", "--format", "{{json .}}", *filter_args(filters)]
        result = self._call([*args, *self._list_all_args(all)])
        records = [self.from_ps(r) for r in p.load_records(result)]
        return self._keep_listed(self._images_named(records), all, filters)

    def _list_all_args(self, all: bool) -> builtins.list[str]:
        return ["-a"] if all else []

    def _keep_listed(
        self,
        records: builtins.list[ContainerInfo],
        all: bool,
        filters: dict[str, tuple[str, ...]],
    ) -> builtins.list[ContainerInfo]:
        return records

    def _logs(
        self,
        container: str,
        tail: int | None,
        since: str | None,
        timestamps: bool,
        stdout: bool,
        stderr: bool,
    ) -> bytes:
        args = ["logs"]
        if tail is not None:
            args += ["--tail", str(tail)]
        if since is not None:
            args += ["--since", since]
        if timestamps:
            args.append("--timestamps")
        result = self._call([*args, container], merge_stderr=stdout and stderr)
        if stdout and stderr:
            return result.stdout
        if stdout:
            return result.stdout
        return result.stderr if stderr else b""

    def _stream_logs(
        self,
        container: str,
        follow: bool,
        tail: int | None,
        since: str | None,
        timeout: float | None,
    ) -> LogStream:
        # One `logs` process, its two pipes kept apart: each line comes out labelled with
        # the pipe the container wrote it to. Nothing is checked first (no extra call before
        # the first line): a missing container makes `logs` fail at once, and the stream
        # raises the classified ContainerNotFoundError.
        args = ["logs"]
        if follow:
            args.append("--follow")
        if tail is not None:
            args += ["--tail", str(tail)]
        if since is not None:
            args += ["--since", since]
        stream = self._runner.stream([*args, container], error=self.error, timeout=timeout)
        from ...core.streams import LogStream  # loaded by the first stream, not at import

        return LogStream(self._container_lines(stream), close=stream.close)

    def _container_lines(self, stream: OutputStream[str]) -> Iterator[tuple[str, str]]:
        """The stream's lines without the CLI's own error message.

        When ``logs`` fails at once (missing container, unreachable daemon), its messages are
        the only lines, on stderr, and must not pass for the container's output (a
        ``wait_for_log`` pattern could match them). So leading stderr lines that start like
        the CLI's messages (``cli_error_start``) are held until a line that does not comes
        (then they were the container's, and come out first, in order) or the process ends:
        exit 0, they were the container's; else they are dropped and the classified error
        is raised (it carries them in ``.stderr``).
        """
        held: list[tuple[str, str]] = []
        for item in stream:  # raises the classified error if `logs` failed
            if item[0] == "stderr" and self.cli_error_start.match(item[1]):
                held.append(item)
                continue
            yield from held
            yield item
            break
        else:
            yield from held  # `logs` ended well: they were the container's
            return
        yield from stream

    def _exec(
        self,
        container: str,
        command: tuple[str, ...],
        environment: dict[str, str],
        working_dir: str | None,
        user: str | None,
        input: bytes | None,
        timeout: float | None,
    ) -> ExecResult:
        args = ["exec"]
        if input is not None:
            args.append("-i")
        if working_dir is not None:
            args += ["-w", working_dir]
        if user is not None:
            args += ["-u", user]
        marker = f"{EXEC_MARKER}={os.urandom(16).hex()}"  # last: it wins over a caller's own
        with format_env_vars(environment) as (env_args, env):
            try:
                result = self._call(
                    [*args, *env_args, "-e", marker, container, *command],
                    check=False,
                    env=env,
                    input=input,
                    timeout=timeout,
                )
            except CommandTimeoutError:
                self._kill_timed_out_exec(container, marker, user)
                raise
        if result.returncode != 0 and self._exec_cli_failed(result):
            self._raise_unless_running(container, result)
        return self._exec_result(result, user)

    def _raise_unless_running(self, container: str, result: CommandResult) -> None:
        """Raise the CLI's own failure of an exec, decided from the container's state.

        The exit code the CLI uses for its own errors (docker: 1; podman: 125, 255) may also
        be the command's, and the command may print the same words. One ``inspect``, on this
        path only, decides: a container that is missing or not running is the CLI's failure;
        a running one means the command ran and this is its exit status.
        """
        state = self._call(
            ["inspect", "--type", "container", "--format", "{{.State.Status}}", container],
            check=False,
        )
        if state.returncode != 0:
            raise self._runner.classify(state, self.error)
        status = ContainerState.parse(state.stdout_text.strip())
        if status is ContainerState.RUNNING:
            return
        failure = self._runner.classify(result, self.error)
        if not isinstance(failure, ContainerConflictError):
            failure = ContainerConflictError(
                f"container {container} is {status.value}: {failure}",
                command=result.command,
                exit_code=result.returncode,
                stderr=result.stderr_text,
            )
        raise failure

    def _kill_timed_out_exec(self, container: str, marker: str, user: str | None) -> None:
        """Neither CLI can end an exec session: killing the ``exec`` CLI leaves its command
        running in the container. One more exec, as the same user, SIGKILLs every process
        carrying the timed-out call's ``marker``. Best effort: nothing is raised (the image
        may have no ``sh``, ``grep`` or ``kill``; the container may be gone or paused)."""
        args = ["exec", *(["-u", user] if user is not None else []), container]
        with suppress(ContainerError):
            self._call(
                [*args, "sh", "-c", _KILL_MARKED, "sh", marker],
                check=False,
                timeout=EXEC_KILL_TIMEOUT,
            )

    def _exec_cli_failed(self, result: CommandResult) -> bool:
        """True when a non-zero exit is the CLI's own failure, not the command's exit code.

        docker reports its own errors (missing or stopped container) with exit 1 and an
        ``Error response from daemon`` line on stderr (``Error: No such container`` from
        older clients).
        """
        return result.returncode == 1 and result.stderr_text.lstrip().startswith(
            ("Error response from daemon", "Error: No such container")
        )

    def _exec_result(self, result: CommandResult, user: str | None) -> ExecResult:
        # docker reports an exec it could not start (missing binary, missing user) with 126
        # and the daemon's message on stdout; podman uses 127 (missing binary) or 255
        # (missing user) with the message on stderr. Report 127 / 126 + stderr on both.
        code, out, err = result.returncode, result.stdout, result.stderr
        if code == 126 and not err and self._daemon_exec_error(out):
            err, out = out, b""
            if _NOT_FOUND_EXEC.search(err.decode("utf-8", errors="replace")):
                code = 127
        return ExecResult(exit_code=code, stdout_bytes=out, stderr_bytes=err)

    @staticmethod
    def _daemon_exec_error(out: bytes) -> bool:
        """True when stdout is the daemon's own report of an exec it could not start.

        The container is running either way, so its state cannot tell; what tells is the
        framing: the API server writes its error as the stream's only line, ended by CRLF,
        before any output of the command (which never ran). A command that prints the same
        words with a plain newline, or anything else besides, keeps its own result.
        """
        return out.endswith(b"\r\n") and out.count(b"\n") == 1 and not out.startswith(b"\r")

    def _wait(self, container: str, timeout: float | None) -> int:
        result = self._call(["wait", container], timeout=timeout)
        lines = self._lines(result)
        code = p.as_int(lines[-1]) if lines else None
        if code is None:
            raise OutputParseError(
                "expected an exit code", output=result.stdout_text, command=result.command
            )
        return code

    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        result = self._call(["container", "prune", "-f", *filter_args(filters)])
        return [ln for ln in self._lines(result) if p.is_full_id(ln)]

    # ------------------------------------------------------------------ parsers

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> ContainerInfo:
        """A :class:`ContainerInfo` from one ``container inspect`` object."""
        state = p.as_dict(data.get("State"))
        config = p.as_dict(data.get("Config"))
        settings = p.as_dict(data.get("NetworkSettings"))
        ports: list[PortMapping | None] = []
        for key, bindings in p.as_dict(settings.get("Ports")).items():
            number, _, protocol = key.partition("/")
            container_port = p.as_int(number)
            for binding in p.as_list(bindings):
                binding = p.as_dict(binding)
                if container_port and binding.get("HostPort"):
                    ports.append(
                        p.port_mapping(
                            container_port,
                            binding.get("HostPort"),
                            protocol or "tcp",
                            binding.get("HostIp"),
                        )
                    )
        status = ContainerState.parse(p.as_str(state.get("Status")))
        exited = status in (ContainerState.EXITED, ContainerState.DEAD)
        return ContainerInfo(
            id=p.as_str(data.get("Id")),
            name=p.as_str(data.get("Name")).lstrip("/"),
            image=p.normalize_reference(config.get("Image")),
            state=status,
            labels=p.labels_from(config.get("Labels")),
            created=p.parse_time(data.get("Created")),
            ports=p.unique_ports(ports),
            networks=tuple(sorted(p.as_dict(settings.get("Networks")))),
            exit_code=p.as_int(state.get("ExitCode")) if exited else None,
            image_id=p.full_image_id(data.get("Image")) or None,
            health=health_state(state),
            raw=data,
        )

    @staticmethod
    def from_ps(data: Mapping[str, Any]) -> ContainerInfo:
        """A :class:`ContainerInfo` from one docker ``ps --format '{{json .}}'`` row."""
        ports = []
        for item in p.as_str(data.get("Ports")).split(","):
            match = _PS_PORT.match(item.strip())
            if match and match.group(2):
                ip, host, cport, proto = match.groups()
                ports.append(p.port_mapping(p.as_int(cport) or 0, host, proto, ip))
        state = ContainerState.parse(p.as_str(data.get("State")))
        exited = _EXITED.match(p.as_str(data.get("Status")))
        networks = [n for n in p.as_str(data.get("Networks")).split(",") if n]
        return ContainerInfo(
            id=p.as_str(data.get("ID")),
            name=p.as_str(data.get("Names")).split(",")[0],
            image=p.normalize_reference(data.get("Image")),
            state=state,
            labels=p.labels_from(data.get("Labels")),
            created=p.parse_time(data.get("CreatedAt")),
            ports=p.unique_ports(ports),
            networks=tuple(sorted(networks)),
            exit_code=p.as_int(exited.group(1))
            if exited and state is ContainerState.EXITED
            else None,
            health=ps_health(p.as_str(data.get("Status"))),
            raw=data,
        )
