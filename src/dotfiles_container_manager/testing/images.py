"""Images in memory: builds read from the Dockerfile, tags, removal rules, a registry."""

from __future__ import annotations

import builtins
import fnmatch
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ..core.enums import ContainerState
from ..core.exceptions import (
    ImageBuildError,
    ImageConflictError,
    ImageError,
    ImageNotFoundError,
)
from ..core.managers.image import ImageManager
from ..core.streams import ProgressCallback
from ..core.types import BuildContext, ImageInfo, ProgressEvent
from ..implementations.cli.parsing import normalize_reference
from ._filters import label_match, select
from ._model import Image
from ._store import Store, parse_since
from .dockerfile import DockerfileError, plan
from .files import FakeArchiveMixin

__all__ = ["FakeImageManager"]

#: podman's builder (buildah) labels every image it builds.
BUILDAH_LABEL = ("io.buildah.version", "1.28.2")
# docker's predefined proxy build arguments (as DockerImageManager allows them)
_DOCKER_KEYS = frozenset({"before", "dangling", "label", "reference", "since", "until"})
_PODMAN_KEYS = _DOCKER_KEYS | {
    "containers",
    "digest",
    "id",
    "intermediate",
    "manifest",
    "readonly",
}
_ACTIVE = frozenset({ContainerState.RUNNING, ContainerState.PAUSED, ContainerState.RESTARTING})


