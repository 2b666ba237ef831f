"""Containers in memory: the state machine docker and podman show through this library.

``created → running ⇄ paused``, ``running → exited`` (stop, kill, a process that ends),
``exited → running`` (start, restart). Where the two runtimes differ (a paused container's
stop and restart, when host ports are assigned, a network that does not exist yet) the
fake follows its ``runtime``.
"""

from __future__ import annotations

import builtins
import ipaddress
import os
import signal as signals
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ..core.enums import ContainerState, PullPolicy
from ..core.exceptions import (
    CommandTimeoutError,
    ContainerConflictError,
    ContainerOperationError,
    ImageNotFoundError,
    NetworkNotFoundError,
)
from ..core.managers.container import ContainerManager
from ..core.streams import LogStream
from ..core.types import ContainerInfo, ExecResult, PortMapping, RunConfig
from ..implementations.cli.parsing import normalize_reference
from ._behaviour import exec_result, main_for
from ._filters import label_match, name_match, select
from ._model import Container, ExecCall, Image, Network, Volume
from ._store import DEFAULT_TIMEOUT, Store, parse_since
from .files import FakeFilesMixin

__all__ = ["FakeContainerManager"]

_RUNNING, _PAUSED, _CREATED = ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.CREATED
_EXITED, _RESTARTING = ContainerState.EXITED, ContainerState.RESTARTING
_LISTED = frozenset({_RUNNING, _PAUSED, _RESTARTING})
_ACTIVE = _LISTED
_STOPPED = frozenset({_CREATED, _EXITED, ContainerState.DEAD})
_STATES = frozenset(s.value for s in ContainerState if s is not ContainerState.UNKNOWN)
_SIGNALS = {s.name.removeprefix("SIG"): int(s) for s in signals.Signals if s.name.startswith("SIG")}
_DOCKER_KEYS = frozenset(
    {
        "ancestor", "before", "expose", "exited", "health", "id", "isolation", "is-task",
        "label", "name", "network", "publish", "since", "status", "volume",
    }
)  # fmt: skip
_PODMAN_KEYS = frozenset(
    {
        "ancestor", "before", "command", "exited", "health", "id", "label", "name",
        "network", "pod", "publish", "restart-policy", "since", "status", "until", "volume",
    }
)  # fmt: skip
_PRUNE_KEYS = frozenset({"label", "until"})
_ZERO_TIME = "0001-01-01T00:00:00Z"
_PODMAN_MODES = frozenset({"host", "none", "private", "slirp4netns", "pasta"})


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else _ZERO_TIME


