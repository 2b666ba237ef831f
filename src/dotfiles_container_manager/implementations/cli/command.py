"""The seam between the managers and the processes they start.

:class:`CommandResult` is what one CLI call returned. :class:`Runner` is the interface every
CLI-driven manager calls, for everything, collected or streamed: :class:`~.runner.CommandRunner`
is the real one, and a test double (or a remote transport later) only has to offer these
methods. This module imports nothing of the runner or the classifier, so neither depends on
the other through it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from ...core.record import Record
from ...core.typing_runtime import Protocol, TypeVar, overload

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType
    from typing import Literal

    from ...core.exceptions import ContainerError

__all__ = ["CommandResult", "Input", "OutputStream", "Runner"]

#: What a call may send on the CLI's stdin: bytes, or byte chunks streamed as they come.
Input = bytes | Iterable[bytes | memoryview] | None

T_co = TypeVar("T_co", str, bytes, covariant=True)


class CommandResult(Record):
    """What one CLI call returned. ``stdout``/``stderr`` are bytes; ``*_text`` decode them."""

    _fields = ("command", "returncode", "stdout", "stderr", "duration")
    _no_compare = ("duration",)
    command: tuple[str, ...]
    returncode: int
    stdout: bytes
    stderr: bytes
    duration: float

    def __init__(
        self,
        command: tuple[str, ...],
        returncode: int,
        stdout: bytes = b"",
        stderr: bytes = b"",
        duration: float = 0.0,
    ) -> None:
        self._init(command, returncode, stdout, stderr, duration)

    @property
    def stdout_text(self) -> str:
        """stdout decoded as UTF-8 with replacement."""
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        """stderr decoded as UTF-8 with replacement."""
        return self.stderr.decode("utf-8", errors="replace")


class OutputStream(Protocol[T_co]):
    """A running CLI's output as it arrives: ``(stream, data)`` pairs, where ``stream`` is
    ``"stdout"`` or ``"stderr"`` and ``data`` a line (``str``, no line ending) or, for a raw
    stream, a chunk as read (``bytes``). A non-zero exit raises the classified error after the
    last item. Closing it, leaving its ``with`` block, or dropping it ends the process."""

    @property
    def returncode(self) -> int | None:
        """The exit status once the process ended, else None."""

    def __iter__(self) -> Iterator[tuple[str, T_co]]: ...

    def __next__(self) -> tuple[str, T_co]: ...

    def close(self) -> None: ...

    def __enter__(self) -> OutputStream[T_co]: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Runner(Protocol):
    """Runs one CLI; every manager of a CLI-driven engine goes through this."""

    #: The runtime's name, for messages ("docker", "podman").
    runtime: str
    #: Default limit, in seconds, for one call.
    timeout: float
    #: The server's API version once learnt (the engine's version probe records it).
    api_version: tuple[int, int] | None

    def run(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ...,
        check: bool = True,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        merge_stderr: bool = False,
        interrupt_grace: float | None = None,
    ) -> CommandResult:
        """Run the CLI once and collect its output (see :meth:`CommandRunner.run`)."""

    @overload
    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ...,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        raw: Literal[False] = False,
        interrupt_grace: float | None = None,
        interrupt: Callable[[int], None] | None = None,
    ) -> OutputStream[str]: ...

    @overload
    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ...,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        raw: Literal[True],
        interrupt_grace: float | None = None,
        interrupt: Callable[[int], None] | None = None,
    ) -> OutputStream[bytes]: ...

    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ...,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        raw: bool = False,
        interrupt_grace: float | None = None,
        interrupt: Callable[[int], None] | None = None,
    ) -> OutputStream[str] | OutputStream[bytes]:
        """Run the CLI and yield its labelled output (lines, or raw chunks with ``raw=True``)
        as it arrives (see :meth:`CommandRunner.stream`)."""

    def classify(self, result: CommandResult, error: type[ContainerError]) -> ContainerError:
        """The exception a failed ``result`` stands for."""
