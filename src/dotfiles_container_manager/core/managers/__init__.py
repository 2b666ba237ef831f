"""The four manager interfaces every engine provides."""

from .container import ContainerManager
from .image import ImageManager
from .network import NetworkManager
from .volume import VolumeManager

__all__ = ["ContainerManager", "ImageManager", "NetworkManager", "VolumeManager"]
