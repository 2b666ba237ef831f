"""Networks on docker (and, through :class:`PodmanNetworkManager`, podman)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from ...core import validation as v
from ...core.exceptions import NetworkConflictError, NetworkError
from ...core.managers.network import NetworkManager
from ...core.types import NetworkInfo
from ..cli import parsing as p
from ..cli.manager import CLIManager
from .utils import filter_args

__all__ = ["DockerNetworkManager"]


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class DockerNetworkManager(CLIManager, NetworkManager):
    """:class:`NetworkManager` over the docker CLI."""

    def create(
        self,
        name: str,
        *,
        driver: str | None = None,
        labels: Mapping[str, str] | None = None,
        subnet: str | None = None,
        internal: bool = False,
    ) -> str:
        """Create a network; return its id."""
        v.check_name("name", name)
        args = ["network", "create"]
        if driver is not None:
            args += ["--driver", v.check_reference("driver", driver)]
        for key, value in v.check_labels("labels", labels or {}).items():
            args += ["--label", f"{key}={value}"]
        if subnet is not None:
            args += ["--subnet", v.check_reference("subnet", subnet)]
        if internal:
            args.append("--internal")
        result = self._run([*args, name], NetworkError)
        return self._created_id(name, self._lines(result))

    def _created_id(self, name: str, lines: builtins.list[str]) -> str:
        # docker prints the id.
        return lines[-1] if lines else self.inspect(name).id

    def remove(self, network: str) -> None:
        """Remove a network; NetworkConflictError while any container (even a stopped one)
        is attached. docker alone would remove it under stopped containers, leaving them with
        a dangling reference; podman refuses, and so does this library on both."""
        v.check_reference("network", network)
        self._check_unused(network)
        self._run(["network", "rm", network], NetworkError)

    def _check_unused(self, network: str) -> None:
        users = self._lines(
            self._run(["ps", "-a", "-q", "--filter", f"network={network}"], NetworkError)
        )
        if users:
            raise NetworkConflictError(
                f"network {network!r} has containers attached: {', '.join(users)}"
            )

    def exists(self, network: str) -> bool:
        """True when the network exists."""
        v.check_reference("network", network)
        return self._probe(["network", "inspect", "--format", "{{.Name}}", network], NetworkError)

    def inspect(self, network: str) -> NetworkInfo:
        """The record of a network."""
        v.check_reference("network", network)
        result = self._run(["network", "inspect", network], NetworkError)
        return self.from_inspect(p.first_record(result))

    def list(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[NetworkInfo]:
        """Networks from one ``network ls`` call (docker's does not print subnets)."""
        args = ["network", "ls", "--no-trunc", "--format", "{{json .}}", *filter_args(filters)]
        return [self.from_ls(r) for r in p.load_records(self._run(args, NetworkError))]

    def connect(self, network: str, container: str, *, aliases: Sequence[str] = ()) -> None:
        """Attach ``container`` to ``network``."""
        args = ["network", "connect"]
        for alias in v.check_args("aliases", aliases):
            args += ["--alias", v.check_reference("aliases", alias)]
        args += [v.check_reference("network", network), v.check_reference("container", container)]
        self._run(args, NetworkError)

    def disconnect(self, network: str, container: str, *, force: bool = False) -> None:
        """Detach ``container`` from ``network``."""
        args = ["network", "disconnect", *(["-f"] if force else [])]
        args += [v.check_reference("network", network), v.check_reference("container", container)]
        self._run(args, NetworkError)

    def prune(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[str]:
        """Remove unused networks; return their names."""
        result = self._run(["network", "prune", "-f", *filter_args(filters)], NetworkError)
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
