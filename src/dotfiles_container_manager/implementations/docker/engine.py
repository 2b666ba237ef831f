"""The docker engine: the runner plus the four docker managers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from contextlib import suppress

from ...core import validation as v
from ...core.base import ContainerEngine
from ...core.enums import ContainerRuntime
from ...core.exceptions import (
    ContainerError,
    InvalidConfigError,
    OutputParseError,
    RuntimeNotAvailableError,
)
from ...core.types import EngineInfo, EngineOptions
from ..cli import parsing as p
from ..cli.command import Runner
from ..cli.errors import ErrorClassifier
from ..cli.runner import DEFAULT_TIMEOUT, CommandRunner
from .container import DockerContainerManager

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

    from .image import DockerImageManager
    from .network import DockerNetworkManager
    from .volume import DockerVolumeManager

__all__ = ["DockerEngine"]


def is_podman_document(document: Mapping[str, Any]) -> bool:
    """True when a ``version`` document comes from podman (also behind a ``docker`` name)."""
    client = document.get("Client")
    if not isinstance(client, dict):
        return False
    # podman: "APIVersion", "OsArch", "BuiltTime"; docker: "ApiVersion", "Os", "Arch".
    return "OsArch" in client or "BuiltTime" in client or "APIVersion" in client


#: Where the docker CLI goes when neither a host, DOCKER_HOST nor a context says otherwise.
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"

# docker's info prints `uname -m`; podman (and image metadata) use Go's names.
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


class DockerEngine(ContainerEngine):
    """:class:`ContainerEngine` over the docker CLI.

    Args:
        command: The CLI (a name on PATH or a path); default: the runtime's name.
        timeout: Default limit in seconds for one CLI call (builds/pulls get longer).
        host: The engine to reach (``--host`` here, ``--url`` on podman), e.g.
            ``"unix:///run/other.sock"`` or ``"ssh://user@host"``.
        context: A named context (``--context``; podman: ``--connection``).
        global_args: Further options put before every subcommand.
        env: Extra environment for every call, e.g. ``{"DOCKER_CONFIG": "/path"}``.
        runner: Run the CLI through this :class:`~..cli.command.Runner` instead of a
            :class:`CommandRunner` made from the options above (a test double, or a
            transport of your own).
    """

    runtime: ClassVar[ContainerRuntime] = ContainerRuntime.DOCKER
    container_manager_class: ClassVar[type[DockerContainerManager]] = DockerContainerManager
    classifier_class: ClassVar[type[ErrorClassifier]] = ErrorClassifier
    #: The CLI's options for ``host`` and ``context``.
    host_option: ClassVar[str] = "--host"
    context_option: ClassVar[str] = "--context"
    #: The environment variable that gives the CLI its address.
    host_variable: ClassVar[str] = "DOCKER_HOST"

    def __init__(
        self,
        command: str | None = None,
        *,
        timeout: float | None = None,
        host: str | None = None,
        context: str | None = None,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        runner: Runner | None = None,
    ) -> None:
        self.command = command or self.runtime.value
        self.host = None if host is None else v.check_reference("host", host)
        self._env = dict(env or {})
        self._address: tuple[str | None, str] | None = None  # (host, its address), once asked
        self.context = None if context is None else v.check_reference("context", context)
        if host is not None and context is not None:
            # docker refuses the pair ("conflicting options"); podman would use the context.
            raise InvalidConfigError("context", context, "cannot be combined with host: give one")
        if runner is None:
            where = [*([self.host_option, host] if host else [])]
            where += [self.context_option, context] if context else []
            cli: Runner = CommandRunner(
                self.command,
                runtime=self.runtime.value,
                classifier=self.classifier_class(self.runtime.value),
                timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
                global_args=[*where, *v.check_args("global_args", global_args)],
                env=env,
            )
            runner = cli
        self.runner: Runner = runner
        self._containers = self.container_manager_class(runner)
        self._containers.engine = self  # where the engine is decides bind sources and ports
        # Made at first use, with their modules: a script that only runs containers does not
        # load the image, volume and network code. Two threads may both make one; either
        # is as good (a manager keeps nothing but the runner).
        self._images: DockerImageManager | None = None
        self._volumes: DockerVolumeManager | None = None
        self._networks: DockerNetworkManager | None = None

    @classmethod
    def from_options(cls, options: EngineOptions) -> DockerEngine:
        """An engine for ``options``, not yet probed."""
        return cls(
            options.command,
            timeout=options.timeout,
            host=options.host,
            context=options.context,
            global_args=options.global_args,
            env=options.env,
        )

    @classmethod
    def image_manager_class(cls) -> type[DockerImageManager]:
        """The class of :attr:`images` (imported now: see ``__init__``)."""
        from .image import DockerImageManager

        return DockerImageManager

    @classmethod
    def volume_manager_class(cls) -> type[DockerVolumeManager]:
        """The class of :attr:`volumes`."""
        from .volume import DockerVolumeManager

        return DockerVolumeManager

    @classmethod
    def network_manager_class(cls) -> type[DockerNetworkManager]:
        """The class of :attr:`networks`."""
        from .network import DockerNetworkManager

        return DockerNetworkManager

    @property
    def images(self) -> DockerImageManager:
        """Image operations."""
        if self._images is None:
            self._images = self.image_manager_class()(self.runner)
        return self._images

    @property
    def containers(self) -> DockerContainerManager:
        """Container operations."""
        return self._containers

    @property
    def volumes(self) -> DockerVolumeManager:
        """Volume operations."""
        if self._volumes is None:
            self._volumes = self.volume_manager_class()(self.runner)
        return self._volumes

    @property
    def networks(self) -> DockerNetworkManager:
        """Network operations."""
        if self._networks is None:
            self._networks = self.network_manager_class()(self.runner)
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

    def probe(self) -> ContainerRuntime:
        """One ``version`` call: the server must answer with a version. Podman's document
        (also behind a ``docker`` command) has a ``Client`` of its own shape.

        When no host was given, what the probe saw sets :attr:`host` and :attr:`context`
        (:meth:`learn_endpoint`). An unreachable engine raises
        :class:`RuntimeNotAvailableError` with the CLI's message, within the probe's time
        limit (30 s at most); the factory adds the diagnosis' hint."""
        try:
            data = self.version_document()
        except RuntimeNotAvailableError:
            raise
        except ContainerError as exc:
            raise RuntimeNotAvailableError(
                f"{self.runtime.value} does not answer: {exc.message}",
                runtime=self.runtime.value,
                command=exc.command,
                exit_code=exc.exit_code,
                stderr=exc.stderr,
            ) from exc
        if is_podman_document(data):
            answered = ContainerRuntime.PODMAN
        elif self.server_version(data):
            answered = ContainerRuntime.DOCKER
        else:
            raise RuntimeNotAvailableError(
                f"{self.runtime.value} server did not report a version",
                runtime=self.runtime.value,
                command=[self.command, "version"],
            )
        if answered is self.runtime and self.host is None:
            with suppress(ContainerError):  # the engine answered: where it is, is a report
                self.learn_endpoint(data)
        return answered

    # ------------------------------------------------------------------ where

    def _variable(self, name: str) -> str | None:
        """An environment variable as the CLI sees it (the engine's ``env`` first)."""
        value = self._env[name] if name in self._env else os.environ.get(name)
        return value or None

    def learn_endpoint(self, document: Mapping[str, Any]) -> None:
        """Set :attr:`host` and :attr:`context` from what the CLI used for the probe.

        docker names the context in force in its ``version`` document: ``"default"`` is
        ``DOCKER_HOST`` or the default socket (no further call); another context's address is
        read with one ``context inspect`` call, made here once.
        """
        name = self.context or p.as_str(p.as_dict(document.get("Client")).get("Context"))
        name = name or "default"
        if name == "default":
            self.host = self._variable(self.host_variable) or DEFAULT_DOCKER_HOST
        else:
            result = self.runner.run(
                ["context", "inspect", "--format", "{{json .Endpoints.docker.Host}}", name],
                check=False,
                timeout=min(self.runner.timeout, 30.0),
            )
            if result.returncode == 0:
                self.host = p.as_str(p.load_json(result)) or None
        self.context = name

    @property
    def host_address(self) -> str:
        """The address at which published ports are reached from here (see
        :attr:`ContainerEngine.host_address`). An ``ssh://`` host that is an alias of the
        ssh configuration is resolved with ``ssh -G`` (no connection; once per host)."""
        if self._address is None or self._address[0] != self.host:
            address = super().host_address
            if self.host is not None and self.host.lower().startswith("ssh://"):
                from ..cli.connection import ssh_hostname  # ssh engines only

                address = ssh_hostname(self.host, self._env) or address
            self._address = (self.host, address)
        return self._address[1]

    def version(self) -> str:
        """The server version."""
        return self.server_version(self.version_document())

    @staticmethod
    def server_version(data: Mapping[str, Any]) -> str:
        """The server version in a docker ``version`` document."""
        return p.as_str(p.as_dict(data.get("Server")).get("Version"))

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
