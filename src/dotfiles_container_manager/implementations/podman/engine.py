"""The podman engine: the docker engine with podman's managers."""

from __future__ import annotations

from collections.abc import Mapping

from ...core.enums import ContainerRuntime
from ...core.types import EngineInfo
from ..cli import parsing as p
from ..docker.engine import DockerEngine
from .container import PodmanContainerManager
from .errors import PodmanErrorClassifier

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from .image import PodmanImageManager
    from .network import PodmanNetworkManager
    from .volume import PodmanVolumeManager

__all__ = ["PodmanEngine"]


class PodmanEngine(DockerEngine):
    """:class:`ContainerEngine` over the podman CLI (also a ``docker`` that is podman)."""

    runtime: ClassVar[ContainerRuntime] = ContainerRuntime.PODMAN
    container_manager_class = PodmanContainerManager
    classifier_class = PodmanErrorClassifier
    host_option = "--url"
    context_option = "--connection"
    host_variable = "CONTAINER_HOST"

    @classmethod
    def image_manager_class(cls) -> type[PodmanImageManager]:
        """The class of :attr:`images`."""
        from .image import PodmanImageManager

        return PodmanImageManager

    @classmethod
    def volume_manager_class(cls) -> type[PodmanVolumeManager]:
        """The class of :attr:`volumes`."""
        from .volume import PodmanVolumeManager

        return PodmanVolumeManager

    @classmethod
    def network_manager_class(cls) -> type[PodmanNetworkManager]:
        """The class of :attr:`networks`."""
        from .network import PodmanNetworkManager

        return PodmanNetworkManager

    def learn_endpoint(self, document: Mapping[str, Any]) -> None:
        """Set :attr:`host` and :attr:`context` from what the CLI used for the probe.

        A ``version`` document without ``Server`` is the local engine: no address, no
        connection (both stay None). A remote one was reached through ``CONTAINER_HOST``,
        else a connection (the one given, ``CONTAINER_CONNECTION``, or the default), whose
        address one ``system connection list`` call reads, here, once.
        """
        if not p.as_dict(document.get("Server")):
            return
        name = self.context or self._variable("CONTAINER_CONNECTION")
        if self.context is None and (address := self._variable(self.host_variable)):
            self.host = address
        else:
            result = self.runner.run(
                ["system", "connection", "list", "--format", "json"],
                check=False,
                timeout=min(self.runner.timeout, 30.0),
            )
            rows = p.as_list(p.load_json(result)) if result.returncode == 0 else []
            for row in map(p.as_dict, rows):
                if row.get("Name") == name if name else row.get("Default") is True:
                    self.host = p.as_str(row.get("URI")) or None
                    name = p.as_str(row.get("Name")) or name
                    break
            self.context = name

    @staticmethod
    def server_version(data: Mapping[str, Any]) -> str:
        """The engine version in a podman ``version`` document (local podman has no
        ``Server``: the client is the engine)."""
        server = p.as_dict(data.get("Server")) or p.as_dict(data.get("Client"))
        return p.as_str(server.get("Version"))

    @staticmethod
    def info_from(data: Mapping[str, Any]) -> EngineInfo:
        """An :class:`EngineInfo` from podman's ``info`` document."""
        host = p.as_dict(data.get("host"))
        version = p.as_dict(data.get("version"))
        return EngineInfo(
            runtime="podman",
            version=p.as_str(version.get("Version")),
            api_version=p.as_str(version.get("APIVersion")),
            os=p.as_str(host.get("os")),
            arch=p.as_str(host.get("arch")),
            storage_driver=p.as_str(p.as_dict(data.get("store")).get("graphDriverName")),
            cgroup_version=p.as_str(host.get("cgroupVersion")).lstrip("v"),
            rootless=p.as_dict(host.get("security")).get("rootless") is True,
            raw=data,
        )
