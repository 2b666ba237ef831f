"""The docker implementation of the engine and its managers."""

from .container import DockerContainerManager
from .engine import DockerEngine
from .image import DockerImageManager
from .network import DockerNetworkManager
from .volume import DockerVolumeManager

__all__ = [
    "DockerContainerManager",
    "DockerEngine",
    "DockerImageManager",
    "DockerNetworkManager",
    "DockerVolumeManager",
]
