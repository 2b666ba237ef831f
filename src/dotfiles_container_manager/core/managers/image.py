"""The image manager interface."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Mapping

from ..types import BuildContext, ImageInfo

__all__ = ["ImageManager"]


class ImageManager(ABC):
    """Images: build from memory, pull, push, tag, inspect, list, remove, prune.

    Image arguments accept a reference (``name[:tag]``) or an id (``sha256:…`` or a prefix).
    """

    @abstractmethod
    def build(self, context: BuildContext, image_name: str, *, timeout: float | None = None) -> str:
        """Build ``context`` and tag it ``image_name``; return the full ``sha256:`` id.

        The build context is streamed to the CLI as an in-memory tar (no temporary files).
        A failed build raises :class:`ImageBuildError` and leaves no container behind.
        """

    @abstractmethod
    def pull(self, image: str, *, timeout: float | None = None) -> str:
        """Pull ``image`` from its registry; return its id."""

    @abstractmethod
    def push(self, image: str, *, timeout: float | None = None) -> None:
        """Push ``image`` to its registry."""

    @abstractmethod
    def tag(self, source: str, target: str) -> None:
        """Give image ``source`` the additional reference ``target``."""

    @abstractmethod
    def remove(self, image: str, force: bool = False) -> None:
        """Remove a reference (or the image when it is the last one).

        ``force`` removes the reference even while containers use the image: they keep
        running on the now untagged image. It never removes containers (podman's own
        ``rmi -f`` would). Removing an in-use image *by id* with ``force`` raises
        :class:`ImageConflictError` on podman, which cannot keep an image without a name
        for its containers. A missing image raises :class:`ImageNotFoundError`, forced or not.
        """

    @abstractmethod
    def exists(self, image: str) -> bool:
        """True when the image is present locally."""

    @abstractmethod
    def inspect(self, image: str) -> ImageInfo:
        """The image's record; :class:`ImageNotFoundError` when missing."""

    @abstractmethod
    def list(
        self, *, all: bool = False, filters: Mapping[str, str] | None = None
    ) -> builtins.list[ImageInfo]:
        """Local images, one record per image (tags grouped), from one CLI call."""

    @abstractmethod
    def prune(
        self, *, all: bool = False, filters: Mapping[str, str] | None = None
    ) -> builtins.list[str]:
        """Remove dangling images (``all``: every unused image); return the removed ids."""
