"""Images on podman: what differs from docker."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...core import validation as v
from ...core.exceptions import ImageConflictError
from ...core.types import ImageInfo
from ..cli import parsing as p
from ..cli.command import Runner
from ..docker.image import DockerImageManager
from ..docker.utils import filter_args

__all__ = ["PodmanImageManager"]


class PodmanImageManager(DockerImageManager):
    """Podman's ``images`` JSON is complete (one call); ``rmi -f`` deletes containers."""

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ImageInfo]:
        # One `images` call: podman's JSON is complete (one entry per image, deduplicated).
        args = ["images", "--format", "{{json .}}", *(["-a"] if all else []), *filter_args(filters)]
        records: dict[str, ImageInfo] = {}
        for row in p.load_records(self._call(args)):
            info = self.from_list(row)
            records.setdefault(info.id, info)
        return list(records.values())

    def __init__(self, runner: Runner) -> None:
        super().__init__(runner)
        # podman 4.3 removing images concurrently leaves parent layers behind (each rmi
        # sees the others' children); one removal at a time per engine keeps it clean.
        self._remove_lock = threading.Lock()

    def _remove(self, image: str, force: bool) -> None:
        # `force` as on docker: untags an image containers still use, and never removes
        # those containers (podman's own `rmi -f` would).
        with self._remove_lock:
            self._remove_one(image, force)

    def _remove_one(self, image: str, force: bool) -> None:
        if not force:
            self._call(["rmi", image])
            return
        # podman's ancestor filter matches an image id, not every name of the image.
        image_id = self.inspect(image).id.removeprefix("sha256:")
        users = self._lines(self._call(["ps", "-a", "-q", "--filter", f"ancestor={image_id}"]))
        if not users:
            self._call(["rmi", "-f", image])  # safe: no container uses it
            return
        if v.is_image_id(image):
            raise ImageConflictError(f"image {image!r} is used by containers {', '.join(users)}")
        # Like docker's `rmi -f NAME` for an image in use: the name goes, the image stays.
        self._call(["untag", image, image])

    def _save_options(self, images: tuple[str, ...]) -> builtins.list[str]:
        # Without -m, podman reads the names after the first as more tags of the first.
        return ["-m"] if len(images) > 1 else []

    @staticmethod
    def _loaded_reference(ref: str) -> str:
        # podman prints "localhost/x:1" and resolves "x:1" to it: docker's short form.
        return p.normalize_reference(ref)

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> ImageInfo:
        """An :class:`ImageInfo` from one podman ``image inspect`` object: docker's shape, but
        labels may sit at the top level only."""
        info = DockerImageManager.from_inspect(data)
        if not info.labels and data.get("Labels"):
            return replace(info, labels=p.labels_from(data.get("Labels")))
        return info

    @staticmethod
    def from_list(data: Mapping[str, Any]) -> ImageInfo:
        """An :class:`ImageInfo` from one podman ``images`` JSON object."""
        names = p.as_list(data.get("Names")) or p.as_list(data.get("RepoTags"))
        return ImageInfo(
            id=p.full_image_id(data.get("Id") or data.get("ID")),
            tags=tuple(sorted({p.normalize_reference(n) for n in names})),
            size=p.as_int(data.get("Size"), 0) or 0,
            created=p.parse_time(data.get("Created")),
            labels=p.labels_from(data.get("Labels")),
            digests=tuple(sorted(p.as_str(d) for d in p.as_list(data.get("RepoDigests")))),
            raw=data,
        )
