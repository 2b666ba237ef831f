"""Images on podman: what differs from docker."""

from __future__ import annotations

import builtins
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ...core import validation as v
from ...core.exceptions import ImageConflictError, ImageNotFoundError
from ...core.types import ImageInfo
from ..cli import parsing as p
from ..cli.command import CommandResult, Runner
from ..docker.image import DockerImageManager
from ..docker.utils import filter_args

__all__ = ["PodmanImageManager"]

_LIST_ATTEMPTS = 10
_VANISHED = re.compile(r"does not exist|image not known|no such image", re.IGNORECASE)


class PodmanImageManager(DockerImageManager):
    """Podman's ``images`` JSON is complete (one call); ``rmi -f`` deletes containers."""

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ImageInfo]:
        # One `images` call: podman's JSON is complete (one entry per image, deduplicated).
        args = ["images", "--format", "{{json .}}", *(["-a"] if all else []), *filter_args(filters)]
        records: dict[str, ImageInfo] = {}
        for row in p.load_records(self._images(args)):
            info = self.from_list(row)
            records.setdefault(info.id, info)
        return list(records.values())

    def _images(self, args: builtins.list[str]) -> CommandResult:
        # podman 4.3's `images` fails when an image it is reading is removed meanwhile
        # ("retrieving parent of image …: file does not exist", "image not known"): the
        # listing is taken again, a few times, before that is an error.
        for attempt in range(1, _LIST_ATTEMPTS):
            result = self._call(args, check=False)
            if result.returncode == 0:
                return result
            failure = self._runner.classify(result, self.error)
            if not isinstance(failure, ImageNotFoundError) and not _VANISHED.search(
                result.stderr_text
            ):
                raise failure
            time.sleep(0.05 * attempt)  # let a removal in progress finish (2.2 s at most)
        return self._call(args)

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
        info = self.inspect(image)
        image_id = info.id.removeprefix("sha256:")
        users = self._lines(self._call(["ps", "-a", "-q", "--filter", f"ancestor={image_id}"]))
        if not users:
            self._call(["rmi", "-f", image])  # safe: no container uses it
            return
        by_id = image_id.startswith(image.removeprefix("sha256:"))
        if v.is_image_id(image) or (by_id and p.normalize_reference(image) not in info.tags):
            # an id, or an id prefix of any length (podman would `untag` it as a name)
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
