"""The podman implementation: the docker one, overridden where podman's CLI differs."""

from .container import PodmanContainerManager
from .engine import PodmanEngine
from .image import PodmanImageManager
from .network import PodmanNetworkManager
from .volume import PodmanVolumeManager

__all__ = [
    "PodmanContainerManager",
    "PodmanEngine",
    "PodmanImageManager",
    "PodmanNetworkManager",
    "PodmanVolumeManager",
]
