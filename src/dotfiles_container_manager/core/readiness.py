"""Readiness waits: block until a container wrote a line, accepts connections, or is healthy.

The waits are written once, here, on top of a :class:`ContainerManager`'s hooks
(``_stream_logs``, ``_inspect``, ``_logs`` and the small overridable ones below), so every
engine waits the same way and raises the same exceptions:

- the container stops (or was never started, or is removed) before it is ready:
  :class:`ContainerNotReadyError` with its exit code and the last lines of its output;
- the time runs out: :class:`CommandTimeoutError`;
- either way no process is left running: :func:`wait_for_log` reads one ``logs --follow``
  stream and closes it on every way out; the other waits run short calls one after another.

``wait_for_log`` streams (the end of the stream is how it learns that the container
stopped). A port or a health status cannot be streamed from both CLIs: those waits inspect
the container between attempts, at most every :data:`POLL_MAX` seconds.
"""

from __future__ import annotations

import re
import select
import socket
import time
from collections import deque
from contextlib import suppress
from typing import Protocol

from .enums import ContainerState
from .exceptions import (
    CommandTimeoutError,
    ContainerError,
    ContainerNotFoundError,
    ContainerNotReadyError,
    ContainerOperationError,
)
from .streams import LogStream
from .types import ContainerInfo, PortMapping

__all__ = [
    "POLL_MAX",
    "TAIL_LINES",
    "ContainerHooks",
    "connect_address",
    "tcp_accepts",
    "wait_for_healthy",
    "wait_for_log",
    "wait_for_port",
]

#: How many of the container's last output lines a ContainerNotReadyError carries.
TAIL_LINES = 50
#: Polling (ports, health): the first pause, and the longest one, in seconds.
POLL_FIRST = 0.05
POLL_MAX = 0.5
#: How long a fresh TCP connection is watched for being closed at once. Docker's userland
#: proxy accepts every connection to a published port, then closes it when nothing listens
#: in the container (measured: within a millisecond); a real server keeps it open.
PROXY_GRACE = 0.2
#: Longest single connection attempt.
CONNECT_TIMEOUT = 1.0
# States in which a container cannot become ready by waiting (CREATED: never started).
_ENDED = frozenset(
    {ContainerState.EXITED, ContainerState.DEAD, ContainerState.REMOVING, ContainerState.CREATED}
)
_WILDCARD = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 - compared, never bound


def connect_address(mapping: PortMapping) -> tuple[str, int]:
    """Where this machine connects to reach a published port: the address it is bound to,
    or loopback (``127.0.0.1``) when it is bound to every interface.

    The one place that decides it (an engine on another host changes it through
    :meth:`ContainerManager._connect_address`).
    """
    host = mapping.host_ip or ""
    if host in _WILDCARD:
        host = "127.0.0.1"
    if mapping.host_port is None:
        raise ValueError(f"{mapping} has no host port")
    return host, mapping.host_port


def tcp_accepts(host: str, port: int, timeout: float) -> bool:
    """True when a TCP connection to ``host:port`` succeeds and is not closed at once (a
    proxy in front of a container that does not listen yet closes it immediately)."""
    try:
        sock = socket.create_connection((host, port), timeout=max(timeout, 0.01))
    except OSError:
        return False
    with sock:
        try:
            readable, _, _ = select.select([sock], [], [], PROXY_GRACE)
            if not readable:
                return True  # open and quiet: a server waiting for its client
            return bool(sock.recv(1, socket.MSG_PEEK))  # b"": closed at once
        except OSError:  # reset at once
            return False


class ContainerHooks(Protocol):
    """The hooks of :class:`~.managers.container.ContainerManager` the waits use."""

    def _stream_logs(
        self,
        container: str,
        follow: bool,
        tail: int | None,
        since: str | None,
        timeout: float | None,
    ) -> LogStream: ...

    def _inspect(self, container: str) -> ContainerInfo: ...

    def _logs(
        self,
        container: str,
        tail: int | None,
        since: str | None,
        timestamps: bool,
        stdout: bool,
        stderr: bool,
    ) -> bytes: ...

    def _connect_address(self, mapping: PortMapping) -> tuple[str, int]: ...

    def _port_accepts(self, host: str, port: int, timeout: float) -> bool: ...

    def _run_health_check(
        self, container: str, info: ContainerInfo, timeout: float
    ) -> float | None: ...


# --------------------------------------------------------------------------- helpers


class _Clock:
    """The deadline of one wait, and the pauses between its attempts."""

    __slots__ = ("deadline", "delay", "timeout")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.delay = POLL_FIRST

    @property
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def pause(self, what: str, until: float | None = None) -> None:
        """Sleep before the next attempt (no longer than the deadline allows, nor past
        ``until``); raise the timeout when no time is left."""
        remaining = self.remaining
        if remaining <= 0:
            raise CommandTimeoutError(f"{what} within {self.timeout:g} s", timeout=self.timeout)
        pause = min(self.delay, remaining)
        if until is not None:
            pause = min(pause, max(until - time.monotonic(), 0.0))
        time.sleep(pause)
        self.delay = min(self.delay * 1.5, POLL_MAX)


