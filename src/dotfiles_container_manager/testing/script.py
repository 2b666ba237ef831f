"""``engine.script``: what the fake's containers do, decided by the test.

Rules say what happens in containers that do not exist yet (``exec``, ``run``); the two
actions act on a running container now (``exit``, ``log``). A rule's ``target`` is a
container name or id, an image reference or id, or None for every container; the most
specific rule wins, and among equally specific ones the last added (see
:mod:`._behaviour`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ..core import validation as v
from ..core.enums import ContainerState
from ..core.exceptions import ContainerConflictError, InvalidConfigError
from ..core.types import ExecResult
from ._model import Container, ExecHandler, ExecRule, Main, RunRule
from ._store import Store
from .containers import FakeContainerManager

__all__ = ["Script"]

Output = str | bytes


def _bytes(field: str, value: Output) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise InvalidConfigError(field, type(value).__name__, "must be str or bytes")


def _code(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 255:
        raise InvalidConfigError(field, value, "must be an exit status from 0 to 255")
    return value


def _target(target: object) -> str | None:
    return None if target is None else v.check_reference("target", target)


class Script:
    """Scripts the fake engine's processes: ``engine.script``.

    >>> engine.script.exec("app:1", ["git", "--version"], stdout="git version 2.43.0\\n")
    >>> engine.script.run("job:1", exit_code=3, stdout="failed\\n")   # exits at start
    >>> engine.script.run("server:1", exit_code=None, stdout="ready\\n")  # keeps running
    """

    def __init__(self, store: Store, containers: FakeContainerManager) -> None:
        self._s = store
        self._containers = containers

    def exec(
        self,
        target: str | None,
        command: Sequence[str] = (),
        result: ExecResult | ExecHandler | None = None,
        *,
        exit_code: int = 0,
        stdout: Output = b"",
        stderr: Output = b"",
    ) -> None:
        """What ``containers.exec`` returns in the containers ``target`` names, for commands
        that start with ``command`` (``()``: every command).

        ``result`` is an :class:`ExecResult`, or a function of the :class:`ExecCall`
        (command, environment, working directory, user, standard input) returning one;
        without it, ``exit_code``, ``stdout`` and ``stderr`` make the result.
        """
        prefix = v.check_args("command", command)
        if result is None:
            result = ExecResult(
                _code("exit_code", exit_code), _bytes("stdout", stdout), _bytes("stderr", stderr)
            )
        elif not (isinstance(result, ExecResult) or callable(result)):
            raise InvalidConfigError(
                "result", type(result).__name__, "must be an ExecResult or a function"
            )
        with self._s.lock:
            self._s.exec_rules.append(ExecRule(_target(target), prefix, result))

    def run(
        self,
        target: str | None,
        command: Sequence[str] = (),
        *,
        exit_code: int | None,
        stdout: Output = b"",
        stderr: Output = b"",
        exit_on: Literal["start", "wait"] = "start",
        sigterm_exit_code: int | None = None,
    ) -> None:
        """What the main process of the containers ``target`` names does when it starts,
        for main commands (entrypoint + command) that start with ``command``.

        It writes ``stdout``/``stderr`` to the container's log, then:
        ``exit_code=None``: runs until stopped or killed; an int with ``exit_on="start"``:
        exits at once (``run`` returns, ``inspect`` shows it exited); with
        ``exit_on="wait"``: keeps running until someone waits for it, then exits (``wait``
        returns the code). ``sigterm_exit_code``: the code it exits with on SIGTERM
        (``stop``, ``restart``, ``kill(signal="TERM")``); None: it ignores SIGTERM, as a
        PID 1 without a handler does, and ``stop`` kills it: 137.
        """
        if exit_on not in ("start", "wait"):
            raise InvalidConfigError("exit_on", exit_on, "must be 'start' or 'wait'")
        main = Main(
            stdout=_bytes("stdout", stdout),
            stderr=_bytes("stderr", stderr),
            exit_code=None if exit_code is None else _code("exit_code", exit_code),
            exit_on=exit_on,
            sigterm_exit_code=None
            if sigterm_exit_code is None
            else _code("sigterm_exit_code", sigterm_exit_code),
        )
        prefix = v.check_args("command", command)
        with self._s.lock:
            self._s.run_rules.append(RunRule(_target(target), prefix, main))

    def exit(
        self, container: str, exit_code: int, *, stdout: Output = b"", stderr: Output = b""
    ) -> None:
        """Make a running container's main process write this output and exit now, as if it
        had ended by itself (``wait`` then returns ``exit_code``)."""
        code = _code("exit_code", exit_code)
        out, err = _bytes("stdout", stdout), _bytes("stderr", stderr)
        with self._s.lock:
            c = self._running(container, "exit")
            self._containers._output(c, out, err)
            self._containers._exit(c, code)

    def log(self, container: str, *, stdout: Output = b"", stderr: Output = b"") -> None:
        """Make a running container write to its log now."""
        out, err = _bytes("stdout", stdout), _bytes("stderr", stderr)
        with self._s.lock:
            self._containers._output(self._running(container, "log"), out, err)

    def clear(self) -> None:
        """Forget every rule (containers already started keep what they do)."""
        with self._s.lock:
            self._s.exec_rules.clear()
            self._s.run_rules.clear()

    def _running(self, container: str, action: str) -> Container:
        c = self._s.container(container, [f"script.{action}", container])
        if c.state is not ContainerState.RUNNING:
            raise ContainerConflictError(
                f"container {c.name} is {c.state.value}: only a running container can {action}"
            )
        return c
