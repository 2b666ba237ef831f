"""The exceptions the library raises, and the context each one carries.

Every exception derives from :class:`ContainerError`, so ``except ContainerError``
catches everything the library raises on purpose. The tree::

    ContainerError                      .message .command .exit_code .stderr .hint
    ├── RuntimeNotAvailableError        .runtime   (CLI missing, daemon/service unreachable,
    │                                               no container can start)
    ├── CommandTimeoutError             .timeout   (the CLI was killed and reaped)
    ├── InvalidConfigError (ValueError) .field .value  (raised before any command runs)
    ├── OutputParseError                .output    (an excerpt of what the CLI printed)
    ├── ResourceNotFoundError           (mixin: every "...NotFoundError" below is one)
    ├── ResourceConflictError           (mixin: already exists / in use / wrong state)
    ├── ImageError
    │   ├── ImageNotFoundError          (also ResourceNotFoundError)
    │   ├── ImageBuildError             .output   (the build log, both streams)
    │   └── ImageConflictError          (also ResourceConflictError)
    ├── ContainerOperationError
    │   ├── ContainerNotFoundError      (also ResourceNotFoundError)
    │   ├── ContainerConflictError      (also ResourceConflictError)
    │   ├── ContainerNotReadyError      .logs     (stopped, or unhealthy, before it was ready)
    │   └── ContainerPathError          .path  (a file copy: missing path, a directory
    │                                   where a file was wanted, entries refused)
    ├── VolumeError
    │   ├── VolumeNotFoundError         (also ResourceNotFoundError)
    │   └── VolumeConflictError         (also ResourceConflictError)
    └── NetworkError
        ├── NetworkNotFoundError        (also ResourceNotFoundError)
        └── NetworkConflictError        (also ResourceConflictError)

Subclasses add their own attribute and pass ``command``/``exit_code``/``stderr`` through to
:class:`ContainerError` as keywords.

``.hint`` says what to do about the failure when the library knows a fix (the CLI is
missing, the daemon is down, a name is taken...; see ``dotfiles_container_manager.diagnosis``);
``str()`` shows it under the message.

``.command`` is the argument list that ran, with secrets already kept out of it:
environment values never appear on a command line (they travel in the child's
environment), so an exception can be logged as it is.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CommandTimeoutError",
    "ContainerConflictError",
    "ContainerError",
    "ContainerNotFoundError",
    "ContainerNotReadyError",
    "ContainerOperationError",
    "ContainerPathError",
    "ImageBuildError",
    "ImageConflictError",
    "ImageError",
    "ImageNotFoundError",
    "InvalidConfigError",
    "NetworkConflictError",
    "NetworkError",
    "NetworkNotFoundError",
    "OutputParseError",
    "ResourceConflictError",
    "ResourceNotFoundError",
    "RuntimeNotAvailableError",
    "VolumeConflictError",
    "VolumeError",
    "VolumeNotFoundError",
]

# How much of stderr/stdout goes into str(exception); the attributes keep it all.
_EXCERPT = 2000


def _excerpt(text: str, limit: int = _EXCERPT) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]} …[{len(text) - limit} chars]… {text[-half:]}"


class ContainerError(Exception):
    """Base class of every error the library raises.

    Attributes:
        message: What failed, in words.
        command: The CLI argument list that ran (empty if none ran). Secrets are never in it.
        exit_code: The CLI's exit status, or None when it did not exit by itself.
        stderr: What the CLI wrote on standard error (decoded, may be empty).
        hint: What to do about it, in one sentence, when a fix is known; else None.
    """

    def __init__(
        self,
        message: str,
        *,
        command: Sequence[str] = (),
        exit_code: int | None = None,
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.command: list[str] = list(command)
        self.exit_code = exit_code
        self.stderr = stderr
        self.hint = hint

    def __str__(self) -> str:
        parts = [self.message]
        if self.hint:
            parts.append(f"hint: {self.hint}")
        if self.command:
            parts.append(f"command: {' '.join(self.command)}")
        if self.exit_code is not None:
            parts.append(f"exit code: {self.exit_code}")
        if self.stderr.strip():
            parts.append(f"stderr: {_excerpt(self.stderr)}")
        return "\n".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, command={self.command!r}, "
            f"exit_code={self.exit_code!r})"
        )


class RuntimeNotAvailableError(ContainerError):
    """The runtime cannot be used: its CLI is missing, its daemon/service does not answer, or
    its OCI runtime cannot start any container (podman's rc 126: rlimits, cgroups).

    Attributes:
        runtime: The runtime's name (``"docker"``, ``"podman"``) or the command tried.
    """

    def __init__(self, message: str, *, runtime: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.runtime = runtime


class CommandTimeoutError(ContainerError):
    """A CLI call ran past its time limit; the process (and its group) was killed and reaped.

    Attributes:
        timeout: The limit, in seconds, that was exceeded.
    """

    def __init__(self, message: str, *, timeout: float, **context: Any) -> None:
        super().__init__(message, **context)
        self.timeout = timeout


class InvalidConfigError(ContainerError, ValueError):
    """A configuration value is invalid; raised when the object is built, before any command.

    Attributes:
        field: The name of the offending field (e.g. ``"RunConfig.name"``).
        value: A printable form of the value; ``"<redacted>"`` for secrets.
    """

    def __init__(self, field: str, value: object, reason: str) -> None:
        shown = value if isinstance(value, str) and value == "<redacted>" else repr(value)
        if len(shown) > 200:
            shown = shown[:200] + "…"
        super().__init__(f"invalid {field} {shown}: {reason}")
        self.field = field
        self.value = shown


class OutputParseError(ContainerError):
    """The CLI succeeded but printed something the library cannot read.

    Attributes:
        output: An excerpt of what the CLI printed on standard output.
    """

    def __init__(self, message: str, *, output: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.output = _excerpt(output, 500)

    def __str__(self) -> str:
        return f"{super().__str__()}\noutput: {self.output!r}"


class ResourceNotFoundError(ContainerError):
    """A named resource (image, container, volume, network) does not exist."""


class ResourceConflictError(ContainerError):
    """A resource already exists, is in use, or is in the wrong state for the operation."""


class ImageError(ContainerError):
    """An image operation failed."""


class ImageNotFoundError(ImageError, ResourceNotFoundError):
    """The image does not exist locally (and, for run/pull, could not be fetched)."""


class ImageBuildError(ImageError):
    """``build`` failed.

    Attributes:
        output: The build log (stdout and stderr). Docker's legacy builder writes a failing
            step's stderr to stdout, so both streams matter.
    """

    def __init__(self, message: str, *, output: str = "", **context: Any) -> None:
        super().__init__(message, **context)
        self.output = output


class ImageConflictError(ImageError, ResourceConflictError):
    """The image is in use (e.g. by a container) or the operation conflicts with its state."""


class ContainerOperationError(ContainerError):
    """A container operation failed."""


class ContainerNotFoundError(ContainerOperationError, ResourceNotFoundError):
    """The container does not exist."""


class ContainerConflictError(ContainerOperationError, ResourceConflictError):
    """The name is taken, or the container is in the wrong state (not running, paused...)."""


class ContainerNotReadyError(ContainerOperationError):
    """A readiness wait (``wait_for_log``, ``wait_for_port``, ``wait_for_healthy``) ended
    because the container can no longer become ready: it stopped first, or its health check
    reported ``unhealthy``.

    Attributes:
        exit_code: The container's exit code when it stopped (None while it still runs, or
            when it was removed before its code could be read).
        logs: The last lines of the container's output (stdout and stderr), to see why.
        container: The container as the caller named it.
    """

    def __init__(
        self, message: str, *, logs: str = "", container: str = "", **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.logs = logs
        self.container = container

    def __str__(self) -> str:
        text = super().__str__()
        if self.logs.strip():
            text += f"\nlast output:\n{_excerpt(self.logs)}"
        return text


class ContainerPathError(ContainerOperationError):
    """A path of a file copy cannot be used: it is missing in the container, it is a
    directory where a file was wanted (or the other way round), or entries copied out of
    the container were refused because they would leave the destination. The container
    itself exists (a missing container is :class:`ContainerNotFoundError`).

    Attributes:
        path: The path in the container the copy was about.
        refused: For ``copy_from``: the entries that were not written (each ``name: why``).
    """

    def __init__(
        self, message: str, *, path: str = "", refused: Sequence[str] = (), **context: Any
    ) -> None:
        super().__init__(message, **context)
        self.path = path
        self.refused: list[str] = list(refused)


class VolumeError(ContainerError):
    """A volume operation failed."""


class VolumeNotFoundError(VolumeError, ResourceNotFoundError):
    """The volume does not exist."""


class VolumeConflictError(VolumeError, ResourceConflictError):
    """The volume already exists or is in use."""


class NetworkError(ContainerError):
    """A network operation failed."""


class NetworkNotFoundError(NetworkError, ResourceNotFoundError):
    """The network does not exist."""


class NetworkConflictError(NetworkError, ResourceConflictError):
    """The network already exists, is in use, or the container is (not) connected already."""
