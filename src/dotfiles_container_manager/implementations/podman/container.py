"""Containers on podman: what differs from docker."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...core.enums import ContainerState
from ...core.types import ContainerInfo
from ..cli import parsing as p
from ..cli.command import CommandResult
from ..docker.container import DockerContainerManager

__all__ = ["PodmanContainerManager"]

_LISTED_WITHOUT_ALL = (ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING)


class PodmanContainerManager(DockerContainerManager):
    """Podman's ``ps`` JSON shape, its exec exit codes, a quick forced remove, ``cp``
    without ``-L``, and its events."""

    # Without -t 0, `podman rm -f` sends SIGTERM and waits 10 s; docker kills at once.
    force_remove_options = ("-f", "-t", "0")
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
        self, records: builtins.list[ContainerInfo], all: bool
    ) -> builtins.list[ContainerInfo]:
        return records if all else [r for r in records if r.state in _LISTED_WITHOUT_ALL]

    def _exec_cli_failed(self, result: CommandResult) -> bool:
        # podman: 125 for its own errors (missing container), 255 for a container that is
        # not running; 126/127 are "cannot start the command", reported as the exit code.
        return result.returncode in (125, 255) and result.stderr_text.lstrip().startswith("Error:")

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
            raw=data,
        )