def _iso(image: Image) -> str:
    return image.created.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeImageManager(FakeArchiveMixin, ImageManager):
    """:class:`ImageManager` in memory (see :class:`~.engine.FakeEngine`)."""

    def __init__(self, store: Store) -> None:
        self._s = store

    # ------------------------------------------------------------------ hooks

    def _build(
        self,
        context: BuildContext,
        image_name: str,
        timeout: float | None,
        progress: ProgressCallback | None,
    ) -> str:
        s = self._s
        if progress is not None:
            _build_progress(context.dockerfile, progress, podman=s.podman)
        with s.lock:
            s.record(
                "images",
                "build",
                {"context": context, "image_name": image_name, "timeout": timeout},
            )
            argv = ["build", "--force-rm", "-t", image_name, "-"]

            def resolve(reference: str) -> tuple[str, Mapping[str, Any]] | None:
                ref = normalize_reference(reference)
                if context.pull:  # asks the registry, which must hold it
                    found = s.pull(ref) if ref in s.registry else None
                else:
                    found = s.find_image(reference)
                return None if found is None else (found.id, found.config)

            nonce = None
            if context.no_cache:
                s.builds += 1
                nonce = s.builds
            # BuildContext has encoded every file (and keeps the Dockerfile out of files)
            files = cast("Mapping[str, bytes]", context.files)
            try:
                built = plan(
                    context.dockerfile,
                    files=files,
                    build_args=context.build_args,
                    labels={**context.labels, **self._builder_labels()},
                    target=context.target,
                    resolve=resolve,
                    docker=not s.podman,
                    nonce=nonce,
                )
            except DockerfileError as exc:
                message = str(exc)
                raise ImageBuildError(
                    message,
                    command=[s.runtime.value, *argv],
                    exit_code=125 if s.podman else 1,
                    stderr=f"Error: {message}" if s.podman else message,
                    output=f"Error: {message}" if s.podman else message,
                ) from None
            image_id = f"sha256:{built.digest}"
            image = s.images.get(image_id)
            if image is None:
                parent = s.images.get(built.parent) if built.parent else None
                image = Image(
                    image_id,
                    built.config,
                    created=s.now(),
                    parent=built.parent,
                    size=(parent.size if parent else 0) + context.size,
                )
                s.images[image_id] = image
            for ref in (image_name, *context.tags):
                s.tag(image, normalize_reference(ref))
            return image_id

    def _builder_labels(self) -> dict[str, str]:
        return dict([BUILDAH_LABEL]) if self._s.podman else {}

    def _pull(self, image: str, timeout: float | None, progress: ProgressCallback | None) -> str:
        s = self._s
        if progress is not None:
            progress(ProgressEvent(f"Pulling {image}"))
        with s.lock:
            s.record("images", "pull", {"image": image, "timeout": timeout})
            ref = normalize_reference(image)
            if ref not in s.registry:
                raise s.error(
                    ImageNotFoundError,
                    f'short-name "{image}" did not resolve to an alias (the fake engine\'s '
                    "registry does not hold it)"
                    if s.podman
                    else f"manifest for {ref} not found: manifest unknown (the fake engine's "
                    "registry does not hold it)",
                    ["pull", image],
                )
            return s.pull(ref).id

    def _push(self, image: str, timeout: float | None, progress: ProgressCallback | None) -> None:
        s = self._s
        if progress is not None:
            progress(ProgressEvent(f"Pushing {image}"))
        with s.lock:
            s.record("images", "push", {"image": image, "timeout": timeout})
            argv = ["push", image]
            found = s.find_image(image)
            if found is None:
                raise s.error(
                    ImageNotFoundError,
                    f"{image}: image not known"
                    if s.podman
                    else f"An image does not exist locally with the tag: {image}",
                    argv,
                )
            snapshot = Image(
                found.id,
                json.loads(json.dumps(found.config)),
                created=found.created,
                parent=found.parent,
                size=found.size,
            )
            s.registry[normalize_reference(image)] = snapshot

    def _tag(self, source: str, target: str) -> None:
        s = self._s
        with s.lock:
            s.record("images", "tag", {"source": source, "target": target})
            image = s.image(source, ["tag", source, target])
            s.tag(image, normalize_reference(target))

    def _remove(self, image: str, force: bool) -> None:
        s = self._s
        with s.lock:
            s.record("images", "remove", {"image": image, "force": force})
            argv = ["rmi", *(["-f"] if force else []), image]
            found = s.find_image(image)
            if found is None:
                raise s.error(
                    ImageNotFoundError,
                    f"{image}: image not known" if s.podman else f"No such image: {image}",
                    argv,
                    podman_code=1,
                )
            ref = normalize_reference(image)
            if s.tags.get(ref) is found:
                self._remove_tag(found, ref, force, argv)
            else:
                self._remove_id(found, image, force, argv)

    def _remove_tag(self, image: Image, ref: str, force: bool, argv: Sequence[str]) -> None:
        s = self._s
        if len(image.tags) > 1:
            s.untag(ref)
            return
        if image.users:
            running = self._running_users(image)
            if not force:
                user = next(iter(image.users))
                raise s.error(
                    ImageConflictError,
                    f"image used by {user}: image is in use by a container"
                    if s.podman
                    else f'conflict: unable to remove repository reference "{ref}" (must force) '
                    f"- container {user[:12]} is using its referenced image {image.id[7:19]}",
                    argv,
                    podman_code=2,
                )
            if s.podman or running:
                s.untag(ref)  # the containers keep the image, now untagged
                return
        if s.children(image) and not s.podman:
            s.untag(ref)  # the image stays, as the untagged parent of another
            return
        s.delete_image(image)

    def _remove_id(self, image: Image, given: str, force: bool, argv: Sequence[str]) -> None:
        s = self._s
        short = image.id[7:19]
        if s.children(image) and not s.podman:  # podman deletes it; its child stays
            raise s.error(
                ImageConflictError,
                f"conflict: unable to delete {short} (cannot be forced) - image has dependent "
                "child images",
                argv,
            )
        if len(image.tags) > 1 and not force:
            raise s.error(
                ImageConflictError,
                f'unable to delete image "{image.id[7:]}" by digest with more than one tag '
                f"({sorted(image.tags)}): please force removal"
                if s.podman
                else f"conflict: unable to delete {short} (must be forced) - image is referenced "
                "in multiple repositories",
                argv,
            )
        if image.users:
            running = self._running_users(image)
            if not force or running or s.podman:
                users = ", ".join(u[:12] for u in sorted(image.users))
                raise s.error(
                    ImageConflictError,
                    f"image used by {users}: image is in use by a container"
                    if s.podman
                    else f"conflict: unable to delete {short} ("
                    + ("cannot be forced" if running else "must be forced")
                    + f") - image is being used by {'running' if running else 'stopped'} "
                    f"container {users}",
                    argv,
                    podman_code=2,
                )
        s.delete_image(image)

    def _running_users(self, image: Image) -> bool:
        containers = self._s.containers
        return any(containers[c].state in _ACTIVE for c in image.users if c in containers)

    def _exists(self, image: str) -> bool:
        s = self._s
        with s.lock:
            s.record("images", "exists", {"image": image})
            return s.find_image(image) is not None

    def _inspect(self, image: str) -> ImageInfo:
        s = self._s
        with s.lock:
            s.record("images", "inspect", {"image": image})
            found = s.image(image, ["image", "inspect", image])
            return self._info(found)

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ImageInfo]:
        s = self._s
        with s.lock:
            s.record("images", "list", {"all": all, "filters": filters})
            images = list(reversed(s.images.values()))  # the newest first
            if not all:
                parents = {i.parent for i in images if i.parent}
                images = [i for i in images if i.tags or i.id not in parents]
            images = self._filter(images, filters, ["images", "--filter", "..."])
            return [self._info(i) for i in images]

    def _prune(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        s = self._s
        with s.lock:
            s.record("images", "prune", {"all": all, "filters": filters})
            argv = ["image", "prune", "-f", *(["-a"] if all else [])]
            now = time.time()
            deleted: list[str] = []
            while True:
                parents = {i.parent for i in s.images.values() if i.parent}
                candidates = [
                    i
                    for i in s.images.values()
                    if not i.users and i.id not in parents and (all or not i.tags)
                ]
                chosen = select(
                    s,
                    candidates,
                    filters,
                    {
                        "label": lambda i, v: label_match(i.labels, v),
                        "until": lambda i, v: self._until(i, v, now, argv),
                    },
                    known=frozenset({"label", "until", "dangling"}),
                    error=ImageError,
                    argv=argv,
                )
                if not chosen:
                    return deleted
                for image in chosen:
                    if image.id in s.images:
                        deleted += s.delete_image(image)

    # ------------------------------------------------------------------ helpers

    def _until(self, image: Image, value: str, now: float, argv: Sequence[str]) -> bool:
        moment = parse_since(value, now)
        if moment is None:
            raise self._s.error(ImageError, f"invalid until {value!r}", argv)
        return image.created.timestamp() < moment

    def _filter(
        self, images: builtins.list[Image], filters: Mapping[str, tuple[str, ...]], argv: Any
    ) -> builtins.list[Image]:
        s = self._s
        order = {image_id: n for n, image_id in enumerate(s.images)}

        def reference(image: Image, value: str) -> bool:
            return any(
                fnmatch.fnmatchcase(tag, value)
                or fnmatch.fnmatchcase(tag.rpartition(":")[0], value)
                for tag in image.tags
            )

        def dangling(image: Image, value: str) -> bool:
            return (not image.tags) == (value.lower() in ("true", "1"))

        def relative(later: bool) -> Any:
            def check(image: Image, value: str) -> bool:
                other = s.image(value, argv)
                return (order[image.id] > order[other.id]) == later

            return check

        predicates = {
            "label": lambda i, v: label_match(i.labels, v),
            "reference": reference,
            "dangling": dangling,
            "before": relative(False),
            "since": relative(True),
        }
        if s.podman:
            predicates["id"] = lambda i, v: i.id[7:].startswith(v.removeprefix("sha256:"))
        return select(
            s,
            images,
            filters,
            predicates,
            known=_PODMAN_KEYS if s.podman else _DOCKER_KEYS,
            error=ImageError,
            argv=argv,
        )

    def _info(self, image: Image) -> ImageInfo:
        if image.info is None:
            config = json.loads(json.dumps(image.config))
            image.info = ImageInfo(
                id=image.id,
                tags=tuple(sorted(image.tags)),
                size=image.size,
                created=image.created,
                labels=dict(image.labels),
                raw={
                    "Id": image.id,
                    "RepoTags": sorted(image.tags),
                    "RepoDigests": [],
                    "Parent": image.parent or "",
                    "Created": _iso(image),
                    "Size": image.size,
                    "Os": "linux",
                    "Architecture": "amd64",
                    "Config": config,
                },
            )
        return image.info


def _build_progress(dockerfile: str, progress: ProgressCallback, *, podman: bool) -> None:
    """One event per Dockerfile instruction, worded as the runtime's builder words its step
    lines (docker ``Step 2/5 : RUN x``, podman ``STEP 2/5: RUN x``), before the build."""
    steps = [
        line.strip()
        for line in dockerfile.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for number, step in enumerate(steps, 1):
        line = (
            f"STEP {number}/{len(steps)}: {step}"
            if podman
            else f"Step {number}/{len(steps)} : {step}"
        )
        progress(ProgressEvent(line, number, len(steps)))
