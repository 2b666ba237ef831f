"""Images on docker (and, through :class:`PodmanImageManager`, podman)."""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping
from typing import Any

from ...core import validation as v
from ...core.exceptions import ImageBuildError, ImageError, InvalidConfigError, OutputParseError
from ...core.managers.image import ImageManager
from ...core.types import BuildContext, ImageInfo
from ..cli import parsing as p
from ..cli.command import CommandResult
from ..cli.manager import CLIManager
from ..cli.tarstream import context_tar_chunks
from .utils import cli_sensitive, filter_args, private_tempdir

__all__ = ["DockerImageManager"]

#: Builds, pulls and pushes may take longer than ordinary calls.
LONG_TIMEOUT = 3600.0
_PROXY_ARGS = frozenset({"HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY"})
_ID_LINE = re.compile(r"^(?:deleted:\s*)?(sha256:)?([0-9a-f]{64})$", re.IGNORECASE)


class DockerImageManager(CLIManager, ImageManager):
    """:class:`ImageManager` over the docker CLI."""

    #: Options every build gets. ``--force-rm``: the legacy builder otherwise leaves the
    #: failed step's container behind.
    build_options: tuple[str, ...] = ("--force-rm",)

    def build(self, context: BuildContext, image_name: str, *, timeout: float | None = None) -> str:
        """Build ``context`` as ``image_name`` and return the full ``sha256:`` id."""
        if not isinstance(context, BuildContext):
            raise TypeError("context must be a BuildContext")
        v.check_image_ref("image_name", image_name)
        args = ["build", *self.build_options, "-f", context.dockerfile_path, "-t", image_name]
        for tag in context.tags:
            args += ["-t", tag]
        for key, value in context.labels.items():
            args += ["--label", f"{key}={value}"]
        build_env: dict[str, str] = {}
        for key, value in context.build_args.items():
            # docker's predefined proxy args may carry credentials: they travel in the
            # environment like any value (where they only touch the CLI's own HTTP, unused
            # for a local socket). Other CLI settings would reconfigure the CLI: refused.
            if cli_sensitive(key) and key.upper() not in _PROXY_ARGS:
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
            result = self._run(
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

    def pull(self, image: str, *, timeout: float | None = None) -> str:
        """Pull ``image`` and return its id."""
        v.check_image("image", image)
        self._run(["pull", image], ImageError, timeout=timeout or LONG_TIMEOUT)
        return self.inspect(image).id

    def push(self, image: str, *, timeout: float | None = None) -> None:
        """Push ``image`` to its registry."""
        v.check_image("image", image)
        self._run(["push", image], ImageError, timeout=timeout or LONG_TIMEOUT)

    def tag(self, source: str, target: str) -> None:
        """Add reference ``target`` to image ``source``."""
        v.check_image("source", source)
        v.check_image_ref("target", target)
        self._run(["tag", source, target], ImageError)

    def remove(self, image: str, force: bool = False) -> None:
        """Remove ``image``; ``force`` never removes containers (see the ABC)."""
        v.check_image("image", image)
        result = self._run(["rmi", *(["-f"] if force else []), image], ImageError)
        self._removed_something(result, f"No such image: {image}", ImageError)

    def exists(self, image: str) -> bool:
        """True when ``image`` is present locally."""
        v.check_image("image", image)
        return self._probe(["image", "inspect", "--format", "{{.Id}}", image], ImageError)

    def inspect(self, image: str) -> ImageInfo:
        """The record of ``image``."""
        v.check_image("image", image)
        result = self._run(["image", "inspect", image], ImageError)
        return self.from_inspect(p.first_record(result))

    def list(
        self, *, all: bool = False, filters: Mapping[str, str] | None = None
    ) -> builtins.list[ImageInfo]:
        """Local images, tags grouped per image.

        docker's ``images`` output has no labels and only approximate sizes, so the ids it
        lists are inspected in one more call (two processes whatever the number of images).
        """
        args = ["images", "-q", "--no-trunc", *(["-a"] if all else []), *filter_args(filters)]
        ids = list(dict.fromkeys(self._lines(self._run(args, ImageError))))
        if not ids:
            return []
        records = p.load_records(self._run(["image", "inspect", *ids], ImageError))
        return [self.from_inspect(r) for r in records]

    def prune(
        self, *, all: bool = False, filters: Mapping[str, str] | None = None
    ) -> builtins.list[str]:
        """Remove dangling (``all``: unused) images; return the removed ids."""
        args = ["image", "prune", "-f", *(["-a"] if all else []), *filter_args(filters)]
        return self.ids_from_prune(self._run(args, ImageError))

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
        """An :class:`ImageInfo` from one ``image inspect`` object (docker or podman)."""
        config = p.as_dict(data.get("Config"))
        labels = config.get("Labels") or data.get("Labels")
        tags = sorted({p.normalize_reference(t) for t in p.as_list(data.get("RepoTags"))})
        return ImageInfo(
            id=p.full_image_id(data.get("Id") or data.get("ID")),
            tags=tuple(tags),
            size=p.as_int(data.get("Size"), 0) or 0,
            created=p.parse_time(data.get("Created")),
            labels=p.labels_from(labels),
            digests=tuple(sorted(p.as_str(d) for d in p.as_list(data.get("RepoDigests")))),
            raw=data,
        )
