"""The docker implementation of the engine and its managers.

The names below are imported on first use (``core/lazy.py``).
"""

from __future__ import annotations

from ...core.lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        "DockerContainerManager": ".container",
        "DockerEngine": ".engine",
        "DockerImageManager": ".image",
        "DockerNetworkManager": ".network",
        "DockerVolumeManager": ".volume",
    },
)
