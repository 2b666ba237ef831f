"""Image archives over the CLI: ``save``, ``load`` and ``import`` (mixed into
:class:`~.image.DockerImageManager`, and so podman's).

Each call gets a private ``TMPDIR`` (removed afterwards: podman stages archives there), and
``save`` writes beside its destination, then renames (complete or nothing).
"""

from __future__ import annotations

import builtins
import re

from ...core.exceptions import ContainerError, OutputParseError
from ...core.regex import Regex
from ..cli import parsing as p
from .files import LONG_TIMEOUT, replacing
from .utils import private_tempdir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

    from ..cli.command import CommandResult, Runner

__all__ = ["CLIArchiveMixin"]

# docker: "Loaded image: name:tag" / "Loaded image ID: sha256:…";
# podman: "Loaded image: localhost/name:tag" or "Loaded image(s): a,b".
_LOADED = Regex(r"^Loaded image(?:\(s\))?(?: ID)?:\s*(.+)$", re.MULTILINE)


class CLIArchiveMixin:
    """The archive hooks of the docker (and podman) image manager."""

    _runner: Runner
    error: ClassVar[type[ContainerError]]

    def _save_options(self, images: tuple[str, ...]) -> builtins.list[str]:
        """Options of ``save`` for ``images`` (podman needs one for several images)."""
        return []

    def _save(self, images: tuple[str, ...], destination: str, timeout: float | None) -> None:
        with private_tempdir() as tmp, replacing(destination) as partial:
            self._runner.run(
                ["save", *self._save_options(images), "-o", partial, *images],
                error=self.error,
                env={"TMPDIR": tmp},
                timeout=timeout or LONG_TIMEOUT,
            )

    def _load(self, source: str, timeout: float | None) -> builtins.list[str]:
        with private_tempdir() as tmp:
            result = self._runner.run(
                ["load", "-i", source],
                error=self.error,
                env={"TMPDIR": tmp},
                timeout=timeout or LONG_TIMEOUT,
            )
        loaded: dict[str, None] = {}
        for match in _LOADED.finditer(result.stdout_text + "\n" + result.stderr_text):
            for ref in match.group(1).split(","):
                if ref.strip():
                    loaded[self._loaded_reference(ref.strip())] = None
        if not loaded:
            raise OutputParseError(
                "load printed no image", output=result.stdout_text, command=result.command
            )
        return list(loaded)

    @staticmethod
    def _loaded_reference(ref: str) -> str:
        """A reference (or id) ``load`` printed, as this runtime resolves it: docker's are
        kept as printed (an archive from podman names ``localhost/x:1``, and docker keeps
        that prefix as part of the name)."""
        if ref.startswith("sha256:") or p.is_full_id(ref):
            return p.full_image_id(ref)
        return ref

    def _import(
        self, source: str, reference: str, changes: tuple[str, ...], timeout: float | None
    ) -> str:
        args = ["import"]
        for change in changes:
            args += ["--change", change]
        with private_tempdir() as tmp:
            result = self._runner.run(
                [*args, source, reference],
                error=self.error,
                env={"TMPDIR": tmp},
                timeout=timeout or LONG_TIMEOUT,
            )
        return self._imported_id(result, reference)

    def _imported_id(self, result: CommandResult, reference: str) -> str:
        lines = [ln.strip() for ln in result.stdout_text.splitlines() if ln.strip()]
        if lines and p.is_full_id(lines[-1].removeprefix("sha256:")):
            return p.full_image_id(lines[-1])
        raise OutputParseError(
            "import printed no image id", output=result.stdout_text, command=result.command
        )
