"""Images on podman: what differs from docker."""

from __future__ import annotations

import builtins
import os
import re
import signal
import threading
import time
from collections.abc import Mapping
from contextlib import suppress

from ...core import validation as v
from ...core.exceptions import (
    ContainerError,
    ImageBuildError,
    ImageConflictError,
    ImageNotFoundError,
)
from ...core.record import replace
from ...core.regex import Regex
from ...core.streams import ProgressCallback
from ...core.types import ImageInfo
from ..cli import parsing as p
from ..cli.command import CommandResult, Input, Runner
from ..cli.progress import StepParser
from ..docker.image import BUILD_INTERRUPT_GRACE, DockerImageManager
from ..docker.utils import filter_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["PodmanImageManager", "kill_build_steps"]

# What `podman build` prints on stdout after each step: the image it committed, or the
# cached image it reused ("--> Using cache <id>", then "--> <short id>").
_COMMITTED = Regex(r"^--> ([0-9a-f]{11,64})$")
_CACHED = Regex(r"^--> Using cache ([0-9a-f]{64})$")
#: Seconds the removal of a cut-short build's images may take, at least.
CLEANUP_TIMEOUT = 60.0


def kill_build_steps(pid: int) -> None:
    """SIGKILL the container that the ``podman build`` process ``pid`` runs a ``RUN`` step
    in: each descendant of ``pid`` that is the first process of another PID namespace (its
    parent is in ours). The kernel then kills everything else in that namespace.

    Podman exits at once on SIGINT and leaves its working containers and intermediate
    images. A step that fails instead is cleaned up by podman itself (``--force-rm``, on by
    default): this is how a cut-short build is stopped. Podman's own helpers (the same
    executable as ``pid``) are spared: killing them breaks that cleanup. Never raises.
    """
    try:
        own = os.readlink("/proc/self/ns/pid")
        cli = os.stat(f"/proc/{pid}/exe")
        entries = os.listdir("/proc")
    except OSError:
        return
    children: dict[int, list[int]] = {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    pending = list(children.get(pid, ()))
    while pending:
        child = pending.pop()
        with suppress(OSError):
            if os.readlink(f"/proc/{child}/ns/pid") == own:
                pending.extend(children.get(child, ()))  # only ours lead to a step's first
                continue
            exe = os.stat(f"/proc/{child}/exe")
            if (exe.st_dev, exe.st_ino) != (cli.st_dev, cli.st_ino):
                os.kill(child, signal.SIGKILL)


_LIST_ATTEMPTS = 10
_VANISHED = Regex(r"does not exist|image not known|no such image|size is not known", re.IGNORECASE)


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
        # ("retrieving parent of image …: file does not exist", "image not known",
        # "retrieving label for image …: reading data blob size …: size is not known"): the
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

    def _run_build(
        self,
        args: builtins.list[str],
        progress: ProgressCallback | None,
        *,
        input: Input,
        env: dict[str, str],
        timeout: float,
    ) -> CommandResult:
        """The build, streamed so that the images it committed are known as it goes (each
        line also goes to ``progress``). Cut short (timeout, Ctrl-C, ``progress`` raising),
        podman is not sent SIGINT (it would exit at once and leave its working containers):
        the step it runs is killed (:func:`kill_build_steps`) during the grace, so podman
        fails it and removes its containers itself; then the images this call committed are
        removed."""
        out: list[str] = []
        err: list[str] = []
        log: list[str] = []
        parser = StepParser()
        in_callback = False
        started = time.time()
        try:
            with self._runner.stream(
                args,
                error=ImageBuildError,
                input=input,
                env=env,
                timeout=timeout,
                interrupt_grace=BUILD_INTERRUPT_GRACE,
                interrupt=kill_build_steps,
            ) as lines:
                try:
                    for name, line in lines:
                        (out if name == "stdout" else err).append(line)
                        if progress is not None:
                            event = parser.event(line)
                            log.append(event.line)
                            in_callback = True
                            progress(event)
                            in_callback = False
                except ImageBuildError:
                    raise
                except BaseException:
                    # Raised by the stream (a timeout, Ctrl-C): it has ended, and what podman
                    # printed during the grace is still readable. Raised by `progress`: leaving
                    # the `with` block ends the build (the same grace) below.
                    if not in_callback:
                        out.extend(line for name, line in lines if name == "stdout")
                    raise
        except ImageBuildError as exc:  # the build failed by itself: podman cleaned up
            if progress is not None:
                exc.output = "\n".join(log)
            raise
        except BaseException:  # cut short: a timeout, Ctrl-C, or `progress` raising
            self._remove_committed(out, started)
            raise
        return CommandResult(
            (self._runner.runtime, *args),
            0,
            "".join(f"{line}\n" for line in out).encode(),
            "".join(f"{line}\n" for line in err).encode(),
        )

    def _remove_committed(self, out: builtins.list[str], started: float) -> None:
        """Remove the images a cut-short build committed (newest first), as its output
        names them: not the cached ones it reused, and only images with no name created
        since the call started (a ``RUN`` step could print a line that looks like one).
        Without ``-f``: an image someone else's build uses now stays. Never raises."""
        cached = [m.group(1) for m in map(_CACHED.match, out) if m]
        ids = []
        for line in out:
            match = _COMMITTED.match(line)
            if match and not any(c.startswith(match.group(1)) for c in cached):
                ids.append(match.group(1))
        if not ids:
            return
        limit = max(self._runner.timeout, CLEANUP_TIMEOUT)
        with self._remove_lock:
            for image_id in reversed(ids):
                with suppress(ContainerError):
                    result = self._call(["image", "inspect", image_id], check=False, timeout=limit)
                    if result.returncode != 0:
                        continue  # gone already
                    info = self.from_inspect(p.first_record(result))
                    created = info.created.timestamp() if info.created is not None else 0.0
                    if not info.tags and created >= started - 1:
                        self._call(["rmi", info.id], check=False, timeout=limit)

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