def _tail(manager: ContainerHooks, container: str) -> str:
    """The container's last lines of output, or "" when they cannot be read."""
    with suppress(ContainerError):
        data = manager._logs(container, TAIL_LINES, None, False, True, True)
        return data.decode("utf-8", errors="replace")
    return ""


def _not_ready(
    manager: ContainerHooks,
    container: str,
    why: str,
    info: ContainerInfo | None = None,
    logs: str | None = None,
) -> ContainerNotReadyError:
    """The error for a container that stopped (or was removed) before it was ready."""
    if info is None:
        try:
            info = manager._inspect(container)
        except ContainerNotFoundError:
            return ContainerNotReadyError(
                f"container {container!r} was removed before {why}",
                logs=logs or "",
                container=container,
            )
    if logs is None:
        logs = _tail(manager, container)
    state = "was never started" if info.state is ContainerState.CREATED else f"{info.state}"
    return ContainerNotReadyError(
        f"container {container!r} {state} before {why}"
        + ("" if info.exit_code is None else f" (exit code {info.exit_code})"),
        exit_code=info.exit_code,
        logs=logs,
        container=container,
    )


# --------------------------------------------------------------------------- the waits


def wait_for_log(
    manager: ContainerHooks, container: str, pattern: re.Pattern[str], timeout: float
) -> str:
    """The first line of the container's output (from its start) in which ``pattern`` is
    found. Reads one ``logs --follow`` stream; its end means the container stopped."""
    clock = _Clock(timeout)
    why = f"it wrote a line matching {pattern.pattern!r}"
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    while True:
        tail.clear()
        try:
            with manager._stream_logs(
                container, True, None, None, max(clock.remaining, 0.001)
            ) as logs:
                for line in logs:
                    if pattern.search(line.text):
                        return line.text
                    tail.append(line.text)
        except CommandTimeoutError as exc:
            raise CommandTimeoutError(
                f"container {container!r} wrote no line matching {pattern.pattern!r} "
                f"within {timeout:g} s",
                timeout=timeout,
                command=exc.command,
            ) from exc
        # The stream ended: the container stopped, unless a restart policy started it again
        # (then follow it again: the lines already seen did not match and are read again).
        try:
            info = manager._inspect(container)
        except ContainerNotFoundError:
            raise _not_ready(manager, container, why, logs="\n".join(tail)) from None
        if info.state in _ENDED:
            raise _not_ready(manager, container, why, info, "\n".join(tail))
        clock.pause(f"container {container!r} wrote no line matching {pattern.pattern!r}")


def wait_for_port(
    manager: ContainerHooks, container: str, port: int, protocol: str, timeout: float
) -> PortMapping:
    """The published mapping of ``port/protocol`` once a TCP connection to it succeeds
    (for udp and sctp, which cannot be probed that way: once it is published and the
    container runs)."""
    clock = _Clock(timeout)
    why = f"port {port}/{protocol} accepted a connection"
    while True:
        info = manager._inspect(container)
        if info.state in _ENDED:
            raise _not_ready(manager, container, why, info)
        if info.state is ContainerState.RUNNING:
            mapping = next(
                (
                    m
                    for m in info.ports
                    if m.container_port == port and m.protocol == protocol and m.host_port
                ),
                None,
            )
            if mapping is None:
                raise ContainerOperationError(
                    f"container {container!r} does not publish port {port}/{protocol}"
                )
            if protocol != "tcp":
                return mapping
            host, host_port = manager._connect_address(mapping)
            if manager._port_accepts(host, host_port, min(clock.remaining, CONNECT_TIMEOUT)):
                return mapping
        clock.pause(f"container {container!r}: port {port}/{protocol} accepted no connection")


def wait_for_healthy(manager: ContainerHooks, container: str, timeout: float) -> None:
    """Return once the container's health check passed. An engine whose runtime does not
    run the checks by itself runs them here (``ContainerManager._run_health_check``)."""
    clock = _Clock(timeout)
    why = "its health check passed"
    next_check = 0.0  # when this wait runs the check itself, the next run is due then
    while True:
        info = manager._inspect(container)
        if info.health == "healthy":
            return
        if info.state in _ENDED:
            raise _not_ready(manager, container, why, info)
        if info.health is None:
            raise ContainerOperationError(f"container {container!r} has no health check")
        if info.health == "unhealthy":
            raise ContainerNotReadyError(
                f"container {container!r} is unhealthy: its health check failed as many "
                "times in a row as its retries allow",
                logs=_tail(manager, container),
                container=container,
            )
        now = time.monotonic()
        if info.state is ContainerState.RUNNING and now >= next_check:
            interval = manager._run_health_check(container, info, max(clock.remaining, 1.0))
            if interval is not None:  # it ran: read the status it left, then wait for the next
                next_check = time.monotonic() + interval
                continue
        clock.pause(
            f"container {container!r} was not healthy",
            until=next_check if next_check > now else None,
        )