def _stamp(ns: int) -> bytes:
    moment = datetime.fromtimestamp(ns // 1_000_000_000, timezone.utc)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ns % 1_000_000_000:09d}Z ".encode()


def _overlaps(a: PortMapping, b: PortMapping) -> bool:
    return (
        a.host_port == b.host_port
        and a.protocol == b.protocol
        and (a.host_ip is None or b.host_ip is None or a.host_ip == b.host_ip)
    )


class FakeContainerManager(FakeFilesMixin, ContainerManager):
    """:class:`ContainerManager` in memory (see :class:`~.engine.FakeEngine`)."""

    def __init__(self, store: Store) -> None:
        self._s = store

    # ------------------------------------------------------------------ lifecycle hooks

    def _create(self, config: RunConfig) -> str:
        s = self._s
        with s.lock:
            s.record("containers", "create", {"config": config})
            return self._make(config, ["create", config.image]).id

    def _run(self, config: RunConfig) -> str:
        s = self._s
        with s.lock:
            s.record("containers", "run", {"config": config})
            argv = ["run", "-d", config.image] if config.detach else ["run", config.image]
            container = self._make(config, argv)
            try:
                self._launch(container, argv)
            except BaseException:
                self._delete(container, volumes=True)
                raise
            if not config.detach and container.state is _RUNNING:
                self._wait_for(container, None, ["wait", container.id])
            return container.id

    def _start(self, container: str) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "start", {"container": container})
            argv = ["start", container]
            c = s.container(container, argv)
            if c.state in _STOPPED:
                self._launch(c, argv)
            elif c.state is _PAUSED:
                raise s.error(
                    ContainerConflictError,
                    f'unable to start container "{c.id}": container {c.id} is paused: '
                    "container state improper"
                    if s.podman
                    else "cannot start a paused container, try unpause instead",
                    argv,
                )

    def _stop(self, container: str, timeout: int | None) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "stop", {"container": container, "timeout": timeout})
            argv = ["stop", container]
            self._terminate(s.container(container, argv), argv)

    def _restart(self, container: str, timeout: int | None) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "restart", {"container": container, "timeout": timeout})
            argv = ["restart", container]
            c = s.container(container, argv)
            self._terminate(c, argv)
            if c.id in s.containers:  # not removed by --rm
                self._launch(c, argv)

    def _kill(self, container: str, signal: str | None) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "kill", {"container": container, "signal": signal})
            argv = ["kill", container] if signal is None else ["kill", "-s", signal, container]
            c = s.container(container, argv)
            number = self._signal(signal, argv)
            if c.state not in (_RUNNING, _PAUSED):
                raise s.error(
                    ContainerConflictError,
                    f"can only kill running containers. {c.id} is in state {c.state.value}: "
                    "container state improper"
                    if s.podman
                    else f"Cannot kill container: {container}: Container {c.id} is not running",
                    argv,
                )
            if number == signals.SIGKILL:
                self._exit(c, 137)
            elif number == signals.SIGTERM and c.state is _RUNNING:
                code = c.main.sigterm_exit_code
                if code is not None:
                    self._exit(c, code)
            # Any other signal: ignored, as by a PID 1 that installs no handler for it.

    def _pause(self, container: str) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "pause", {"container": container})
            argv = ["pause", container]
            c = s.container(container, argv)
            if c.state is not _RUNNING:
                paused = c.state is _PAUSED
                raise s.error(
                    ContainerConflictError,
                    (
                        f'"{c.id}" is already paused'
                        if paused
                        else f'"{c.state.value}" is not running, can\'t pause'
                    )
                    + ": container state improper"
                    if s.podman
                    else f"Container {c.id} is {'already paused' if paused else 'not running'}",
                    argv,
                )
            c.state = _PAUSED
            c.info = c.list_info = None

    def _unpause(self, container: str) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "unpause", {"container": container})
            argv = ["unpause", container]
            c = s.container(container, argv)
            if c.state is not _PAUSED:
                raise s.error(
                    ContainerConflictError,
                    f'"{c.id}" is not paused, can\'t unpause: container state improper'
                    if s.podman
                    else f"Container {c.id} is not paused",
                    argv,
                )
            c.state = _RUNNING
            c.info = c.list_info = None

    def _remove(self, container: str, force: bool, volumes: bool) -> None:
        s = self._s
        with s.lock:
            s.record(
                "containers", "remove", {"container": container, "force": force, "volumes": volumes}
            )
            argv = ["rm", *(["-f"] if force else []), *(["-v"] if volumes else []), container]
            c = s.container(container, argv, podman_code=1)
            if c.state in _ACTIVE and not force:
                paused = c.state is _PAUSED
                raise s.error(
                    ContainerConflictError,
                    f"cannot remove container {c.id} as it is {c.state.value} - running or "
                    "paused containers cannot be removed without force: container state improper"
                    if s.podman
                    else f"You cannot remove a {'paused' if paused else 'running'} container "
                    f"{c.id}. "
                    + (
                        "Unpause and then stop the container before attempting removal or "
                        "force remove"
                        if paused
                        else "Stop the container before attempting removal or force remove"
                    ),
                    argv,
                    podman_code=2,
                )
            self._delete(c, volumes=volumes)

    # ------------------------------------------------------------------ query hooks

    def _exists(self, container: str) -> bool:
        s = self._s
        with s.lock:
            s.record("containers", "exists", {"container": container})
            return s.find_container(container) is not None

    def _inspect(self, container: str) -> ContainerInfo:
        s = self._s
        with s.lock:
            s.record("containers", "inspect", {"container": container})
            c = s.container(container, ["container", "inspect", container])
            if c.info is None:
                c.info = self._record(c, inspect=True)
            return c.info

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ContainerInfo]:
        s = self._s
        with s.lock:
            s.record("containers", "list", {"all": all, "filters": filters})
            items: Any = s.containers.values()
            if not s.podman:
                items = reversed(list(items))  # docker lists the newest first
            # A status filter shows stopped containers too (docker's ps does; on podman the
            # library lists with -a and filters itself).
            everything = all or "status" in filters
            if not everything:
                items = [c for c in items if c.state in _LISTED]
            if filters:
                items = self._filter(items, filters, ["ps", "--filter", "..."])
            out = []
            for c in items:
                record = c.list_info
                if record is None:
                    record = c.list_info = self._record(c, inspect=False)
                out.append(record)
            return out

    def _logs(
        self,
        container: str,
        tail: int | None,
        since: str | None,
        timestamps: bool,
        stdout: bool,
        stderr: bool,
    ) -> bytes:
        s = self._s
        with s.lock:
            s.record(
                "containers",
                "logs",
                {
                    "container": container,
                    "tail": tail,
                    "since": since,
                    "timestamps": timestamps,
                    "stdout": stdout,
                    "stderr": stderr,
                },
            )
            argv = ["logs", container]
            c = s.container(container, argv)
            if not (stdout or stderr):
                return b""
            after = 0
            if since is not None:
                moment = parse_since(since, time.time())
                if moment is None:
                    raise s.error(
                        ContainerOperationError,
                        f'invalid value for "since": could not parse "{since}" as a '
                        "timestamp or a duration",
                        argv,
                    )
                after = int(moment * 1_000_000_000)
            streams = {1} if not stderr else {2} if not stdout else {1, 2}
            lines: list[tuple[int, bytes]] = []
            for when, stream, data in c.logs:
                if stream in streams and when >= after:
                    lines.extend((when, line) for line in data.splitlines(keepends=True))
        if tail is not None:
            lines = lines[len(lines) - tail :] if tail else []
        if timestamps:
            return b"".join(_stamp(when) + line for when, line in lines)
        return b"".join(line for _, line in lines)

    def _stream_logs(
        self,
        container: str,
        follow: bool,
        tail: int | None,
        since: str | None,
        timeout: float | None,
    ) -> LogStream:
        # What the container wrote so far, labelled, as `logs --follow` would give it; time
        # does not pass in the fake, so a followed stream ends with what is there now.
        # A missing container raises at the first line read, as the CLI's stream does.
        def lines() -> Iterator[tuple[str, str]]:
            s = self._s
            with s.lock:
                s.record(
                    "containers",
                    "stream_logs",
                    {"container": container, "follow": follow, "tail": tail, "since": since},
                )
                c = s.container(container, ["logs", container])
                found = [
                    ("stdout" if stream == 1 else "stderr", line)
                    for _, stream, data in c.logs
                    for line in data.decode("utf-8", errors="replace").splitlines()
                ]
            if tail is not None:
                found = found[len(found) - tail :] if tail else []
            yield from found

        return LogStream(lines())

    def _port_accepts(self, host: str, port: int, timeout: float) -> bool:
        # No network in the fake: a published port of a running container accepts.
        return True

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
        s = self._s
        with s.lock:
            s.record(
                "containers",
                "exec",
                {
                    "container": container,
                    "command": command,
                    "environment": environment,
                    "working_dir": working_dir,
                    "user": user,
                    "input": input,
                    "timeout": timeout,
                },
            )
            argv = ["exec", container, *command]
            c = s.container(container, argv)
            if c.state is not _RUNNING:
                raise s.error(
                    ContainerConflictError,
                    "can only create exec sessions on running containers: container state improper"
                    if s.podman
                    else f"Container {container} is paused, unpause the container before exec"
                    if c.state is _PAUSED
                    else f"Container {c.id} is not running",
                    argv,
                    podman_code=255,
                )
            env = {**c.env, "HOSTNAME": c.hostname, **environment}
            call = ExecCall(
                container_id=c.id,
                container_name=c.name,
                image=c.image,
                command=command,
                environment=env,
                working_dir=working_dir or c.working_dir or "/",
                user=user or c.user,
                input=input,
            )
            return exec_result(s, c, call)

    def _wait(self, container: str, timeout: float | None) -> int:
        s = self._s
        with s.lock:
            s.record("containers", "wait", {"container": container, "timeout": timeout})
            argv = ["wait", container]
            return self._wait_for(s.container(container, argv), timeout, argv)

    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        s = self._s
        with s.lock:
            s.record("containers", "prune", {"filters": filters})
            argv = ["container", "prune", "-f"]
            stopped = [c for c in s.containers.values() if c.state in _STOPPED]
            now = time.time()
            chosen = select(
                s,
                stopped,
                filters,
                {
                    "label": lambda c, v: label_match(c.labels, v),
                    "until": lambda c, v: self._before(c.created, v, now, argv),
                },
                known=_PRUNE_KEYS,
                error=ContainerOperationError,
                argv=argv,
            )
            for c in chosen:
                self._delete(c, volumes=False)
            return [c.id for c in chosen]

    # ------------------------------------------------------------------ the state machine

    def _make(self, config: RunConfig, argv: list[str]) -> Container:
        """A new container in the ``created`` state (checks first, then changes)."""
        s = self._s
        image = self._image_for(config, argv)
        name = config.name
        if name is not None and name in s.container_names:
            other = s.container_names[name].id
            raise s.error(
                ContainerConflictError,
                f'creating container storage: the container name "{name}" is already in use '
                f"by {other}. You have to remove that container to be able to reuse that name: "
                "that name is already in use"
                if s.podman
                else f'Conflict. The container name "/{name}" is already in use by container '
                f'"{other}". You have to remove (or rename) that container to be able to reuse '
                "that name.",
                argv,
                code=125,
            )
        network, missing = self._network_for(config, argv)
        for mount in config.volumes:
            if mount.is_bind and not os.path.exists(mount.source):
                raise s.error(
                    ContainerOperationError,
                    f"statfs {mount.source}: no such file or directory"
                    if s.podman
                    else f'invalid mount config for type "bind": bind source path does not '
                    f"exist: {mount.source}",
                    argv,
                    code=125,
                )
        # As the CLI receives them: --entrypoint takes the first word (and drops the image's
        # CMD); the other words, then the command, follow the image. An empty command gives
        # no words, so the image's CMD applies.
        if config.entrypoint is not None:
            entrypoint = tuple(config.entrypoint[:1])
            cmd: tuple[str, ...] = (*config.entrypoint[1:], *(config.command or ()))
        else:
            entrypoint = image.entrypoint
            cmd = tuple(config.command) if config.command else image.cmd
        if not entrypoint and not cmd:
            raise s.error(
                ContainerOperationError,
                "no command or entrypoint provided, and no CMD or ENTRYPOINT from image"
                if s.podman
                else "No command specified",
                argv,
                code=125,
            )
        env = {**image.env, **config.environment} if config.environment else dict(image.env)
        container = Container(
            s.new_id(b"container"),
            name or s.new_name(),
            config,
            image=normalize_reference(config.image),
            image_id=image.id,
            entrypoint=entrypoint,
            cmd=cmd,
            env=env,
            labels={**image.labels, **config.labels},
            working_dir=config.working_dir or image.working_dir,
            user=config.user or image.user,
            created=s.now(),
            seq=s.new_seq(),
        )
        # from here on nothing fails: link the container to what it uses
        s.containers[container.id] = container
        s.container_names[container.name] = container
        image.users.add(container.id)
        targets = set()
        for mount in config.volumes:
            targets.add(mount.target)
            if mount.is_bind:
                container.mounts.append(("bind", mount.source, mount.target, mount.read_only))
                continue
            volume = s.volumes.get(mount.source) or self._new_volume(mount.source)
            volume.users.add(container.id)
            container.mounts.append(("volume", volume.name, mount.target, mount.read_only))
        for path in image.volumes:
            if path not in targets:
                volume = self._new_volume(s.new_id(b"volume"))
                volume.users.add(container.id)
                container.anonymous.append(volume.name)
                container.mounts.append(("volume", volume.name, path, False))
        if network is not None:
            s.attach(container, network, tuple(config.network_aliases))
        container.missing_network = missing
        if s.podman:  # podman picks the host ports at create, docker at start
            container.bound = self._ports(container, [])
        return container

    def _image_for(self, config: RunConfig, argv: Sequence[str]) -> Image:
        s = self._s
        policy = config.pull or PullPolicy.MISSING
        image = s.find_image(config.image) if policy is not PullPolicy.ALWAYS else None
        if image is not None:
            return image
        reference = normalize_reference(config.image)
        if policy is not PullPolicy.NEVER and reference in s.registry:
            return s.pull(reference)
        if policy is PullPolicy.NEVER:
            message = (
                f"{config.image}: image not known" if s.podman else f"No such image: {config.image}"
            )
        else:
            message = (
                f'short-name "{config.image}" did not resolve to an alias (the fake engine\'s '
                "registry does not hold it)"
                if s.podman
                else f"Unable to find image '{config.image}' locally: pull access denied for "
                f"{config.image}, repository does not exist (the fake engine's registry does "
                "not hold it)"
            )
        raise s.error(ImageNotFoundError, message, argv, code=125)

    def _network_for(
        self, config: RunConfig, argv: Sequence[str]
    ) -> tuple[Network | None, str | None]:
        """The network to attach at create, or (docker) a name to fail on at start."""
        s = self._s
        wanted = config.network
        if s.podman:
            if wanted in _PODMAN_MODES:
                return None, None
            if wanted is None or wanted == "bridge":
                wanted = "podman"
            return s.network(wanted, argv), None
        found = s.find_network(wanted or "bridge")
        if found is None:
            return None, wanted  # docker creates it; its start fails
        return found, None

    def _new_volume(self, name: str) -> Volume:
        s = self._s
        root = "/var/lib/containers/storage/volumes" if s.podman else "/var/lib/docker/volumes"
        volume = Volume(
            name,
            driver="local",
            labels={},
            options={},
            created=s.now(),
            mountpoint=f"{root}/{name}/_data",
        )
        s.volumes[name] = volume
        return volume

    def _ports(self, c: Container, running: list[PortMapping]) -> tuple[PortMapping, ...]:
        """The published ports with their host ports (picked when not given)."""
        if not c.config.ports:
            return ()
        taken = {(p.host_ip or "", p.host_port or 0, p.protocol) for p in running}
        bound = []
        for port in c.config.ports:
            host_port = port.host_port or self._s.new_port(taken)
            taken.add((port.host_ip or "", host_port, port.protocol))
            bound.append(PortMapping(port.container_port, host_port, port.protocol, port.host_ip))
        return tuple(
            sorted(
                dict.fromkeys(bound),
                key=lambda m: (m.container_port, m.protocol, m.host_ip or "", m.host_port or 0),
            )
        )

    def _launch(self, c: Container, argv: Sequence[str]) -> None:
        """Start the main process (created or exited → running, or straight to exited)."""
        s = self._s
        if c.missing_network is not None:
            network = s.find_network(c.missing_network)
            if network is None:
                raise s.error(NetworkNotFoundError, f"network {c.missing_network} not found", argv)
            c.missing_network = None
            s.attach(c, network, tuple(c.config.network_aliases))
        if c.config.ports:
            running = [
                p
                for other in s.containers.values()
                if other.state in _ACTIVE and other is not c
                for p in other.bound
            ]
            bound = c.bound if s.podman else self._ports(c, running)
            for port in bound:
                if any(_overlaps(port, other) for other in running):
                    address = f"{port.host_ip or '0.0.0.0'}:{port.host_port}"  # noqa: S104
                    raise s.error(
                        ContainerOperationError,
                        f"rootlessport listen {port.protocol} {address}: bind: address already "
                        "in use"
                        if s.podman
                        else f"driver failed programming external connectivity: Bind for "
                        f"{address} failed: port is already allocated",
                        argv,
                    )
            c.bound = bound
        main = main_for(s, c)
        c.main = main
        c.state = _RUNNING
        c.exit_code = None
        c.started = s.now()
        c.info = c.list_info = None
        self._output(c, main.stdout, main.stderr)
        if main.exit_code is not None and main.exit_on == "start":
            self._exit(c, main.exit_code)

    @staticmethod
    def _output(c: Container, stdout: bytes, stderr: bytes) -> None:
        """The container's processes write to its log."""
        now = time.time_ns()
        if stdout:
            c.logs.append((now, 1, stdout))
        if stderr:
            c.logs.append((now, 2, stderr))

    def _terminate(self, c: Container, argv: Sequence[str]) -> None:
        """``stop``: SIGTERM, then SIGKILL (137) unless the process handles SIGTERM."""
        if c.state is _RUNNING:
            code = c.main.sigterm_exit_code
            self._exit(c, 137 if code is None else code)
        elif c.state is _PAUSED:
            # docker thaws it and kills it; on podman, which refuses, the library unpauses
            # it first: the same outcome on both.
            self._exit(c, 137)
        elif c.state is _RESTARTING:
            self._exit(c, c.exit_code or 0)

    def _exit(self, c: Container, code: int) -> None:
        """The main process ended with ``code``."""
        s = self._s
        c.state = _EXITED
        c.exit_code = code
        c.finished = s.now()
        if not s.podman:
            c.bound = ()  # docker releases the host ports of a stopped container
        c.info = c.list_info = None
        if c.config.remove:
            self._delete(c, volumes=True)

    def _wait_for(self, c: Container, timeout: float | None, argv: Sequence[str]) -> int:
        """``wait``: the exit code, once the process has ended (at once, in fake time)."""
        if c.state is _CREATED:
            return 0
        if c.state is _RUNNING:
            main = c.main
            limit = timeout or DEFAULT_TIMEOUT
            if main.exit_code is not None and main.exit_on == "wait":
                self._exit(c, main.exit_code)
            elif main.sleep is not None and main.sleep <= limit:
                self._exit(c, 0)
        if c.state in _STOPPED:
            return c.exit_code or 0
        limit = timeout or DEFAULT_TIMEOUT
        raise CommandTimeoutError(
            f"{self._s.runtime.value} wait timed out after {limit:g} s: the container does not "
            "exit by itself (fake engine: script its exit with engine.script.run(..., "
            "exit_code=N) or engine.script.exit(container, N))",
            timeout=limit,
            command=[self._s.runtime.value, *argv],
        )

    def _delete(self, c: Container, *, volumes: bool) -> None:
        s = self._s
        if s.containers.pop(c.id, None) is None:
            return
        s.container_names.pop(c.name, None)
        image = s.images.get(c.image_id)
        if image is not None:
            image.users.discard(c.id)
        for kind, source, _, _ in c.mounts:
            if kind == "volume" and source in s.volumes:
                s.volumes[source].users.discard(c.id)
        if volumes:
            for name in c.anonymous:
                volume = s.volumes.get(name)
                if volume is not None and not volume.users:
                    del s.volumes[name]
        for network in c.networks.values():
            network.members.pop(c.id, None)
            network.info = None

    @staticmethod
    def _signal(signal: str | None, argv: Sequence[str]) -> int:
        if signal is None:
            return int(signals.SIGKILL)
        if signal.isdigit():
            return int(signal)
        number = _SIGNALS.get(signal.upper().removeprefix("SIG"))
        if number is None:
            raise ContainerOperationError(
                f"Invalid signal: {signal}", command=list(argv), exit_code=1
            )
        return number

    def _before(self, created: datetime, value: str, now: float, argv: Sequence[str]) -> bool:
        moment = parse_since(value, now)
        if moment is None:
            raise self._s.error(ContainerOperationError, f"invalid until {value!r}", argv)
        return created.timestamp() < moment

    # ------------------------------------------------------------------ filters and records

    def _filter(
        self, items: Any, filters: Mapping[str, tuple[str, ...]], argv: Sequence[str]
    ) -> builtins.list[Container]:
        s = self._s
        for value in filters.get("status", ()):
            if value not in _STATES:
                raise s.error(
                    ContainerOperationError,
                    f"unknown container state: {value}: invalid argument"
                    if s.podman
                    else f"Invalid filter 'status={value}'",
                    argv,
                )
        for value in filters.get("exited", ()):
            if not value.lstrip("-").isdigit():
                raise s.error(ContainerOperationError, f"invalid filter 'exited={value}'", argv)
        podman = s.podman

        def name(c: Container, value: str) -> bool:
            return name_match(c.name, value) or (not podman and name_match("/" + c.name, value))

        def before(c: Container, value: str) -> bool:
            other = s.find_container(value)
            if other is None:
                raise s.no_container(value, argv)
            return c.seq < other.seq

        def since(c: Container, value: str) -> bool:
            other = s.find_container(value)
            if other is None:
                raise s.no_container(value, argv)
            return c.seq > other.seq

        predicates = {
            "id": lambda c, v: c.id.startswith(v),
            "name": name,
            "label": lambda c, v: label_match(c.labels, v),
            "status": lambda c, v: c.state.value == v,
            "exited": lambda c, v: c.state is _EXITED and str(c.exit_code) == v,
            "ancestor": self._ancestor,
            "network": lambda c, v: any(
                v in (n.name, n.id) or n.id.startswith(v) for n in c.networks.values()
            ),
            "volume": lambda c, v: any(v in (m[1], m[2]) for m in c.mounts),
            "before": before,
            "since": since,
            "publish": lambda c, v: any(
                v in (str(p.container_port), f"{p.container_port}/{p.protocol}")
                for p in c.config.ports
            ),
        }
        return select(
            s,
            items,
            filters,
            predicates,
            known=_PODMAN_KEYS if podman else _DOCKER_KEYS,
            error=ContainerOperationError,
            argv=argv,
        )

    def _ancestor(self, c: Container, value: str) -> bool:
        s = self._s
        if normalize_reference(value) == c.image or c.image.partition(":")[0] == value:
            return True
        target = s.find_image(value)
        if target is None:
            return False
        image_id: str | None = c.image_id
        while image_id is not None:
            if image_id == target.id:
                return True
            image = s.images.get(image_id)
            image_id = image.parent if image is not None else None
        return False

    def _record(self, c: Container, *, inspect: bool) -> ContainerInfo:
        stopped = c.state in (_EXITED, ContainerState.DEAD)
        names = list(c.networks)
        if c.missing_network is not None:
            names.append(c.missing_network)
        return ContainerInfo(
            id=c.id,
            name=c.name,
            image=c.image,
            state=c.state,
            labels=dict(c.labels),
            created=c.created,
            ports=c.bound,
            networks=tuple(sorted(names)),
            exit_code=c.exit_code if stopped else None,
            image_id=c.image_id if inspect else None,
            raw=self._raw(c) if inspect else {},
        )

    def _raw(self, c: Container) -> dict[str, Any]:
        """A docker-shaped ``container inspect`` document (the fields the fake knows)."""
        s = self._s
        config = c.config
        ports: dict[str, list[dict[str, str]]] = {}
        for port in c.bound:
            ports.setdefault(f"{port.container_port}/{port.protocol}", []).append(
                {"HostIp": port.host_ip or "0.0.0.0", "HostPort": str(port.host_port)}  # noqa: S104
            )
        networks: dict[str, Any] = {}
        for name, network in c.networks.items():
            subnet = ipaddress.ip_network(network.subnet, strict=False)
            host = network.members.get(c.id, 2)
            networks[name] = {
                "NetworkID": network.id,
                "IPAddress": str(subnet[host]) if host < subnet.num_addresses else "",
                "IPPrefixLen": subnet.prefixlen,
                "Gateway": str(subnet[1]),
                "Aliases": [*c.aliases.get(name, ()), c.id[:12]],
            }
        policy = config.restart_policy.value
        return {
            "Id": c.id,
            "Name": c.name if s.podman else f"/{c.name}",
            "Created": _iso(c.created),
            "Path": c.argv[0] if c.argv else "",
            "Args": list(c.argv[1:]),
            "State": {
                "Status": c.state.value,
                "Running": c.state in (_RUNNING, _PAUSED),
                "Paused": c.state is _PAUSED,
                "Restarting": c.state is _RESTARTING,
                "OOMKilled": False,
                "Dead": c.state is ContainerState.DEAD,
                "ExitCode": c.exit_code or 0,
                "Error": "",
                "StartedAt": _iso(c.started),
                "FinishedAt": _iso(c.finished),
            },
            "Image": c.image_id,
            "RestartCount": 0,
            "Mounts": [
                {
                    "Type": kind,
                    **({"Name": source} if kind == "volume" else {}),
                    "Source": s.volumes[source].mountpoint
                    if kind == "volume" and source in s.volumes
                    else source,
                    "Destination": target,
                    "RW": not read_only,
                }
                for kind, source, target, read_only in c.mounts
            ],
            "Config": {
                "Hostname": c.hostname,
                "User": c.user,
                "Env": [f"{k}={v}" for k, v in c.env.items()],
                "Cmd": list(c.cmd) or None,
                "Entrypoint": list(c.entrypoint) or None,
                "Image": config.image,
                "WorkingDir": c.working_dir,
                "Labels": dict(c.labels),
                **({"StopSignal": config.stop_signal} if config.stop_signal else {}),
            },
            "HostConfig": {
                "RestartPolicy": {
                    "Name": policy,
                    "MaximumRetryCount": config.restart_max_retries or 0,
                },
                "AutoRemove": config.remove,
                "NetworkMode": config.network or "default",
                "PortBindings": {
                    f"{p.container_port}/{p.protocol}": [
                        {"HostIp": p.host_ip or "", "HostPort": str(p.host_port or "")}
                    ]
                    for p in config.ports
                },
                "Privileged": config.privileged,
                "ReadonlyRootfs": config.read_only,
                "Init": config.init,
            },
            "NetworkSettings": {"Ports": ports, "Networks": networks},
        }
