"""Networks on docker (and, through :class:`PodmanNetworkManager`, podman)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from ...core.exceptions import NetworkConflictError, NetworkError
from ...core.managers.network import NetworkManager
from ...core.types import NetworkInfo
from ..cli import parsing as p
from ..cli.manager import CLIManager
from .utils import filter_args, label_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DockerNetworkManager"]


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class DockerNetworkManager(CLIManager, NetworkManager):
    """:class:`NetworkManager` over the docker CLI."""

    kind = "network"
    #: The `ls --format`: rows with exact labels, in one call (podman prints them exactly).
    list_format = p.LABELLED_ROW
    error = NetworkError

    def _create(
        self,
        name: str,
        driver: str | None,
        labels: dict[str, str],
        subnet: str | None,
        internal: bool,
    ) -> str:
        args = ["network", "create"]
        if driver is not None:
            args += ["--driver", driver]
        args += label_args(labels)
        if subnet is not None:
            args += ["--subnet", subnet]
        if internal:
            args.append("--internal")
        result = self._call([*args, name])
        return self._created_id(name, self._lines(result))

    def _created_id(self, name: str, lines: builtins.list[str]) -> str:
        # docker prints the id.
        return lines[-1] if lines else self._inspect(name).id

    def _remove(self, network: str) -> None:
        # NetworkConflictError while any container (even a stopped one) is attached. docker
        # alone would remove it under stopped containers, leaving them with a dangling
        # reference; podman refuses, and so does this library on both.
        self._check_unused(network)
        self._call(["network", "rm", network])

    def _check_unused(self, network: str) -> None:
        users = self._lines(self._call(["ps", "-a", "-q", "--filter", f"network={network}"]))
        if users:
            raise NetworkConflictError(
                f"network {network!r} has containers attached: {', '.join(users)}"
            )

    def _inspect(self, network: str) -> NetworkInfo:
        return self.from_inspect(self._inspect_record(network))

    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[NetworkInfo]:
        # One `network ls` call, its labels exact (p.LABELLED_ROW; docker's rows have no
        # subnets); rows whose labels even that cannot tell are inspected (_exact_labels).
        args = ["network", "ls", "--no-trunc", "--format", self.list_format]
        rows = self._exact_labels(
            p.load_labelled_records(self._call([*args, *filter_args(filters)])), "ID", "Id"
        )
        return [self.from_inspect(r) if "Id" in r else self.from_ls(r) for r in rows]

    def _connect(self, network: str, container: str, aliases: tuple[str, ...]) -> None:
        args = ["network", "connect"]
        for alias in aliases:
            args += ["--alias", alias]
        self._call([*args, network, container])

    def _disconnect(self, network: str, container: str, force: bool) -> None:
        self._call(["network", "disconnect", *(["-f"] if force else []), network, container])

    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        result = self._call(["network", "prune", "-f", *filter_args(filters)])
        return [ln for ln in self._lines(result) if not ln.startswith("Deleted Networks:")]

    # ------------------------------------------------------------------ parsers

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> NetworkInfo:
        """A :class:`NetworkInfo` from docker's ``network inspect`` object."""
        ipam = p.as_dict(data.get("IPAM"))
        subnets = [p.as_str(p.as_dict(c).get("Subnet")) for c in p.as_list(ipam.get("Config"))]
        return NetworkInfo(
            id=p.as_str(data.get("Id")),
            name=p.as_str(data.get("Name")),
            driver=p.as_str(data.get("Driver"), "bridge"),
            labels=p.labels_from(data.get("Labels")),
            created=p.parse_time(data.get("Created")),
            internal=_flag(data.get("Internal")),
            subnets=tuple(s for s in subnets if s),
            raw=data,
        )

    @staticmethod
    def from_ls(data: Mapping[str, Any]) -> NetworkInfo:
        """A :class:`NetworkInfo` from one docker ``network ls`` row."""
        return NetworkInfo(
            id=p.as_str(data.get("ID")),
            name=p.as_str(data.get("Name")),
            driver=p.as_str(data.get("Driver"), "bridge"),
            labels=p.labels_from(data.get("Labels")),
            created=p.parse_time(data.get("CreatedAt")),
            internal=_flag(data.get("Internal")),
            raw=data,
        )
