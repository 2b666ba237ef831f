"""The four manager interfaces every engine provides.

The names below are imported on first use (``core/lazy.py``).
"""

from __future__ import annotations

from ..lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .container import ContainerManager
    from .image import ImageManager
    from .network import NetworkManager
    from .volume import VolumeManager

__all__ = [
    "ContainerManager",
    "ImageManager",
    "NetworkManager",
    "VolumeManager",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    globals(),
    {
        "ContainerManager": ".container",
        "ImageManager": ".image",
        "NetworkManager": ".network",
        "VolumeManager": ".volume",
    },
)
