"""dotfiles-container-manager: one typed Python API over the docker and podman CLIs.

    from dotfiles_container_manager import ContainerEngineFactory, RunConfig

    engine = ContainerEngineFactory.create()          # docker, else podman
    cid = engine.containers.run(RunConfig("alpine:3", command=["sleep", "60"]))

Importing the package costs almost nothing: the names below are loaded on first use.
"""

from __future__ import annotations

from .core.lazy import lazy_exports

# Not `from typing import TYPE_CHECKING`: importing typing (with re, contextlib and
# collections behind it) would cost more than everything else here. Type checkers read this
# name the same way.
TYPE_CHECKING = False

__version__ = "0.1.0"

# name -> module that defines it (relative to this package)
_EXPORTS = {
    "ContainerEngineFactory": ".factory",
    "ContainerEngine": ".core.base",
    "ImageManager": ".core.managers.image",
    "ContainerManager": ".core.managers.container",
    "VolumeManager": ".core.managers.volume",
    "NetworkManager": ".core.managers.network",
    "BuildContext": ".core.types",
    "RunConfig": ".core.types",
    "VolumeMount": ".core.types",
    "PortMapping": ".core.types",
    "ExecResult": ".core.types",
    "ImageInfo": ".core.types",
    "ContainerInfo": ".core.types",
    "VolumeInfo": ".core.types",
    "NetworkInfo": ".core.types",
    "EngineInfo": ".core.types",
    "EngineOptions": ".core.types",
    "Filters": ".core.types",
    "HealthCheck": ".core.types",
    "ProgressEvent": ".core.types",
    "LogLine": ".core.types",
    "LogStream": ".core.streams",
    "ContainerRuntime": ".core.enums",
    "ContainerState": ".core.enums",
    "RestartPolicy": ".core.enums",
    "PullPolicy": ".core.enums",
    "ContainerError": ".core.exceptions",
    "RuntimeNotAvailableError": ".core.exceptions",
    "CommandTimeoutError": ".core.exceptions",
    "InvalidConfigError": ".core.exceptions",
    "OutputParseError": ".core.exceptions",
    "ResourceNotFoundError": ".core.exceptions",
    "ResourceConflictError": ".core.exceptions",
    "ImageError": ".core.exceptions",
    "ImageNotFoundError": ".core.exceptions",
    "ImageBuildError": ".core.exceptions",
    "ImageConflictError": ".core.exceptions",
    "ContainerOperationError": ".core.exceptions",
    "ContainerNotFoundError": ".core.exceptions",
    "ContainerConflictError": ".core.exceptions",
    "ContainerPathError": ".core.exceptions",
    "ContainerNotReadyError": ".core.exceptions",
    "VolumeError": ".core.exceptions",
    "VolumeNotFoundError": ".core.exceptions",
    "VolumeConflictError": ".core.exceptions",
    "NetworkError": ".core.exceptions",
    "NetworkNotFoundError": ".core.exceptions",
    "NetworkConflictError": ".core.exceptions",
}

__all__ = [
    "BuildContext",
    "CommandTimeoutError",
    "ContainerConflictError",
    "ContainerEngine",
    "ContainerEngineFactory",
    "ContainerError",
    "ContainerInfo",
    "ContainerManager",
    "ContainerNotFoundError",
    "ContainerNotReadyError",
    "ContainerOperationError",
    "ContainerPathError",
    "ContainerRuntime",
    "ContainerState",
    "EngineInfo",
    "EngineOptions",
    "ExecResult",
    "Filters",
    "HealthCheck",
    "ImageBuildError",
    "ImageConflictError",
    "ImageError",
    "ImageInfo",
    "ImageManager",
    "ImageNotFoundError",
    "InvalidConfigError",
    "LogLine",
    "LogStream",
    "NetworkConflictError",
    "NetworkError",
    "NetworkInfo",
    "NetworkManager",
    "NetworkNotFoundError",
    "OutputParseError",
    "PortMapping",
    "ProgressEvent",
    "PullPolicy",
    "ResourceConflictError",
    "ResourceNotFoundError",
    "RestartPolicy",
    "RunConfig",
    "RuntimeNotAvailableError",
    "VolumeConflictError",
    "VolumeError",
    "VolumeInfo",
    "VolumeManager",
    "VolumeMount",
    "VolumeNotFoundError",
]

if TYPE_CHECKING:  # what type checkers and IDEs see
    from .core.base import ContainerEngine
    from .core.enums import ContainerRuntime, ContainerState, PullPolicy, RestartPolicy
    from .core.exceptions import (
        CommandTimeoutError,
        ContainerConflictError,
        ContainerError,
        ContainerNotFoundError,
        ContainerNotReadyError,
        ContainerOperationError,
        ContainerPathError,
        ImageBuildError,
        ImageConflictError,
        ImageError,
        ImageNotFoundError,
        InvalidConfigError,
        NetworkConflictError,
        NetworkError,
        NetworkNotFoundError,
        OutputParseError,
        ResourceConflictError,
        ResourceNotFoundError,
        RuntimeNotAvailableError,
        VolumeConflictError,
        VolumeError,
        VolumeNotFoundError,
    )
    from .core.managers.container import ContainerManager
    from .core.managers.image import ImageManager
    from .core.managers.network import NetworkManager
    from .core.managers.volume import VolumeManager
    from .core.streams import LogStream
    from .core.types import (
        BuildContext,
        ContainerInfo,
        EngineInfo,
        EngineOptions,
        ExecResult,
        Filters,
        HealthCheck,
        ImageInfo,
        LogLine,
        NetworkInfo,
        PortMapping,
        ProgressEvent,
        RunConfig,
        VolumeInfo,
        VolumeMount,
    )
    from .factory import ContainerEngineFactory


__getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
