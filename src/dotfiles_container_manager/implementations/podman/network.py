"""Networks on podman: what differs from docker."""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping

from ...core.types import NetworkInfo
from ..cli import parsing as p
from ..docker.network import DockerNetworkManager

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PodmanNetworkManager"]


class PodmanNetworkManager(DockerNetworkManager):
    """Podman's network JSON is lowercase (netavark), ``create`` prints the name, and
    ``network rm`` already refuses while containers are attached."""

    list_format = "{{json .}}"  # labels come as an object: nothing to tell apart

    def _by_name(self, network: str) -> str:
        # podman 4.3 cannot find a network by its full id for rm/disconnect, and removing by
        # an id prefix (of any length: `rm 17c37128` removed a network in use) skips the
        # in-use check: act on the name, found through inspect. A hex name resolves to itself.
        if re.fullmatch(r"[0-9a-f]{1,64}", network):
            return self._inspect(network).name
        return network

    def _remove(self, network: str) -> None:
        super()._remove(self._by_name(network))

    def _connect(self, network: str, container: str, aliases: tuple[str, ...]) -> None:
        super()._connect(self._by_name(network), container, aliases)

    def _disconnect(self, network: str, container: str, force: bool) -> None:
        super()._disconnect(self._by_name(network), container, force)

    def _created_id(self, name: str, lines: builtins.list[str]) -> str:
        return self._inspect(name).id

    def _check_unused(self, network: str) -> None:
        return None  # podman refuses by itself (exit 2, "associated containers")

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> NetworkInfo:
        """A :class:`NetworkInfo` from podman's ``network inspect``/``ls`` object."""
        if "Id" in data or "IPAM" in data:  # a docker-shaped document (older podman/CNI)
            return DockerNetworkManager.from_inspect(data)
        subnets = [p.as_str(p.as_dict(s).get("subnet")) for s in p.as_list(data.get("subnets"))]
        return NetworkInfo(
            id=p.as_str(data.get("id")),
            name=p.as_str(data.get("name")),
            driver=p.as_str(data.get("driver"), "bridge"),
            labels=p.labels_from(data.get("labels")),
            created=p.parse_time(data.get("created")),
            internal=data.get("internal") is True,
            subnets=tuple(s for s in subnets if s),
            raw=data,
        )

    from_ls = from_inspect
