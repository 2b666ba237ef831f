"""The docker engine: the runner plus the four docker managers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ...core.base import ContainerEngine
from ...core.enums import ContainerRuntime
from ...core.exceptions import ContainerError, OutputParseError
from ...core.types import EngineInfo
from ..cli import parsing as p
from ..cli.errors import ErrorClassifier
from ..cli.runner import DEFAULT_TIMEOUT, CommandRunner
from .container import DockerContainerManager
from .image import DockerImageManager
from .network import DockerNetworkManager
from .volume import DockerVolumeManager

__all__ = ["DockerEngine"]

# docker's info prints `uname -m`; podman (and image metadata) use Go's names.
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


class DockerEngine(ContainerEngine):
    """:class:`ContainerEngine` over the docker CLI.

    Args:
        command: The CLI (a name on PATH or a path).
        timeout: Default limit in seconds for one CLI call (builds/pulls get longer).
        global_args: Options put before every subcommand, e.g. ``["--context", "remote"]``.
        env: Extra environment for every call, e.g. ``{"DOCKER_HOST": "ssh://host"}``.
    """

    runtime: ClassVar[ContainerRuntime] = ContainerRuntime.DOCKER
    image_manager_class: ClassVar[type[DockerImageManager]] = DockerImageManager
    container_manager_class: ClassVar[type[DockerContainerManager]] = DockerContainerManager
    volume_manager_class: ClassVar[type[DockerVolumeManager]] = DockerVolumeManager
    network_manager_class: ClassVar[type[DockerNetworkManager]] = DockerNetworkManager
    classifier_class: ClassVar[type[ErrorClassifier]] = ErrorClassifier

    def __init__(
        self,
        command: str | None = None,
        *,
        timeout: float | None = None,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        command = command or self.runtime.value
        super().__init__(command)
        self.runner = CommandRunner(
            command,
            runtime=self.runtime.value,
            classifier=self.classifier_class(self.runtime.value),
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            global_args=global_args,
            env=env,
        )
        self._images = self.image_manager_class(self.runner)
        self._containers = self.container_manager_class(self.runner)
        self._volumes = self.volume_manager_class(self.runner)
        self._networks = self.network_manager_class(self.runner)

    @property
    def images(self) -> DockerImageManager:
        """Image operations."""
        return self._images

    @property
    def containers(self) -> DockerContainerManager:
        """Container operations."""
        return self._containers

    @property
    def volumes(self) -> DockerVolumeManager:
        """Volume operations."""
        return self._volumes

    @property
    def networks(self) -> DockerNetworkManager:
        """Network operations."""
        return self._networks

    @property
    def timeout(self) -> float:
        """The default limit, in seconds, for one CLI call."""
        return self.runner.timeout

    # ------------------------------------------------------------------ identity

    def version_document(self) -> dict[str, Any]:
        """``version --format '{{json .}}'`` parsed; raises when the server does not answer.

        One call that both proves the daemon answers and tells docker from podman (the
        podman-docker shim answers to ``docker`` too).
        """
        result = self.runner.run(
            ["version", "--format", "{{json .}}"],
            error=ContainerError,
            timeout=min(self.runner.timeout, 30.0),
        )
        data = p.load_json(result)
        if not isinstance(data, dict):
            raise OutputParseError(
                "version is not a JSON object", output=result.stdout_text, command=result.command
            )
        # Recorded for the calls whose flags depend on it (volumes.prune): no second ask.
        self.runner.api_version = p.api_version(p.as_dict(data.get("Server")).get("ApiVersion"))
        return data

    def version(self) -> str:
        """The server version."""
        data = self.version_document()
        return self.server_version(data)

    @staticmethod
    def server_version(data: Mapping[str, Any]) -> str:
        """The server version in a ``version`` document (podman local: the client's)."""
        server = p.as_dict(data.get("Server"))
        return p.as_str(server.get("Version")) or p.as_str(
            p.as_dict(data.get("Client")).get("Version")
        )

    def is_available(self) -> bool:
        """True when the CLI runs and the server answers."""
        try:
            data = self.version_document()
        except ContainerError:
            return False
        return bool(p.as_dict(data.get("Server")).get("Version")) or self.runtime is not (
            ContainerRuntime.DOCKER
        )

    def info(self) -> EngineInfo:
        """Facts about the daemon."""
        result = self.runner.run(["info", "--format", "{{json .}}"], error=ContainerError)
        data = p.load_json(result)
        return self.info_from(p.as_dict(data))

    @staticmethod
    def info_from(data: Mapping[str, Any]) -> EngineInfo:
        """An :class:`EngineInfo` from docker's ``info`` document."""
        security = [p.as_str(s) for s in p.as_list(data.get("SecurityOptions"))]
        arch = p.as_str(data.get("Architecture"))
        return EngineInfo(
            runtime="docker",
            version=p.as_str(data.get("ServerVersion")),
            os=p.as_str(data.get("OSType")),
            arch=_GOARCH.get(arch, arch),
            storage_driver=p.as_str(data.get("Driver")),
            cgroup_version=p.as_str(data.get("CgroupVersion")),
            rootless=any("rootless" in s for s in security),
            raw=data,
        )
