"""Networks in memory: the runtime's predefined ones, subnets, attached containers."""

from __future__ import annotations

import builtins
import ipaddress
import time
from collections.abc import Sequence
from typing import Any

from ..core.exceptions import NetworkConflictError, NetworkError
from ..core.managers.network import NetworkManager
from ..core.types import NetworkInfo
from ._filters import label_match, name_match, select
from ._model import Network
from ._store import Store, parse_since

__all__ = ["FakeNetworkManager", "predefined"]

_DOCKER_KEYS = frozenset({"dangling", "driver", "id", "label", "name", "scope", "type"})
_PODMAN_KEYS = frozenset({"dangling", "driver", "id", "label", "name", "until"})
_DRIVERS = frozenset({"bridge", "macvlan", "ipvlan"})
#: podman's default network has the same id everywhere
PODMAN_DEFAULT_ID = "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9"


def predefined(store: Store) -> None:
    """Add the networks the runtime has before anyone creates one."""
    now = store.now()
    if store.podman:
        specs = [("podman", "bridge", "10.88.0.0/16", PODMAN_DEFAULT_ID)]
    else:
        specs = [
            ("bridge", "bridge", "172.17.0.0/16", ""),
            ("host", "host", "", ""),
            ("none", "null", "", ""),
        ]
    for name, driver, subnet, network_id in specs:
        network = Network(
            network_id or store.new_id(b"network"),
            name,
            driver=driver,
            labels={},
            subnet=subnet,
            internal=False,
            created=now,
            builtin=True,
        )
        store.networks[network.id] = network
        store.network_names[name] = network


