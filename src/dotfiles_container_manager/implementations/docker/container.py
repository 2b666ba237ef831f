"""Containers on docker (and, through :class:`PodmanContainerManager`, podman)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from ...core import validation as v
from ...core.enums import ContainerState
from ...core.exceptions import ContainerOperationError, InvalidConfigError, OutputParseError
from ...core.managers.container import ContainerManager
from ...core.types import ContainerInfo, ExecResult, PortMapping, RunConfig
from ..cli import parsing as p
from ..cli.command import CommandResult
from ..cli.manager import CLIManager
from .utils import command_args, filter_args, format_env_vars, private_tempdir, run_args

__all__ = ["DockerContainerManager"]

_Err = ContainerOperationError
# "0.0.0.0:18080->80/tcp", "[::]:18080->80/tcp", "127.0.0.1:32768->81/udp", "80/tcp"
_PS_PORT = re.compile(r"^(?:\[?([0-9a-fA-F:.]*)\]?:(\d+)->)?(\d+)(?:-\d+)?/(\w+)$")
_EXITED = re.compile(r"^Exited \((-?\d+)\)")
_ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104  (a value we read, not a bind)
_NOT_FOUND_EXEC = re.compile(r"executable file not found|no such file or directory", re.I)


def _port(container_port: int, host_port: Any, protocol: Any, host_ip: Any) -> PortMapping | None:
    """The mapping, or None when the values read are not a valid one (bad port, IP...)."""
    # Normalised to hashable values first: the JSON may hold anything there.
    return _cached_port(container_port, p.as_int(host_port), p.as_str(protocol), p.as_str(host_ip))


@lru_cache(maxsize=1024)
def _cached_port(
    container_port: int, host_port: int | None, protocol: str, ip: str
) -> PortMapping | None:
    # Cached: a listing repeats the same mappings, and PortMapping validates its address.
    try:
        return PortMapping(
            container_port=container_port,
            host_port=host_port or None,
            protocol=protocol,
            host_ip=None if ip in _ANY_ADDRESS else ip,
        )
    except InvalidConfigError:
        return None


def _unique_ports(ports: Sequence[PortMapping | None]) -> tuple[PortMapping, ...]:
    # docker publishes on 0.0.0.0 and [::] for one -p; podman reports one entry.
    unique = dict.fromkeys(m for m in ports if m is not None)
    return tuple(
        sorted(
            unique, key=lambda m: (m.container_port, m.protocol, m.host_ip or "", m.host_port or 0)
        )
    )


class DockerContainerManager(CLIManager, ContainerManager):
    """:class:`ContainerManager` over the docker CLI."""

    #: Options of ``rm`` that make ``force`` kill at once (podman also needs ``-t 0``).
    force_remove_options: tuple[str, ...] = ("-f",)

    # ------------------------------------------------------------------ lifecycle

    def _create(self, verb: list[str], config: RunConfig) -> str:
        if not isinstance(config, RunConfig):
            raise TypeError("config must be a RunConfig")
        with (
            format_env_vars(config.environment, use_file=config.env_file) as (env_args, env),
            private_tempdir() as tmp,
        ):
            # The CLI writes the id here as soon as the container exists: when the call then
            # fails (start refused, timeout, Ctrl-C), what it created is removed, not leaked.
            cidfile = os.path.join(tmp, "cid")
            args = [*verb, "--cidfile", cidfile, *run_args(config), *env_args, config.image]
            try:
                result = self._run([*args, *command_args(config)], _Err, env=env)
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
            self._run(["rm", *self.force_remove_options, container_id], _Err, check=False)

    def create(self, config: RunConfig) -> str:
        """Create a container from ``config``; return its id."""
        return self._create(["create"], config)

    def run(self, config: RunConfig) -> str:
        """Create and start a container; return its id (see the ABC for ``detach``)."""
        if not isinstance(config, RunConfig):
            raise TypeError("config must be a RunConfig")
        if config.detach:
            return self._create(["run", "-d"], config)
        # Not `start -a`: its exit status is the container's, indistinguishable from a CLI
        # failure. Start, then wait: the exit code stays available from wait()/inspect().
        container_id = self._create(["create"], config)
        self._run(["start", container_id], _Err)
        self._run(["wait", container_id], _Err)
        return container_id

    def start(self, container: str) -> None:
        """Start ``container``."""
        self._simple("start", container)

    def stop(self, container: str, timeout: int | None = None) -> None:
        """Stop ``container`` (SIGKILL after ``timeout`` seconds)."""
        v.check_reference("container", container)
        args = ["stop", *(["-t", str(int(timeout))] if timeout is not None else []), container]
        self._run(args, _Err, timeout=self._runner.timeout + (timeout or 10))

    def restart(self, container: str, timeout: int | None = None) -> None:
        """Restart ``container``."""
        v.check_reference("container", container)
        args = ["restart", *(["-t", str(int(timeout))] if timeout is not None else []), container]
        self._run(args, _Err, timeout=self._runner.timeout + (timeout or 10))

    def kill(self, container: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (default SIGKILL) to ``container``."""
        v.check_reference("container", container)
        args = ["kill"]
        if signal is not None:
            args += ["-s", v.check_reference("signal", str(signal))]
        self._run([*args, container], _Err)

    def pause(self, container: str) -> None:
        """Pause ``container``."""
        self._simple("pause", container)

    def unpause(self, container: str) -> None:
        """Unpause ``container``."""
        self._simple("unpause", container)

    def remove(self, container: str, force: bool = False, volumes: bool = False) -> None:
        """Remove ``container``; a missing one raises ContainerNotFoundError, even forced."""
        v.check_reference("container", container)
        args = ["rm", *(self.force_remove_options if force else ()), *(["-v"] if volumes else [])]
        result = self._run([*args, container], _Err)
        self._removed_something(result, f"No such container: {container}", _Err)

    def _simple(self, verb: str, container: str) -> None:
        v.check_reference("container", container)
        self._run([verb, container], _Err)

    # ------------------------------------------------------------------ queries

    def exists(self, container: str) -> bool:
        """True when ``container`` exists."""
        v.check_reference("container", container)
        return self._probe(["container", "inspect", "--format", "{{.Id}}", container], _Err)

    def inspect(self, container: str) -> ContainerInfo:
        """The record of ``container``."""
        v.check_reference("container", container)
        result = self._run(["container", "inspect", container], _Err)
        return self.from_inspect(p.first_record(result))

    def list(
        self, all: bool = False, *, filters: Mapping[str, str] | None = None
    ) -> builtins.list[ContainerInfo]:
        """Containers from one ``ps`` call (running and paused; ``all`` adds the rest)."""
        args = ["ps", "--no-trunc", "--format", "{{json .}}", *filter_args(filters)]
        result = self._run([*args, *self._list_all_args(all)], _Err)
        records = [self.from_ps(r) for r in p.load_records(result)]
        return self._keep_listed(records, all)

    def _list_all_args(self, all: bool) -> builtins.list[str]:
        return ["-a"] if all else []

    def _keep_listed(
        self, records: builtins.list[ContainerInfo], all: bool
    ) -> builtins.list[ContainerInfo]:
        return records

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
        """The container's output so far as text."""
        return self._logs(container, tail, since, timestamps, stdout, stderr).decode(
            "utf-8", errors="replace"
        )

    def logs_bytes(
        self, container: str, *, tail: int | None = None, stdout: bool = True, stderr: bool = True
    ) -> bytes:
        """The container's output so far as bytes."""
        return self._logs(container, tail, None, False, stdout, stderr)

    def _logs(
        self,
        container: str,
        tail: int | None,
        since: str | None,
        timestamps: bool,
        stdout: bool,
        stderr: bool,
    ) -> bytes:
        v.check_reference("container", container)
        args = ["logs"]
        if tail is not None:
            if isinstance(tail, bool) or not isinstance(tail, int) or tail < 0:
                raise InvalidConfigError("tail", tail, "must be an integer >= 0")
            args += ["--tail", str(tail)]
        if since is not None:
            args += ["--since", v.check_reference("since", since)]
        if timestamps:
            args.append("--timestamps")
        result = self._run([*args, container], _Err, merge_stderr=stdout and stderr)
        if stdout and stderr:
            return result.stdout
        return result.stdout if stdout else result.stderr

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
        """Run ``command`` in ``container``; a non-zero exit is a result, not an error."""
        v.check_reference("container", container)
        words = v.check_args("command", command)
        if not words:
            raise InvalidConfigError("command", command, "must not be empty")
        environment = v.check_env("environment", environment or {})
        args = ["exec"]
        if input is not None:
            args.append("-i")
        if working_dir is not None:
            args += ["-w", v.check_text("working_dir", working_dir)]
        if user is not None:
            args += ["-u", v.check_reference("user", user)]
        with format_env_vars(environment) as (env_args, env):
            result = self._run(
                [*args, *env_args, container, *words],
                _Err,
                check=False,
                env=env,
                input=input,
                timeout=timeout,
            )
        if result.returncode != 0 and self._exec_cli_failed(result):
            failure = self._runner.classify(result, _Err)
            # Only a failure the classifier recognises (missing container, not running,
            # runtime down) is the CLI's own; anything else is the command's exit status.
            if type(failure) is not _Err:
                raise failure
        return self._exec_result(result)

    def _exec_cli_failed(self, result: CommandResult) -> bool:
        """True when a non-zero exit is the CLI's own failure, not the command's exit code.

        docker reports its own errors (missing or stopped container) with exit 1 and an
        ``Error response from daemon`` line on stderr (``Error: No such container`` from
        older clients).
        """
        return result.returncode == 1 and result.stderr_text.lstrip().startswith(
            ("Error response from daemon", "Error: No such container")
        )

    def _exec_result(self, result: CommandResult) -> ExecResult:
        # docker prints OCI "cannot start" errors on stdout with 126 even when the binary is
        # missing; podman uses 127 on stderr. Report 127 + stderr on both.
        code, out, err = result.returncode, result.stdout, result.stderr
        if code == 126 and b"OCI runtime exec failed" in out:
            err, out = out + err, b""
            if _NOT_FOUND_EXEC.search(err.decode("utf-8", errors="replace")):
                code = 127
        return ExecResult(exit_code=code, stdout_bytes=out, stderr_bytes=err)

    def wait(self, container: str, *, timeout: float | None = None) -> int:
        """Wait for ``container`` to exit; return its exit code."""
        v.check_reference("container", container)
        result = self._run(["wait", container], _Err, timeout=timeout)
        lines = self._lines(result)
        code = p.as_int(lines[-1]) if lines else None
        if code is None:
            raise OutputParseError(
                "expected an exit code", output=result.stdout_text, command=result.command
            )
        return code

    def prune(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[str]:
        """Remove stopped containers; return their ids."""
        result = self._run(["container", "prune", "-f", *filter_args(filters)], _Err)
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
                        _port(
                            container_port,
                            binding.get("HostPort"),
                            protocol or "tcp",
                            binding.get("HostIp"),
                        )
                    )
        status = ContainerState.parse(p.as_str(state.get("Status")))
        exited = status in (ContainerState.EXITED, ContainerState.DEAD)
        return ContainerInfo(
            id=p.as_str(data.get("Id") or data.get("ID")),
            name=p.as_str(data.get("Name")).lstrip("/"),
            image=p.normalize_reference(data.get("ImageName") or config.get("Image")),
            state=status,
            labels=p.labels_from(config.get("Labels")),
            created=p.parse_time(data.get("Created")),
            ports=_unique_ports(ports),
            networks=tuple(sorted(p.as_dict(settings.get("Networks")))),
            exit_code=p.as_int(state.get("ExitCode")) if exited else None,
            image_id=p.full_image_id(data.get("Image")) or None,
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
                ports.append(_port(p.as_int(cport) or 0, host, proto, ip))
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
            ports=_unique_ports(ports),
            networks=tuple(sorted(networks)),
            exit_code=p.as_int(exited.group(1))
            if exited and state is ContainerState.EXITED
            else None,
            raw=data,
        )
