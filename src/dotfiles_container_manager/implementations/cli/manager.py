"""What every CLI-driven manager shares: the runner, and the existence probe."""

from __future__ import annotations

from collections.abc import Sequence

from ...core.exceptions import ContainerError, ResourceNotFoundError
from .command import CommandResult, Runner

__all__ = ["CLIManager"]


class CLIManager:
    """Base of the docker (and so podman) managers: holds the engine's runner."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def _run(
        self, args: Sequence[str], error: type[ContainerError], **kwargs: object
    ) -> CommandResult:
        return self._runner.run(args, error=error, **kwargs)  # type: ignore[arg-type]

    def _probe(self, args: Sequence[str], error: type[ContainerError]) -> bool:
        """True when ``args`` succeeds, False when it fails because the resource is missing;
        any other failure (daemon down...) raises."""
        result = self._runner.run(args, error=error, check=False)
        if result.returncode == 0:
            return True
        failure = self._runner.classify(result, error)
        if isinstance(failure, ResourceNotFoundError):
            return False
        raise failure

    def _removed_something(
        self, result: CommandResult, missing: str, error: type[ContainerError]
    ) -> None:
        """Raise the not-found error when a forced removal exited 0 but removed nothing.

        ``rm -f`` / ``rmi -f`` of a missing resource exit 0 (docker still prints the error on
        stderr); a removal prints what it removed on stdout. ``missing`` is the message the
        classifier reads, e.g. ``"No such image: x"``.
        """
        if not result.stdout.strip():
            quiet = CommandResult(result.command, result.returncode, b"", missing.encode())
            raise self._runner.classify(quiet, error)

    @staticmethod
    def _lines(result: CommandResult) -> list[str]:
        return [line.strip() for line in result.stdout_text.splitlines() if line.strip()]
