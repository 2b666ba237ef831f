"""Files in and out of containers, container exports, and one-shot runs, over the CLI.

Mixed into :class:`~.container.DockerContainerManager` (and so podman's): the hooks of
``put_files``, ``get_file``, ``copy_to``, ``copy_from``, ``export`` and ``run_once``.

- Tars travel through the CLI's stdin/stdout (``cp - C:DIR``, ``cp C:PATH -``): made in
  memory by :mod:`..cli.tarstream`, read as they stream by :mod:`..cli.tarread`.
- Every call gets a private ``TMPDIR`` that is removed afterwards: podman 4.3's ``cp -``
  stages the tar it reads in ``$TMPDIR`` and never removes it (one file per call).
- Files written on the host (``export``, ``images.save``) are written beside their
  destination and renamed into place, so a failed call leaves nothing.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from ...core.exceptions import (
    ContainerError,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerPathError,
)
from ...core.regex import Regex
from ...core.types import ExecResult, RunConfig
from ..cli import parsing as p
from ..cli.command import CommandResult, Input
from .utils import command_args, format_env_vars, private_tempdir, run_args

# ..cli.tarread and ..cli.tarstream are imported by the calls that copy files: a script that
# never copies does not load them (the cold-script benchmark, docs/performance.md).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

    from ..cli.command import Runner
    from ..cli.tarread import TarSink

__all__ = ["LONG_TIMEOUT", "CLIFilesMixin", "replacing"]

#: Copies of whole trees, exports, image archives: as long as a build may take.
LONG_TIMEOUT = 3600.0
#: Messages of ``cp`` about the path, not the container (docker's, then podman's).
_PATH_PROBLEM = Regex(
    r"could not find the file|could not be found on container|must be a directory|"
    r"not a directory|no such file or directory|is a directory|invalid symlink|"
    r"cannot overwrite|cannot copy",
    re.IGNORECASE,
)
#: Exit statuses the CLIs also use for their own failures (``run``: 125 the CLI or the
#: daemon, 126 the command cannot be invoked, 127 it was not found).
_AMBIGUOUS = (125, 126, 127)


@contextmanager
def replacing(destination: str) -> Iterator[str]:
    """A path beside ``destination`` to write; renamed onto it when the block succeeds,
    removed when it fails (so ``destination`` is complete or untouched)."""
    import tempfile

    directory, base = os.path.split(destination)
    fd, partial = tempfile.mkstemp(prefix=f".{base}.", suffix=".partial", dir=directory)
    os.close(fd)
    try:
        yield partial
        os.replace(partial, destination)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(partial)


class CLIFilesMixin:
    """The file, export and one-shot hooks of the docker (and podman) container manager."""

    _runner: Runner
    error: ClassVar[type[ContainerError]]

    if TYPE_CHECKING:

        def _exists(self, ref: str) -> bool: ...  # CLIManager's

    force_remove_options: tuple[str, ...]

    #: Options of ``cp`` that follow a symbolic link named as the source (in the container
    #: or on the host). docker copies the link itself without ``-L``; podman always follows.
    cp_follow_options: tuple[str, ...] = ("-L",)

    # ------------------------------------------------------------------ files

    def _put_files(
        self,
        container: str,
        directory: str,
        files: dict[str, bytes],
        executable: frozenset[str],
        timeout: float | None,
    ) -> None:
        from ..cli.tarstream import coalesced, files_tar_chunks

        chunks = coalesced(files_tar_chunks(files, executable, int(time.time())))
        self._cp_in(["cp", "-", f"{container}:{directory}"], container, directory, chunks, timeout)

    def _get_file(self, container: str, path: str, timeout: float | None) -> bytes:
        from ..cli.tarread import SingleFile

        sink = SingleFile()
        source = f"{container}:{path}"
        self._cp_out(["cp", *self.cp_follow_options, source, "-"], container, path, sink, timeout)
        if sink.problem or not sink.entries:
            problem = sink.problem or "gave no file"
            raise ContainerPathError(f"{path!r} in container {container} {problem}", path=path)
        return sink.content()

    def _copy_to(
        self, container: str, source: str, destination: str, timeout: float | None
    ) -> None:
        self._cp_in(
            ["cp", *self.cp_follow_options, source, f"{container}:{destination}"],
            container,
            destination,
            None,
            timeout or LONG_TIMEOUT,
        )

    def _copy_from(
        self, container: str, source: str, destination: str, timeout: float | None
    ) -> None:
        from ..cli.tarread import SafeExtractor

        extractor = SafeExtractor(destination, top=_top_name(source))
        try:
            self._cp_out(
                ["cp", *self.cp_follow_options, f"{container}:{source}", "-"],
                container,
                source,
                extractor,
                timeout or LONG_TIMEOUT,
            )
        finally:
            extractor.release()
        if extractor.refused:
            shown = "; ".join(extractor.refused[:5])
            more = len(extractor.refused) - 5
            raise ContainerPathError(
                f"{len(extractor.refused)} entries of {source!r} were not copied to "
                f"{destination} (they would lead outside it or could not be written): "
                f"{shown}{f'; and {more} more' if more > 0 else ''}",
                path=source,
                refused=extractor.refused,
            )

    def _export(self, container: str, destination: str, timeout: float | None) -> None:
        with private_tempdir() as tmp, replacing(destination) as partial:
            self._runner.run(
                ["export", "-o", partial, container],
                error=self.error,
                env={"TMPDIR": tmp},
                timeout=timeout or LONG_TIMEOUT,
            )

    def _cp_in(
        self, args: list[str], container: str, path: str, input: Input, timeout: float | None
    ) -> None:
        with private_tempdir() as tmp:
            result = self._runner.run(
                args,
                error=self.error,
                check=False,
                input=input,
                env={"TMPDIR": tmp},
                timeout=timeout,
            )
        if result.returncode != 0:
            raise self._cp_failure(self._runner.classify(result, self.error), container, path)

    def _cp_out(
        self, args: list[str], container: str, path: str, sink: TarSink, timeout: float | None
    ) -> None:
        from ..cli.tarread import TarReader

        reader = TarReader(sink)
        try:
            with (
                private_tempdir() as tmp,
                self._runner.stream(
                    args,
                    error=self.error,
                    raw=True,
                    env={"TMPDIR": tmp},
                    timeout=self._runner.timeout if timeout is None else timeout,
                ) as output,
            ):
                for name, chunk in output:
                    if name == "stdout":
                        reader.feed(chunk)
        except ContainerError as exc:
            raise self._cp_failure(exc, container, path) from None
        reader.close()

    def _cp_failure(self, failure: ContainerError, container: str, path: str) -> ContainerError:
        """A ``cp`` failure about the path (not the container) as :class:`ContainerPathError`.

        docker's ``cp - C:DIR`` says "must be a directory" for a missing container too: a
        path error is confirmed by the container's existence (one more call, on failure).
        """
        if type(failure) is ContainerOperationError and _PATH_PROBLEM.search(
            f"{failure.message}\n{failure.stderr}"
        ):
            if not self._exists(container):
                return ContainerNotFoundError(
                    f"No such container: {container}",
                    command=failure.command,
                    exit_code=failure.exit_code,
                    stderr=failure.stderr,
                )
            return ContainerPathError(
                failure.message,
                path=path,
                command=failure.command,
                exit_code=failure.exit_code,
                stderr=failure.stderr,
            )
        return failure

    # ------------------------------------------------------------------ run_once

    def _run_once(
        self, config: RunConfig, timeout: float | None, input: bytes | None
    ) -> ExecResult:
        verb = ["run"] if config.remove else ["run", "--rm"]
        if input is not None:
            verb.append("-i")
        with (
            format_env_vars(config.environment, use_file=config.env_file) as (env_args, env),
            private_tempdir() as tmp,
        ):
            # The CLI writes the id here once the container exists: on a timeout, an error
            # or Ctrl-C the container is removed through it; and it tells the container's
            # own 125/126/127 from the CLI's.
            cidfile = os.path.join(tmp, "cid")
            args = [*verb, "--cidfile", cidfile, *run_args(config), *env_args, config.image]
            started = time.time()
            try:
                result = self._runner.run(
                    [*args, *command_args(config)],
                    error=self.error,
                    check=False,
                    input=input,
                    timeout=timeout,
                    env=env,
                )
            except BaseException:
                self._remove_by_cidfile(cidfile)
                raise
            container_id = _read_id(cidfile)
        code = result.returncode
        if code < 0 or (
            code in _AMBIGUOUS and not self._container_ran(container_id, started, result)
        ):
            if container_id:
                self._remove_container(container_id)
            # The container's output is not the CLI's message: classify stderr alone.
            quiet = CommandResult(result.command, code, b"", result.stderr, result.duration)
            raise self._runner.classify(quiet, self.error)
        return ExecResult(exit_code=code, stdout_bytes=result.stdout, stderr_bytes=result.stderr)

    def _container_ran(self, container_id: str, since: float, result: CommandResult) -> bool:
        """Whether the exit status 125/126/127 of an attached ``run`` is the container's.

        No id in the cidfile: the CLI failed before the container existed. Otherwise the
        runtime's events say whether it started (a container that could not start was
        created but never started); when the events hold nothing about it (expired, or an
        events backend that keeps none), the shape of stderr decides: the CLI ends with
        its own error line.
        """
        if not container_id:
            return False
        statuses = self._container_events(container_id, since)
        if "start" in statuses:
            return True
        if statuses:
            return False
        return not self._ends_with_cli_error(result.stderr_text)

    def _container_events(self, container_id: str, since: float) -> set[str]:
        """The statuses of the events of ``container_id`` since ``since`` (past events
        only: docker needs ``--until``)."""
        result = self._runner.run(
            [
                "events",
                "--since",
                str(int(since) - 1),
                "--until",
                f"{time.time():.6f}",
                "--filter",
                f"container={container_id}",
                "--format",
                "{{.Status}}",
            ],
            error=self.error,
            check=False,
            timeout=min(self._runner.timeout, 30.0),
        )
        if result.returncode != 0:
            return set()
        return {line.strip() for line in result.stdout_text.splitlines() if line.strip()}

    @staticmethod
    def _ends_with_cli_error(stderr: str) -> bool:
        """docker's own failures of ``run``: a ``docker: Error…`` line, then the hint."""
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        if lines and lines[-1].startswith("Run '"):
            lines.pop()
        return bool(lines) and lines[-1].lower().startswith(("docker: ", "error response"))

    def _remove_by_cidfile(self, cidfile: str) -> None:
        container_id = _read_id(cidfile)
        if container_id:
            self._remove_container(container_id)

    def _remove_container(self, container_id: str) -> None:
        # Best effort and quiet: --rm may have removed it already.
        self._runner.run(
            ["rm", *self.force_remove_options, container_id], error=self.error, check=False
        )


def _read_id(cidfile: str) -> str:
    try:
        with open(cidfile, encoding="ascii") as handle:
            container_id = handle.read().strip()
    except (OSError, ValueError):
        return ""
    return container_id if p.is_full_id(container_id) else ""


def _top_name(source: str) -> str | None:
    """Where ``copy_from`` puts ``source``: under its own name, or (for ``/`` or a path
    ending in ``/.``) its contents directly in the destination (None)."""
    if source.endswith(("/.", "/./")):
        return None
    name = os.path.basename(os.path.normpath(source))
    return name if name not in ("", ".", "..") else None
