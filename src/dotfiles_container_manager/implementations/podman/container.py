"""Containers on podman: what differs from docker."""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping

from ...core.enums import ContainerState
from ...core.exceptions import ContainerConflictError
from ...core.record import replace
from ...core.regex import Regex
from ...core.types import ContainerInfo, ExecResult
from ..cli import parsing as p
from ..cli.command import CommandResult
from ..docker.container import DockerContainerManager, ps_health

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PodmanContainerManager"]

_LISTED_WITHOUT_ALL = (ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING)
#: podman's (and docker's) default health-check interval, in seconds.
_HEALTH_INTERVAL = 30.0


class PodmanContainerManager(DockerContainerManager):
    """Podman's ``ps`` JSON shape, its exec exit codes, a quick forced remove, ``cp``
    without ``-L``, and its events."""

    # Without -t 0, `podman rm -f` sends SIGTERM and waits 10 s; docker kills at once.
    force_remove_options = ("-f", "-t", "0")
    # podman's own messages: "Error: …", and logrus lines (`time="…" level=error msg=…`)
    cli_error_start = Regex(
        r"error|(?:cannot|unable to) connect to podman|time=\S+ level=", re.IGNORECASE
    )

    def _before_force_remove(self, container: str, timeout: float | None) -> None:
        # A `podman stop` killed during its wait leaves the container "stopping"; `rm -f`
        # then deletes its record but never kills it, and its conmon and processes run on
        # for ever. `stop -t 0` kills them first (and is a no-op for a stopped container).
        self._call(["stop", "-t", "0", container], check=False, timeout=timeout)

    # podman's cp has no -L: it always follows a link named as the source.
    cp_follow_options = ()

    def _container_events(self, container_id: str, since: float) -> set[str]:
        # podman 4.3 with --until stops reading its events file at the first later event,
        # and other processes append out of order: read what is there (--stream=false).
        # Its --since takes whole seconds only.
        result = self._call(
            [
                "events",
                "--stream=false",
                "--since",
                str(int(since) - 1),
                "--filter",
                f"container={container_id}",
                "--format",
                "{{.Status}}",
            ],
            check=False,
            timeout=min(self._runner.timeout, 30.0),
        )
        if result.returncode != 0:
            return set()
        return set(self._lines(result))

    @staticmethod
    def _ends_with_cli_error(stderr: str) -> bool:
        # podman's own failures of `run` end with one "Error: …" line.
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        return bool(lines) and lines[-1].startswith("Error: ")

    def _list_all_args(self, all: bool) -> builtins.list[str]:
        # `podman ps` hides paused containers; docker shows them. List all, keep the same.
        return ["-a"]

    def _keep_listed(
        self,
        records: builtins.list[ContainerInfo],
        all: bool,
        filters: dict[str, tuple[str, ...]],
    ) -> builtins.list[ContainerInfo]:
        # A status filter picks the states itself: docker's `ps --filter status=exited`
        # lists exited containers without -a.
        if all or "status" in filters:
            return records
        return [r for r in records if r.state in _LISTED_WITHOUT_ALL]

    def _exec_cli_failed(self, result: CommandResult) -> bool:
        # podman: 125 for its own errors (missing container), 255 for a container that is
        # not running; 126/127 are "cannot start the command", reported as the exit code.
        # The container's state then decides (_raise_unless_running).
        return result.returncode in (125, 255) and result.stderr_text.lstrip().startswith("Error:")

    def _exec_result(self, result: CommandResult, user: str | None) -> ExecResult:
        # An exec as a user the container does not have: podman exits 255, docker 126 (the
        # command could not start). The container is running (checked): report 126 as docker.
        if (
            result.returncode == 255
            and user is not None
            and result.stderr_text.lstrip().startswith("Error: unable to find user")
        ):
            return ExecResult(exit_code=126, stdout_bytes=result.stdout, stderr_bytes=result.stderr)
        return super()._exec_result(result, user)

    def _stop_verb(self, verb: str, container: str, timeout: int | None) -> None:
        # podman refuses to stop or restart a paused container ("state improper"); docker
        # does both. Thaw it first, as docker does, then stop/restart it.
        try:
            super()._stop_verb(verb, container, timeout)
        except ContainerConflictError:
            if self._inspect(container).state is not ContainerState.PAUSED:
                raise
            self._unpause(container)
            super()._stop_verb(verb, container, timeout)

    def _run_health_check(
        self, container: str, info: ContainerInfo, timeout: float
    ) -> float | None:
        # Podman schedules health checks with systemd timers: without systemd (containers,
        # CI machines, WSL) they never run and the status stays "starting". Run the check
        # here; `healthcheck run` updates the status (and the failing streak) as a timer's
        # run would. Its exit status is not read: the caller reads the new status, and a
        # container that stopped meanwhile (podman then exits 125) is seen by that inspect.
        self._call(["healthcheck", "run", container], check=False, timeout=timeout)
        return self.health_interval(info)

    @staticmethod
    def health_interval(info: ContainerInfo) -> float:
        """The container's health-check interval in seconds (``Config.Healthcheck.Interval``,
        nanoseconds), or podman's default."""
        check = p.as_dict(p.as_dict(info.raw.get("Config")).get("Healthcheck"))
        interval = p.as_int(check.get("Interval"))
        return interval / 1e9 if interval and interval > 0 else _HEALTH_INTERVAL

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> ContainerInfo:
        """A :class:`ContainerInfo` from one podman ``container inspect`` object: docker's
        shape, with the image as the user named it in ``ImageName``."""
        info = DockerContainerManager.from_inspect(data)
        named = data.get("ImageName")
        return replace(info, image=p.normalize_reference(named)) if named else info

    @staticmethod
    def from_ps(data: Mapping[str, Any]) -> ContainerInfo:
        """A :class:`ContainerInfo` from one podman ``ps`` JSON object."""
        ports = []
        for item in p.as_list(data.get("Ports")):
            item = p.as_dict(item)
            cport, hport = p.as_int(item.get("container_port")), p.as_int(item.get("host_port"))
            count = max(p.as_int(item.get("range"), 1) or 1, 1)
            if cport is not None and hport is not None and min(cport, hport) > 0:
                # A range never goes past port 65535 (and a bogus count costs nothing).
                for offset in range(min(count, 65536 - max(cport, hport))):
                    ports.append(
                        p.port_mapping(
                            cport + offset,
                            hport + offset,
                            p.as_str(item.get("protocol"), "tcp"),
                            item.get("host_ip"),
                        )
                    )
        state = ContainerState.parse(p.as_str(data.get("State")))
        names = data.get("Names") or [""]
        exited = state in (ContainerState.EXITED, ContainerState.DEAD)
        return ContainerInfo(
            id=p.as_str(data.get("Id") or data.get("ID")),
            name=p.as_str(names[0] if isinstance(names, list) else names),
            image=p.normalize_reference(data.get("Image")),
            state=state,
            labels=p.labels_from(data.get("Labels")),
            created=p.parse_time(data.get("Created")),
            ports=p.unique_ports(ports),
            networks=tuple(sorted(p.as_str(n) for n in p.as_list(data.get("Networks")))),
            exit_code=p.as_int(data.get("ExitCode")) if exited else None,
            health=ps_health(p.as_str(data.get("Status"))),
            raw=data,
        )
