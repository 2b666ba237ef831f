"""The image manager interface.

Public methods check their arguments, then call one abstract hook with the checked values
(see :mod:`.container` for why the checks live here).
"""

from __future__ import annotations

import builtins
import os
from abc import ABC, abstractmethod
from collections.abc import Sequence

from .. import validation as v
from ..exceptions import InvalidConfigError
from ..streams import ProgressCallback
from ..types import BuildContext, Filters, ImageInfo

__all__ = ["ImageManager"]


def _progress(progress: object) -> ProgressCallback | None:
    if progress is not None and not callable(progress):
        raise InvalidConfigError("progress", type(progress).__name__, "must be callable")
    return progress


class ImageManager(ABC):
    """Images: build from memory, pull, push, tag, inspect, list, remove, prune.

    Image arguments accept a reference (``name[:tag]``) or an id (``sha256:…`` or a prefix).
    """

    def build(
        self,
        context: BuildContext,
        image_name: str,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> str:
        """Build ``context`` and tag it ``image_name``; return the full ``sha256:`` id.

        The build context is streamed to the CLI as an in-memory tar (no temporary files).
        A failed build raises :class:`ImageBuildError` (``.output``: the whole log) and
        leaves no container behind.

        ``progress``, when given, is called with a :class:`ProgressEvent` for each line of
        the build's output as it arrives (``step``/``total_steps`` from the builder's step
        lines), on the calling thread, before this returns; a failed build has delivered
        every line before it raises. An exception raised by ``progress`` stops the build
        (the CLI is killed) and propagates.
        """
        if not isinstance(context, BuildContext):
            raise InvalidConfigError("context", type(context).__name__, "must be a BuildContext")
        v.check_build_args("BuildContext.build_args", context.build_args)
        return self._build(
            context,
            v.check_image_ref("image_name", image_name),
            v.check_optional_timeout("timeout", timeout),
            _progress(progress),
        )

    def pull(
        self,
        image: str,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> str:
        """Pull ``image`` from its registry; return its id. ``progress``: as for
        :meth:`build` (a pull's lines have no steps)."""
        return self._pull(
            v.check_image("image", image),
            v.check_optional_timeout("timeout", timeout),
            _progress(progress),
        )

    def push(
        self,
        image: str,
        *,
        timeout: float | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        """Push ``image`` to its registry. ``progress``: as for :meth:`build`."""
        self._push(
            v.check_image("image", image),
            v.check_optional_timeout("timeout", timeout),
            _progress(progress),
        )

    def tag(self, source: str, target: str) -> None:
        """Give image ``source`` the additional reference ``target``."""
        self._tag(v.check_image("source", source), v.check_image_ref("target", target))

    def remove(self, image: str, force: bool = False) -> None:
        """Remove a reference (or the image when it is the last one).

        ``force`` removes the reference even while containers use the image: they keep
        running on the now untagged image. It never removes containers (podman's own
        ``rmi -f`` would). A missing image raises :class:`ImageNotFoundError`, forced or not.
        """
        self._remove(v.check_image("image", image), bool(force))

    def exists(self, image: str) -> bool:
        """True when the image is present locally."""
        return self._exists(v.check_image("image", image))

    def inspect(self, image: str) -> ImageInfo:
        """The image's record; :class:`ImageNotFoundError` when missing."""
        return self._inspect(v.check_image("image", image))

    def list(
        self, all: bool = False, *, filters: Filters | None = None
    ) -> builtins.list[ImageInfo]:
        """Local images, one record per image (tags grouped). ``all`` adds intermediate
        images."""
        return self._list(bool(all), v.check_filters("filters", filters))

    def prune(self, all: bool = False, *, filters: Filters | None = None) -> builtins.list[str]:
        """Remove dangling images (``all``: every unused image); return the removed ids."""
        return self._prune(bool(all), v.check_filters("filters", filters))

    # ------------------------------------------------------------------ archives

    def save(
        self,
        images: str | Sequence[str],
        destination: str | os.PathLike[str],
        *,
        timeout: float | None = None,
    ) -> None:
        """Write ``images`` (one reference or id, or several) to the host file
        ``destination`` as one docker-format archive that :meth:`load` reads back, on
        either runtime. The file appears complete or not at all (written beside it, then
        renamed); an existing file is replaced."""
        names = (images,) if isinstance(images, str) else v.check_args("images", images)
        if not names:
            raise InvalidConfigError("images", images, "must name at least one image")
        self._save(
            tuple(v.check_image("images", name) for name in names),
            v.check_output_file("destination", destination),
            v.check_optional_timeout("timeout", timeout),
        )

    def load(
        self, source: str | os.PathLike[str], *, timeout: float | None = None
    ) -> builtins.list[str]:
        """Load the images of the archive ``source`` (from :meth:`save`, ``docker save``
        or ``podman save``); return the references loaded (ids for untagged images)."""
        return self._load(
            v.check_input_file("source", source), v.check_optional_timeout("timeout", timeout)
        )

    def import_(
        self,
        source: str | os.PathLike[str],
        reference: str,
        *,
        changes: Sequence[str] = (),
        timeout: float | None = None,
    ) -> str:
        """Make the image ``reference`` from the root-filesystem tar ``source`` (``docker
        import``; e.g. from ``containers.export``); return its ``sha256:`` id.

        ``changes`` are Dockerfile lines applied to it (``--change``): ``CMD``,
        ``ENTRYPOINT``, ``ENV``, ``EXPOSE``, ``LABEL``, ``ONBUILD``, ``USER``, ``VOLUME``,
        ``WORKDIR``, e.g. ``['ENV PATH=/bin', 'CMD ["/bin/sh"]']``. (``import`` is a
        Python keyword, hence the underscore.)
        """
        return self._import(
            v.check_input_file("source", source),
            v.check_image_ref("reference", reference),
            v.check_changes("changes", changes),
            v.check_optional_timeout("timeout", timeout),
        )

    # ------------------------------------------------------------------ hooks

    # ``progress`` (None, or a callable): called with each output line's ProgressEvent as
    # it arrives, on the calling thread; what it raises aborts the operation and propagates.

    @abstractmethod
    def _build(
        self,
        context: BuildContext,
        image_name: str,
        timeout: float | None,
        progress: ProgressCallback | None,
    ) -> str: ...

    @abstractmethod
    def _pull(
        self, image: str, timeout: float | None, progress: ProgressCallback | None
    ) -> str: ...

    @abstractmethod
    def _push(
        self, image: str, timeout: float | None, progress: ProgressCallback | None
    ) -> None: ...

    @abstractmethod
    def _tag(self, source: str, target: str) -> None: ...

    @abstractmethod
    def _remove(self, image: str, force: bool) -> None: ...

    @abstractmethod
    def _exists(self, image: str) -> bool: ...

    @abstractmethod
    def _inspect(self, image: str) -> ImageInfo: ...

    @abstractmethod
    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ImageInfo]: ...

    @abstractmethod
    def _prune(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]: ...

    @abstractmethod
    def _save(self, images: tuple[str, ...], destination: str, timeout: float | None) -> None:
        """Write ``images`` to the absolute host file ``destination`` (complete or not at
        all), in the docker archive format."""

    @abstractmethod
    def _load(self, source: str, timeout: float | None) -> builtins.list[str]:
        """Load the archive at the absolute host path ``source``; the references (or ids)
        loaded, as this engine resolves them."""

    @abstractmethod
    def _import(
        self, source: str, reference: str, changes: tuple[str, ...], timeout: float | None
    ) -> str:
        """Make ``reference`` from the root-filesystem tar ``source`` with ``changes``
        applied; return its full ``sha256:`` id."""
