"""Images on docker (and, through :class:`PodmanImageManager`, podman)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping

from ...core.exceptions import (
    ContainerError,
    ImageBuildError,
    ImageError,
    OutputParseError,
)
from ...core.managers.image import ImageManager
from ...core.regex import Regex
from ...core.streams import ProgressCallback
from ...core.types import BuildContext, ImageInfo
from ..cli import parsing as p
from ..cli.command import CommandResult, Input
from ..cli.manager import CLIManager
from ..cli.progress import run_with_progress
from ..cli.tarstream import context_tar_chunks
from .archive import CLIArchiveMixin
from .utils import filter_args, label_args, private_tempdir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DockerImageManager"]

#: Builds, pulls and pushes may take longer than ordinary calls.
LONG_TIMEOUT = 3600.0
#: A build cut short gets SIGINT and this long to stop by itself (docker cancels the build
#: and removes its step container) before SIGKILL.
BUILD_INTERRUPT_GRACE = 10.0
_LISTED_ID = Regex(r"(?:sha256:)?[0-9a-f]{64}")
_ID_LINE = Regex(r"^(?:deleted:\s*)?(sha256:)?([0-9a-f]{64})$", re.IGNORECASE)


class DockerImageManager(CLIManager, CLIArchiveMixin, ImageManager):
    """:class:`ImageManager` over the docker CLI (archives: ``archive.py``)."""

    kind = "image"
    error = ImageError
    probe_format = "{{.Id}}"

    #: Options every build gets. ``--force-rm``: the legacy builder otherwise leaves the
    #: failed step's container behind.
    build_options: tuple[str, ...] = ("--force-rm",)

    def _build(
        self,
        context: BuildContext,
        image_name: str,
        timeout: float | None,
        progress: ProgressCallback | None,
    ) -> str:
        args = ["build", *self.build_options, "-f", context.dockerfile_path, "-t", image_name]
        for tag in context.tags:
            args += ["-t", tag]
        args += label_args(context.labels)
        build_env: dict[str, str] = {}
        for key, value in context.build_args.items():
            args += ["--build-arg", key]  # the value comes from the CLI's environment
            build_env[key] = value
        if context.target:
            args += ["--target", context.target]
        if context.no_cache:
            args.append("--no-cache")
        if context.pull:
            args.append("--pull")
        with private_tempdir() as tmp:
            iidfile = os.path.join(tmp, "iid")
            args += ["--iidfile", iidfile, "-"]
            # The CLI's own temporary files (podman unpacks the whole context there) go in
            # this private directory, removed with it whatever happens to the call.
            build_env["TMPDIR"] = os.path.join(tmp, "tmp")
            os.mkdir(build_env["TMPDIR"], 0o700)
            result = self._run_build(
                args,
                progress,
                input=context_tar_chunks(context),
                env=build_env,
                timeout=timeout or max(self._runner.timeout, LONG_TIMEOUT),
            )
            try:
                with open(iidfile, encoding="ascii") as handle:
                    image_id = handle.read().strip()
            except OSError:
                image_id = ""
        if not image_id:
            image_id = self._id_from_output(result)
        return p.full_image_id(image_id)

    def _run_build(
        self,
        args: builtins.list[str],
        progress: ProgressCallback | None,
        *,
        input: Input,
        env: dict[str, str],
        timeout: float,
    ) -> CommandResult:
        """The build CLI call (streamed when ``progress`` is given). Cut short, docker gets
        SIGINT: it cancels the build and ``--force-rm`` removes its step container."""
        return self._call_with_progress(
            args,
            ImageBuildError,
            progress,
            input=input,
            env=env,
            timeout=timeout,
            interrupt_grace=BUILD_INTERRUPT_GRACE,
        )

    def _id_from_output(self, result: CommandResult) -> str:
        # No iidfile (an old CLI): the id is the last line podman prints, or docker's
        # "Successfully built <id>" resolved through inspect.
        lines = self._lines(result)
        if lines and p.is_full_id(lines[-1].removeprefix("sha256:")):
            return lines[-1]
        for line in reversed(lines):
            if line.startswith("Successfully built "):
                return self.inspect(line.split()[-1]).id
        raise OutputParseError(
            "build succeeded but printed no image id",
            output=result.stdout_text,
            command=result.command,
        )

    def _call_with_progress(
        self,
        args: builtins.list[str],
        error: type[ContainerError],
        progress: ProgressCallback | None,
        *,
        input: Input = None,
        env: Mapping[str, str] | None = None,
        timeout: float,
        interrupt_grace: float | None = None,
    ) -> CommandResult:
        """One CLI call: collected without ``progress`` (the cheapest way), else streamed,
        each line handed to ``progress`` as it arrives."""
        if progress is None:
            return self._call(
                args, error, input=input, env=env, timeout=timeout, interrupt_grace=interrupt_grace
            )
        return run_with_progress(
            self._runner,
            args,
            progress,
            error=error,
            input=input,
            env=env,
            timeout=timeout,
            interrupt_grace=interrupt_grace,
        )

    def _pull(self, image: str, timeout: float | None, progress: ProgressCallback | None) -> str:
        self._call_with_progress(
            ["pull", image], self.error, progress, timeout=timeout or LONG_TIMEOUT
        )
        return self.inspect(image).id

    def _push(self, image: str, timeout: float | None, progress: ProgressCallback | None) -> None:
        self._call_with_progress(
            ["push", image], self.error, progress, timeout=timeout or LONG_TIMEOUT
        )

    def _tag(self, source: str, target: str) -> None:
        self._call(["tag", source, target])

    def _remove(self, image: str, force: bool) -> None:
        result = self._call(["rmi", *(["-f"] if force else []), image])
        self._removed_something(result, f"No such image: {image}")

    def _inspect(self, image: str) -> ImageInfo:
        return self.from_inspect(self._inspect_record(image))

    def _list(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[ImageInfo]:
        # docker's `images` output has no labels and only approximate sizes, so the ids it
        # lists are inspected in one more call (two processes whatever the number of images).
        args = ["images", "-q", "--no-trunc", *(["-a"] if all else []), *filter_args(filters)]
        # An image removed between the two calls is left out, not an error.
        ids = self._listed(self._call(args), _LISTED_ID)
        return [self.from_inspect(r) for r in self._inspect_records(ids)]

    def _prune(self, all: bool, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        args = ["image", "prune", "-f", *(["-a"] if all else []), *filter_args(filters)]
        return self.ids_from_prune(self._call(args))

    # ------------------------------------------------------------------ parsers

    @staticmethod
    def ids_from_prune(result: CommandResult) -> builtins.list[str]:
        """Image ids from prune output (docker's ``deleted: sha256:…`` or bare ids)."""
        ids = []
        for line in result.stdout_text.splitlines():
            match = _ID_LINE.match(line.strip())
            if match:
                ids.append(f"sha256:{match.group(2)}")
        return ids

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> ImageInfo:
        """An :class:`ImageInfo` from one docker ``image inspect`` object."""
        config = p.as_dict(data.get("Config"))
        tags = sorted({p.normalize_reference(t) for t in p.as_list(data.get("RepoTags"))})
        return ImageInfo(
            id=p.full_image_id(data.get("Id")),
            tags=tuple(tags),
            size=p.as_int(data.get("Size"), 0) or 0,
            created=p.parse_time(data.get("Created")),
            labels=p.labels_from(config.get("Labels")),
            digests=tuple(sorted(p.as_str(d) for d in p.as_list(data.get("RepoDigests")))),
            raw=data,
        )
