"""Images on docker (and, through :class:`PodmanImageManager`, podman)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping
from typing import Any

from ...core.exceptions import ImageBuildError, ImageError, InvalidConfigError, OutputParseError
from ...core.managers.image import ImageManager
from ...core.types import BuildContext, ImageInfo
from ...core.validation import cli_sensitive
from ..cli import parsing as p
from ..cli.command import CommandResult
from ..cli.manager import CLIManager
from ..cli.tarstream import context_tar_chunks
from .archive import CLIArchiveMixin
from .utils import filter_args, label_args, private_tempdir

__all__ = ["DockerImageManager"]

#: Builds, pulls and pushes may take longer than ordinary calls.
LONG_TIMEOUT = 3600.0
# Build arguments named like CLI settings that docker defines for builds themselves: the
# proxies (which may carry credentials and only touch the CLI's own HTTP, unused for a local
# socket) and BuildKit's own switches.
_BUILD_ARGS_ALLOWED = frozenset(
    {
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "FTP_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "BUILDKIT_INLINE_CACHE",
        "BUILDKIT_SYNTAX",
        "BUILDKIT_CONTEXT_KEEP_GIT_DIR",
        "BUILDKIT_MULTI_PLATFORM",
    }
)
_ID_LINE = re.compile(r"^(?:deleted:\s*)?(sha256:)?([0-9a-f]{64})$", re.IGNORECASE)


class DockerImageManager(CLIManager, CLIArchiveMixin, ImageManager):
    """:class:`ImageManager` over the docker CLI (archives: ``archive.py``)."""

    kind = "image"
    error = ImageError
    probe_format = "{{.Id}}"

    #: Options every build gets. ``--force-rm``: the legacy builder otherwise leaves the
    #: failed step's container behind.
    build_options: tuple[str, ...] = ("--force-rm",)

    def _build(self, context: BuildContext, image_name: str, timeout: float | None) -> str:
        args = ["build", *self.build_options, "-f", context.dockerfile_path, "-t", image_name]
        for tag in context.tags:
            args += ["-t", tag]
        args += label_args(context.labels)
        build_env: dict[str, str] = {}
        for key, value in context.build_args.items():
            # Values travel in the CLI's environment: a name that configures the CLI itself
            # would reconfigure it, so only docker's predefined build args may look like one.
            if cli_sensitive(key) and key.upper() not in _BUILD_ARGS_ALLOWED:
                raise InvalidConfigError(
                    "BuildContext.build_args key",
                    key,
                    "would also configure the CLI itself; use another name",
                )
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
            result = self._call(
                args,
                ImageBuildError,
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

    def _pull(self, image: str, timeout: float | None) -> str:
        self._call(["pull", image], timeout=timeout or LONG_TIMEOUT)
        return self.inspect(image).id

    def _push(self, image: str, timeout: float | None) -> None:
        self._call(["push", image], timeout=timeout or LONG_TIMEOUT)

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
        ids = list(dict.fromkeys(self._lines(self._call(args))))
        if not ids:
            return []
        records = p.load_records(self._call(["image", "inspect", *ids]))
        return [self.from_inspect(r) for r in records]

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
