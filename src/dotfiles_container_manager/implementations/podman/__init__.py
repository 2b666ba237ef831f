"""The podman implementation: the docker one, overridden where podman's CLI differs.

The names below are imported on first use (``core/lazy.py``).
"""

from __future__ import annotations

from ...core.lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
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

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        "PodmanContainerManager": ".container",
        "PodmanEngine": ".engine",
        "PodmanImageManager": ".image",
        "PodmanNetworkManager": ".network",
        "PodmanVolumeManager": ".volume",
    },
)
