"""What every CLI-driven manager shares: the runner, existence and inspect of one resource kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...core.exceptions import ContainerError, OutputParseError, ResourceNotFoundError
from ...core.regex import Regex
from . import parsing as p
from .command import CommandResult, Input, Runner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = ["CLIManager"]


class CLIManager:
    """Base of the docker (and so podman) managers: holds the engine's runner.

    A subclass names its resource: ``kind`` (the CLI's object word, as in ``KIND inspect``),
    ``error`` (the operation's exception class) and ``probe_format`` (a cheap ``--format``
    for the existence probe); ``exists`` and ``inspect`` are then the same for all four.
    """

    kind: ClassVar[str]
    error: ClassVar[type[ContainerError]]
    probe_format: ClassVar[str] = "{{.Name}}"

    def __init__(self, runner: Runner) -> None:
        self._runner = runner

    def _call(
        self,
        args: Sequence[str],
        error: type[ContainerError] | None = None,
        *,
        check: bool = True,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        merge_stderr: bool = False,
        interrupt_grace: float | None = None,
    ) -> CommandResult:
        """One CLI call; a failure raises the classified form of ``error`` (the manager's
        own error class by default). ``interrupt_grace``: see ``CommandRunner.run``."""
        return self._runner.run(
            args,
            error=error or self.error,
            check=check,
            input=input,
            timeout=timeout,
            env=env,
            merge_stderr=merge_stderr,
            interrupt_grace=interrupt_grace,
        )

    def _exists(self, ref: str) -> bool:
        """True when ``KIND inspect REF`` succeeds, False when it fails because the resource
        is missing; any other failure (daemon down...) raises."""
        result = self._call([self.kind, "inspect", "--format", self.probe_format, ref], check=False)
        if result.returncode == 0:
            return True
        failure = self._runner.classify(result, self.error)
        if isinstance(failure, ResourceNotFoundError):
            return False
        raise failure

    def _inspect_record(self, ref: str) -> dict[str, Any]:
        """The first object of ``KIND inspect REF``."""
        return p.first_record(self._call([self.kind, "inspect", ref]))

    def _listed(self, result: CommandResult, valid: Regex) -> list[str]:
        """The names or ids an ``ls -q`` printed, one per line, each checked against
        ``valid`` (unreadable output is an :class:`OutputParseError`, not an empty list)."""
        lines = list(dict.fromkeys(self._lines(result)))
        if not all(valid.fullmatch(line) for line in lines):
            raise OutputParseError(
                f"cannot read the output of {' '.join(result.command[1:3])}: "
                "expected one name or id per line",
                output=result.stdout_text,
                command=result.command,
                exit_code=result.returncode,
                stderr=result.stderr_text,
            )
        return lines

    def _exact_labels(
        self, rows: list[dict[str, Any]], key: str, inspect_key: str
    ) -> list[dict[str, Any]]:
        """List rows whose labels are exact. Rows read with ``p.LABELLED_ROW`` already carry
        their labels as a dict, as podman's do; a row whose labels are still docker's
        ``k=v,k2=v2`` string holding a comma (a label key with a comma, which even that
        template cannot tell apart) is replaced by its ``inspect`` object, all such rows
        fetched in one more call. Labels without a comma need nothing more."""
        ambiguous = [
            p.as_str(row.get(key))
            for row in rows
            if isinstance(row.get("Labels"), str) and "," in row["Labels"]
        ]
        if not ambiguous:
            return rows
        exact = {p.as_str(r.get(inspect_key)): r for r in self._inspect_records(ambiguous)}
        # A row that vanished before its inspect is left out, as the listing's own would be.
        return [
            exact.get(ref, row)
            for row in rows
            if (ref := p.as_str(row.get(key))) in exact or ref not in ambiguous
        ]

    def _inspect_records(self, refs: Sequence[str]) -> list[dict[str, Any]]:
        """The objects of one ``KIND inspect REF...``, leaving out refs that are gone.

        A listing inspects what ``ls`` printed a moment before; anything removed in between
        makes the CLI exit 1 after printing the objects it did find. Those are the listing:
        a resource that vanished while being listed is simply not in it.
        """
        if not refs:
            return []
        result = self._call([self.kind, "inspect", *refs], check=False)
        if result.returncode != 0:
            failure = self._runner.classify(result, self.error)
            if not isinstance(failure, ResourceNotFoundError):
                raise failure
            if not result.stdout.strip():
                return []  # every one of them is gone
        return p.load_records(result)

    def _removed_something(self, result: CommandResult, missing: str) -> None:
        """Raise the not-found error when a forced removal exited 0 but removed nothing.

        ``rm -f`` / ``rmi -f`` of a missing resource exit 0 (docker still prints the error on
        stderr); a removal prints what it removed on stdout. ``missing`` is the message the
        classifier reads, e.g. ``"No such image: x"``.
        """
        if not result.stdout.strip():
            quiet = CommandResult(result.command, result.returncode, b"", missing.encode())
            raise self._runner.classify(quiet, self.error)

    @staticmethod
    def _lines(result: CommandResult) -> list[str]:
        return [line.strip() for line in result.stdout_text.splitlines() if line.strip()]
