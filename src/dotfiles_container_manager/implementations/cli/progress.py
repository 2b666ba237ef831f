"""Build, pull and push output as :class:`ProgressEvent` values, line by line as it arrives.

:class:`StepParser` reads the step counters of the three builders' step lines:

- docker's legacy builder: ``Step 2/5 : RUN make``
- podman (buildah): ``STEP 2/5: RUN make``, ``[1/2] STEP 2/5: RUN make`` in a multi-stage
  build (the counters are the stage's), ``STEP 2: RUN make`` in old versions (no total)
- BuildKit's plain progress: ``#5 [2/5] RUN make``, ``#7 [builder 2/4] RUN make``; the
  vertex's later lines (``#5 0.512 output``, ``#5 DONE 1.2s``) belong to its step

A line that is not a step line carries the step of the latest step line (of its vertex, for
BuildKit), so every line of a step's output reports that step.

:func:`run_with_progress` runs one CLI call as a stream and hands each line's event to the
caller's callback, on the calling thread; it returns the same :class:`CommandResult` a
collected call would have.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from ...core.exceptions import ContainerError, ImageBuildError
from ...core.regex import Regex
from ...core.streams import ProgressCallback
from ...core.types import ProgressEvent
from .command import CommandResult, Input, Runner

__all__ = ["StepParser", "run_with_progress"]

_DOCKER = Regex(r"Step (\d+)/(\d+) :")
_PODMAN = Regex(r"(?:\[\d+/\d+\] )?STEP (\d+)(?:/(\d+))?:")
_BUILDKIT = Regex(r"#(\d+) (?:\[(?:[^\]]*? )?(\d+)/(\d+)\])?")


def visible(line: str) -> str:
    """What a terminal shows of a line the CLI redrew with carriage returns: its last
    non-empty part."""
    if "\r" not in line:
        return line
    for part in reversed(line.split("\r")):
        if part:
            return part
    return ""


class StepParser:
    """Turns output lines into :class:`ProgressEvent` values (see the module docstring)."""

    __slots__ = ("_vertices", "step", "total")

    def __init__(self) -> None:
        self.step: int | None = None
        self.total: int | None = None
        self._vertices: dict[str, tuple[int, int]] = {}  # BuildKit vertex -> its step

    def event(self, line: str) -> ProgressEvent:
        """The event for the next line of output."""
        line = visible(line)
        first = line[:1]
        if first == "S" or first == "[":
            match = _DOCKER.match(line) or _PODMAN.match(line)
            if match is not None:
                self.step = int(match.group(1))
                total = match.group(2)
                self.total = int(total) if total is not None else None
        elif first == "#":
            match = _BUILDKIT.match(line)
            if match is not None:
                vertex, step, total = match.groups()
                if step is not None:
                    self._vertices[vertex] = (int(step), int(total))
                    self.step, self.total = int(step), int(total)
                else:
                    known = self._vertices.get(vertex)
                    if known is not None:
                        return ProgressEvent(line, *known)
        return ProgressEvent(line, self.step, self.total)


def run_with_progress(
    runner: Runner,
    args: Sequence[str],
    progress: ProgressCallback,
    *,
    error: type[ContainerError],
    input: Input = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    interrupt_grace: float | None = None,
) -> CommandResult:
    """Run the CLI as a stream, calling ``progress`` with each line's event as it arrives.

    Returns the result a collected call would have (lines joined, each pipe apart). A
    failure raises the classified error after every line was delivered; an
    :class:`ImageBuildError` then carries the whole log (both streams, in arrival order) in
    ``.output``. An exception raised by ``progress`` (or Ctrl-C) ends the CLI at once (it is
    killed and reaped) and propagates.
    """
    parser = StepParser()
    out: list[str] = []
    err: list[str] = []
    log: list[str] = []
    started = time.monotonic()
    stream = runner.stream(
        args, error=error, input=input, env=env, timeout=timeout, interrupt_grace=interrupt_grace
    )
    try:
        with stream:
            for name, line in stream:
                (out if name == "stdout" else err).append(line)
                event = parser.event(line)
                log.append(event.line)
                progress(event)
    except ImageBuildError as exc:
        exc.output = "\n".join(log)
        raise
    command = getattr(stream, "command", None) or list(args)
    return CommandResult(
        tuple(command),
        stream.returncode or 0,
        "".join(f"{line}\n" for line in out).encode("utf-8"),
        "".join(f"{line}\n" for line in err).encode("utf-8"),
        time.monotonic() - started,
    )
