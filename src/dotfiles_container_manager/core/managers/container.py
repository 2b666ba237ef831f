"""The container manager interface."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress

from ..exceptions import ContainerNotFoundError
from ..types import ContainerInfo, ExecResult, RunConfig

__all__ = ["ContainerManager"]


class ContainerManager(ABC):
    """Containers: create, run, control, inspect, exec, logs, wait, remove, prune.

    Container arguments accept a name or an id (full or a unique prefix).
    """

    @abstractmethod
    def run(self, config: RunConfig) -> str:
        """Create and start a container; return its full id.

        With ``config.detach`` (the default) it returns once the container started; with
        ``detach=False`` it returns after the container exited (its output is in ``logs``,
        its exit code from ``wait``). Either way the return value is the id.
        """

    @abstractmethod
    def create(self, config: RunConfig) -> str:
        """Create a container without starting it; return its full id."""

    @abstractmethod
    def start(self, container: str) -> None:
        """Start a created or stopped container."""

    @abstractmethod
    def stop(self, container: str, timeout: int | None = None) -> None:
        """Stop: SIGTERM, then SIGKILL after ``timeout`` seconds (runtime default: 10)."""

    @abstractmethod
    def restart(self, container: str, timeout: int | None = None) -> None:
        """Stop (as :meth:`stop`) and start again."""

    @abstractmethod
    def kill(self, container: str, signal: str | int | None = None) -> None:
        """Send ``signal`` (default SIGKILL) to the container's main process."""

    @abstractmethod
    def pause(self, container: str) -> None:
        """Freeze every process in the container."""

    @abstractmethod
    def unpause(self, container: str) -> None:
        """Thaw a paused container."""

    @abstractmethod
    def remove(self, container: str, force: bool = False, volumes: bool = False) -> None:
        """Remove a container. ``force`` kills a running one at once (on every runtime);
        ``volumes`` also removes its anonymous volumes."""

    @abstractmethod
    def exists(self, container: str) -> bool:
        """True when the container exists."""

    @abstractmethod
    def inspect(self, container: str) -> ContainerInfo:
        """The container's record; :class:`ContainerNotFoundError` when missing."""

    @abstractmethod
    def list(
        self, all: bool = False, *, filters: Mapping[str, str] | None = None
    ) -> builtins.list[ContainerInfo]:
        """Containers (running and paused; ``all`` adds stopped ones), from one CLI call."""

    @abstractmethod
    def logs(
        self,
        container: str,
        *,
        tail: int | None = None,
        since: str | None = None,
        timestamps: bool = False,
        stdout: bool = True,
        stderr: bool = True,
    ) -> str:
        """The container's output so far, stdout and stderr interleaved as the CLI wrote
        them (undecodable bytes replaced). :meth:`logs_bytes` gives the raw bytes."""

    @abstractmethod
    def logs_bytes(
        self, container: str, *, tail: int | None = None, stdout: bool = True, stderr: bool = True
    ) -> bytes:
        """The container's output as raw bytes."""

    @abstractmethod
    def exec(
        self,
        container: str,
        command: Sequence[str],
        *,
        environment: Mapping[str, str] | None = None,
        working_dir: str | None = None,
        user: str | None = None,
        input: bytes | None = None,
        timeout: float | None = None,
    ) -> ExecResult:
        """Run ``command`` in a running container and return its exit code and output.

        A non-zero exit is a result, not an error. A command that cannot start gives 127
        (not found) or 126 (not executable). A container that is not running raises
        :class:`ContainerConflictError`.
        """

    @abstractmethod
    def wait(self, container: str, *, timeout: float | None = None) -> int:
        """Block until the container exits; return its exit code."""

    @abstractmethod
    def prune(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[str]:
        """Remove every stopped container (matching ``filters``); return the removed ids."""

    @contextmanager
    def running(self, config: RunConfig) -> Iterator[str]:
        """Run a container for the length of a ``with`` block, then remove it, even when the
        block raises: ``with engine.containers.running(cfg) as cid: ...``.

        The container is created, then started, so one that fails to start (or whose start
        times out) is removed too; a failed ``run`` would leave it behind. One that is already
        gone at the end (``remove=True``, or the block removed it) is not an error."""
        container_id = self.create(config)
        try:
            self.start(container_id)
            if not config.detach:
                with suppress(ContainerNotFoundError):  # remove=True: gone once it exited
                    self.wait(container_id)
            yield container_id
        finally:
            with suppress(ContainerNotFoundError):
                self.remove(container_id, force=True, volumes=True)
