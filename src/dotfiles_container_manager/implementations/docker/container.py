"""Containers on docker (and, through :class:`PodmanContainerManager`, podman)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping
from typing import Any

from ...core.enums import ContainerState
from ...core.exceptions import ContainerOperationError, OutputParseError
from ...core.managers.container import ContainerManager
from ...core.types import ContainerInfo, ExecResult, PortMapping, RunConfig
from ..cli import parsing as p
from ..cli.command import CommandResult
from ..cli.manager import CLIManager
from .files import CLIFilesMixin
from .utils import command_args, filter_args, format_env_vars, private_tempdir, run_args

__all__ = ["DockerContainerManager"]

# "0.0.0.0:18080->80/tcp", "[::]:18080->80/tcp", "127.0.0.1:32768->81/udp", "80/tcp"
_PS_PORT = re.compile(r"^(?:\[?([0-9a-fA-F:.]*)\]?:(\d+)->)?(\d+)(?:-\d+)?/(\w+)$")
_EXITED = re.compile(r"^Exited \((-?\d+)\)")
_NOT_FOUND_EXEC = re.compile(r"executable file not found|no such file or directory", re.I)


class DockerContainerManager(CLIManager, CLIFilesMixin, ContainerManager):
    """:class:`ContainerManager` over the docker CLI (files and one-shot runs: ``files.py``)."""

    kind = "container"
    error = ContainerOperationError
    #: Options of ``rm`` that make ``force`` kill at once (podman also needs ``-t 0``).
    force_remove_options: tuple[str, ...] = ("-f",)

    # ------------------------------------------------------------------ lifecycle

    def _create_with(self, verb: list[str], config: RunConfig) -> str:
        with (
            format_env_vars(config.environment, use_file=config.env_file) as (env_args, env),
            private_tempdir() as tmp,
        ):
            # The CLI writes the id here as soon as the container exists: when the call then
            # fails (start refused, timeout, Ctrl-C), what it created is removed, not leaked.
            cidfile = os.path.join(tmp, "cid")
            args = [*verb, "--cidfile", cidfile, *run_args(config), *env_args, config.image]
            try:
                result = self._call([*args, *command_args(config)], env=env)
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
            self._call(["rm", *self.force_remove_options, container_id], check=False)

    def _create(self, config: RunConfig) -> str:
        return self._create_with(["create"], config)

    def _run(self, config: RunConfig) -> str:
        if config.detach:
            return self._create_with(["run", "-d"], config)
        # Not `start -a`: its exit status is the container's, indistinguishable from a CLI
        # failure. Start, then wait: the exit code stays available from wait()/inspect().
        container_id = self._create_with(["create"], config)
        self._call(["start", container_id])
        self._call(["wait", container_id])
        return container_id

    def _start(self, container: str) -> None:
        self._call(["start", container])

    def _stop(self, container: str, timeout: int | None) -> None:
        self._stop_verb("stop", container, timeout)

    def _restart(self, container: str, timeout: int | None) -> None:
        self._stop_verb("restart", container, timeout)

    def _stop_verb(self, verb: str, container: str, timeout: int | None) -> None:
        # The CLI waits up to `timeout` for the container before it kills it: the call's own
        # limit must leave room for that wait.
        args = [verb, *(["-t", str(timeout)] if timeout is not None else []), container]
        self._call(args, timeout=self._runner.timeout + (timeout or 10))

    def _kill(self, container: str, signal: str | None) -> None:
        self._call(["kill", *(["-s", signal] if signal is not None else []), container])

    def _pause(self, container: str) -> None:
        self._call(["pause", container])

    def _unpause(self, container: str) -> None:
        self._call(["unpause", container])

    def _remove(self, container: str, force: bool, volumes: bool) -> None:
        args = ["rm", *(self.force_remove_options if force else ()), *(["-v"] if volumes else [])]
        result = self._call([*args, container])
        self._removed_something(result, f"No such container: {container}")

    # ------------------------------------------------------------------ queries

    def _inspect(self, container: str) -> ContainerInfo:
        return self.from_inspect(self._inspect_record(container))

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ContainerInfo]:
        args = ["ps", "--no-trunc", "--format", "{{json .}}", *filter_args(filters)]
        result = self._call([*args, *self._list_all_args(all)])
        records = [self.from_ps(r) for r in p.load_records(result)]
        return self._keep_listed(records, all)

    def _list_all_args(self, all: bool) -> builtins.list[str]:
        return ["-a"] if all else []

    def _keep_listed(
        self, records: builtins.list[ContainerInfo], all: bool
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
        with format_env_vars(environment) as (env_args, env):
            result = self._call(
                [*args, *env_args, container, *command],
                check=False,
                env=env,
                input=input,
                timeout=timeout,
            )
        if result.returncode != 0 and self._exec_cli_failed(result):
            failure = self._runner.classify(result, self.error)
            # Only a failure the classifier recognises (missing container, not running,
            # runtime down) is the CLI's own; anything else is the command's exit status.
            if type(failure) is not self.error:
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
            raw=data,
        )