class FakeNetworkManager(NetworkManager):
    """:class:`NetworkManager` in memory (see :class:`~.engine.FakeEngine`)."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def _create(
        self,
        name: str,
        driver: str | None,
        labels: dict[str, str],
        subnet: str | None,
        internal: bool,
    ) -> str:
        s = self._s
        with s.lock:
            s.record(
                "networks",
                "create",
                {
                    "name": name,
                    "driver": driver,
                    "labels": labels,
                    "subnet": subnet,
                    "internal": internal,
                },
            )
            argv = ["network", "create", name]
            if name in s.network_names:
                raise s.error(
                    NetworkConflictError,
                    f"network name {name} already used: network already exists"
                    if s.podman
                    else f"network with name {name} already exists",
                    argv,
                )
            driver = driver or "bridge"
            if driver not in _DRIVERS:
                raise s.error(
                    NetworkError,
                    f"unsupported driver {driver}: invalid argument"
                    if s.podman
                    else f'plugin "{driver}" not found',
                    argv,
                )
            taken = [ipaddress.ip_network(n.subnet) for n in s.networks.values() if n.subnet]
            if subnet is None:
                block = self._free_subnet(taken)
            else:
                try:
                    block = ipaddress.ip_network(subnet)
                except ValueError:
                    raise s.error(
                        NetworkError,
                        f"invalid CIDR address: {subnet}"
                        if s.podman
                        else f"Invalid subnet {subnet} : invalid CIDR address: {subnet}",
                        argv,
                    ) from None
                if any(block.overlaps(other) for other in taken):
                    raise s.error(
                        NetworkError,
                        f"subnet {subnet} is already used on the host or by another config"
                        if s.podman
                        else "Pool overlaps with other one on this address space",
                        argv,
                    )
            network = Network(
                s.new_id(b"network"),
                name,
                driver=driver,
                labels=dict(labels),
                subnet=str(block),
                internal=internal,
                created=s.now(),
            )
            s.networks[network.id] = network
            s.network_names[name] = network
            return network.id

    def _free_subnet(self, taken: Sequence[Any]) -> Any:
        """The next free block: docker 172.18.0.0/16, 172.19... then 192.168.0.0/20...;
        podman 10.89.0.0/24, 10.89.1.0/24..."""
        if self._s.podman:
            candidates: Any = (ipaddress.ip_network(f"10.89.{n}.0/24") for n in range(256))
        else:
            candidates = [
                *(ipaddress.ip_network(f"172.{n}.0.0/16") for n in range(18, 32)),
                *(ipaddress.ip_network(f"192.168.{n}.0/20") for n in range(0, 256, 16)),
            ]
        for block in candidates:
            if not any(block.overlaps(other) for other in taken):
                return block
        raise self._s.error(
            NetworkError, "could not find an available, non-overlapping IPv4 address pool", []
        )

    def _remove(self, network: str) -> None:
        s = self._s
        with s.lock:
            s.record("networks", "remove", {"network": network})
            argv = ["network", "rm", network]
            found = s.network(network, argv, podman_code=1)
            if found.builtin and s.podman:
                raise s.error(NetworkError, f"default network {found.name} cannot be removed", argv)
            if found.members:
                users = ", ".join(c[:12] for c in found.members)
                raise s.error(
                    NetworkConflictError,
                    f'"{found.name}" has associated containers with it. Use -f to forcibly '
                    "delete containers and pods: network is being used"
                    if s.podman
                    else f"network {network!r} has containers attached: {users}",
                    argv,
                    podman_code=2,
                )
            if found.builtin:
                raise s.error(
                    NetworkError,
                    f"{found.name} is a pre-defined network and cannot be removed",
                    argv,
                )
            del s.networks[found.id]
            del s.network_names[found.name]

    def _exists(self, network: str) -> bool:
        s = self._s
        with s.lock:
            s.record("networks", "exists", {"network": network})
            return s.find_network(network) is not None

    def _inspect(self, network: str) -> NetworkInfo:
        s = self._s
        with s.lock:
            s.record("networks", "inspect", {"network": network})
            return self._info(s.network(network, ["network", "inspect", network]), listed=False)

    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[NetworkInfo]:
        s = self._s
        with s.lock:
            s.record("networks", "list", {"filters": filters})
            networks = sorted(s.networks.values(), key=lambda n: n.name)
            predicates: dict[str, Any] = {
                "name": lambda n, v: name_match(n.name, v),
                "id": lambda n, v: n.id.startswith(v),
                "label": lambda n, v: label_match(n.labels, v),
                "driver": lambda n, v: n.driver == v,
                "dangling": lambda n, v: (not n.members) == (v.lower() in ("true", "1")),
            }
            if s.podman:
                now = time.time()
                predicates["until"] = lambda n, v: self._until(n, v, now)
            else:
                predicates["type"] = lambda n, v: ("builtin" if n.builtin else "custom") == v
                predicates["scope"] = lambda n, v: v == "local"
            chosen = select(
                s,
                networks,
                filters,
                predicates,
                known=_PODMAN_KEYS if s.podman else _DOCKER_KEYS,
                error=NetworkError,
                argv=["network", "ls"],
            )
            return [self._info(n, listed=True) for n in chosen]

    def _connect(self, network: str, container: str, aliases: tuple[str, ...]) -> None:
        s = self._s
        with s.lock:
            s.record(
                "networks",
                "connect",
                {"network": network, "container": container, "aliases": aliases},
            )
            argv = ["network", "connect", network, container]
            c = s.container(container, argv)  # both CLIs look for the container first
            found = s.network(network, argv)
            if found.name in c.networks:
                raise s.error(
                    NetworkConflictError,
                    f'container {c.id} is already connected to network "{found.name}": '
                    "network is already connected"
                    if s.podman
                    else f"endpoint with name {c.name} already exists in network {found.name}",
                    argv,
                )
            s.attach(c, found, aliases)

    def _disconnect(self, network: str, container: str, force: bool) -> None:
        s = self._s
        with s.lock:
            s.record(
                "networks",
                "disconnect",
                {"network": network, "container": container, "force": force},
            )
            argv = ["network", "disconnect", network, container]
            c = s.container(container, argv)
            found = s.network(network, argv)
            if c.networks.get(found.name) is not found:
                raise s.error(
                    NetworkConflictError,
                    f"container {container} is not connected to network {found.name}"
                    if s.podman
                    else f"container {c.id} is not connected to the network {found.name}",
                    argv,
                )
            del c.networks[found.name]
            c.aliases.pop(found.name, None)
            found.members.pop(c.id, None)
            found.info = None
            c.info = c.list_info = None

    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        s = self._s
        with s.lock:
            s.record("networks", "prune", {"filters": filters})
            argv = ["network", "prune", "-f"]
            now = time.time()
            unused = sorted(
                (n for n in s.networks.values() if not n.builtin and not n.members),
                key=lambda n: n.name,
            )
            chosen = select(
                s,
                unused,
                filters,
                {
                    "label": lambda n, v: label_match(n.labels, v),
                    "until": lambda n, v: self._until(n, v, now),
                },
                known=frozenset({"label", "until"}),
                error=NetworkError,
                argv=argv,
            )
            for network in chosen:
                del s.networks[network.id]
                del s.network_names[network.name]
            return [n.name for n in chosen]

    def _until(self, network: Network, value: str, now: float) -> bool:
        moment = parse_since(value, now)
        if moment is None:
            raise self._s.error(NetworkError, f"invalid until {value!r}", ["network"])
        return network.created.timestamp() < moment

    def _info(self, network: Network, *, listed: bool) -> NetworkInfo:
        s = self._s
        subnets = (network.subnet,) if network.subnet else ()
        if listed and not s.podman:
            subnets = ()  # docker's `network ls` prints no subnets
        if network.info is not None and not listed:
            return network.info
        gateway = ""
        if network.subnet:
            gateway = str(ipaddress.ip_network(network.subnet)[1])
        info = NetworkInfo(
            id=network.id,
            name=network.name,
            driver=network.driver,
            labels=dict(network.labels),
            created=network.created,
            internal=network.internal,
            subnets=subnets,
            raw={
                "Name": network.name,
                "Id": network.id,
                "Created": network.created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Scope": "local",
                "Driver": network.driver,
                "Internal": network.internal,
                "IPAM": {
                    "Driver": "default",
                    "Config": [{"Subnet": network.subnet, "Gateway": gateway}]
                    if network.subnet
                    else [],
                },
                "Containers": {
                    cid: {"Name": s.containers[cid].name}
                    for cid in network.members
                    if cid in s.containers
                },
                "Labels": dict(network.labels),
            },
        )
        if not listed:
            network.info = info
        return info
