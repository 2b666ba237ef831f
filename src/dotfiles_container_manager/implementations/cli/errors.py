"""Turn a failed CLI call into the right exception.

The classifier reads the exit code and both output streams (docker prints some errors on
stdout) and decides, in this order:

1. runtime unavailable (daemon/service unreachable, broken configuration)
   → :class:`RuntimeNotAvailableError`;
2. a resource is missing → that resource's ``...NotFoundError``; the message says which
   kind ("No such container", "image not known", ...); a generic "no such object" takes
   the kind of the operation that failed;
3. a conflict (already exists, in use, wrong state) → the operation's ``...ConflictError``;
4. anything else → the operation's error class.

Every exception it makes carries the ``hint`` of the one diagnosis
(:mod:`dotfiles_container_manager.diagnosis`) when a known cause matches: the same words the
doctor prints.

Stderr text alone never means failure: both CLIs print warnings on success. Only a non-zero
exit status reaches the classifier. The patterns are data; a runtime adds its own by
subclassing and extending the tuples.
"""

from __future__ import annotations

import re

from ...core import exceptions as exc
from .command import CommandResult

__all__ = ["ErrorClassifier"]

_Kind = type[exc.ContainerError]

# Per operation error class: (its not-found class, its conflict class).
_FAMILY: dict[_Kind, tuple[_Kind, _Kind]] = {
    exc.ImageError: (exc.ImageNotFoundError, exc.ImageConflictError),
    exc.ContainerOperationError: (exc.ContainerNotFoundError, exc.ContainerConflictError),
    exc.VolumeError: (exc.VolumeNotFoundError, exc.VolumeConflictError),
    exc.NetworkError: (exc.NetworkNotFoundError, exc.NetworkConflictError),
}


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


class ErrorClassifier:
    """Classifies failures of the docker CLI (podman extends the patterns with its own)."""

    #: The runtime cannot be reached or is misconfigured.
    unavailable: tuple[str, ...] = (
        r"cannot connect to the docker daemon",
        r"permission denied while trying to connect to the docker daemon",
        r"unable to resolve docker endpoint",  # an unknown context (20.10: no prefix)
        r"error during connect",
        # The OCI runtime cannot start any container (podman's rc 126 on hosts whose hard
        # rlimits are below its defaults; crun on a hybrid cgroup layout).
        r"error setting rlimit",
        r"crun: [^\n]*cgroup",
    )
    #: Missing resources, most specific first: (pattern, exception class).
    not_found: tuple[tuple[str, _Kind], ...] = (
        (r"no such container", exc.ContainerNotFoundError),
        (r"no such volume", exc.VolumeNotFoundError),
        (r"network \S+ not found|network not found", exc.NetworkNotFoundError),
        (
            r"no such image|reference does not exist|repository \S+ not found|"
            r"manifest unknown|pull access denied|"
            r"an image does not exist locally with the tag",  # push of a missing image
            exc.ImageNotFoundError,
        ),
    )
    #: A missing resource whose kind the message does not name.
    generic_not_found: tuple[str, ...] = (r"no such object",)
    #: Pull attempts that found nothing (docker: "Unable to find image 'x' locally").
    pull_failed: tuple[str, ...] = (r"unable to find image '[^']*' locally", r"trying to pull ")
    #: Conflicts whose message also names a missing thing, read before the not-found patterns
    #: (podman: 'container x is not connected to CNI network "n": network not found').
    conflict_first: tuple[str, ...] = ()
    #: Already exists / in use / wrong state.
    conflict: tuple[str, ...] = (
        r"already exists",
        r"already in use",
        r"is in use",
        r"active endpoints",
        r"is not running",
        r"is already paused",
        r"is not paused",
        r"is paused",
        r"cannot remove a running container",
        r"cannot remove a paused container",
        r"port is already allocated",
        r"cannot start a paused container",
        r"conflict",
        r"is not connected",
        r"already exists in network",
    )

    def __init__(self, runtime: str) -> None:
        self.runtime = runtime
        self._compiled = False

    def _compile(self) -> None:
        # On the first failure, not when the engine is made: a script whose calls all
        # succeed never compiles these (about 1 ms).
        self._unavailable = _rx(*self.unavailable)
        self._not_found = [(re.compile(p, re.IGNORECASE), k) for p, k in self.not_found]
        self._generic_not_found = _rx(*self.generic_not_found)
        self._pull_failed = _rx(*self.pull_failed)
        self._conflict = _rx(*self.conflict)
        self._conflict_first = _rx(*self.conflict_first) if self.conflict_first else None
        self._compiled = True

    def classify(self, result: CommandResult, error: _Kind) -> exc.ContainerError:
        """The exception for a failed ``result`` of an operation whose error class is
        ``error``."""
        # The diagnosis tables (and dataclasses behind them): only a failure pays for them.
        from ...diagnosis import diagnose

        if not self._compiled:
            self._compile()
        stderr = result.stderr_text
        # docker prints some errors (OCI exec failures) on stdout; look at both.
        text = f"{stderr}\n{result.stdout_text[-4000:]}" if result.stdout else stderr
        message = (
            self._message(stderr)
            or self._message(result.stdout_text)
            or self._status(result.returncode)
        )
        command, code = result.command, result.returncode
        found = diagnose(self.runtime, text)
        hint = None if found is None else found.hint

        def make(kind: _Kind, text: str = message) -> exc.ContainerError:
            return kind(text, command=command, exit_code=code, stderr=stderr, hint=hint)

        if self._unavailable.search(text):
            return exc.RuntimeNotAvailableError(
                f"{self.runtime} is not available: {message}",
                runtime=self.runtime,
                command=command,
                exit_code=code,
                stderr=stderr,
                hint=hint,
            )
        if error is exc.ImageBuildError:
            # Whatever went wrong inside the build (a missing base image included), the
            # build failed: one exception type on every runtime, with the whole log.
            return exc.ImageBuildError(
                message,
                command=command,
                exit_code=code,
                stderr=stderr,
                hint=hint,
                output=f"{result.stdout_text}\n{stderr}".strip(),
            )
        not_found, conflict = _FAMILY.get(error, (None, None))
        if conflict is not None and self._conflict_first and self._conflict_first.search(text):
            return make(conflict)
        for pattern, kind in self._not_found:
            if pattern.search(text):
                return make(kind)
        if not_found is not None and self._generic_not_found.search(text):
            return make(not_found)
        if self._pull_failed.search(text) and "pulling from" not in text.lower():
            return make(exc.ImageNotFoundError)
        if conflict is not None and self._conflict.search(text):
            return make(conflict)
        return make(error)

    @staticmethod
    def _status(returncode: int) -> str:
        if returncode < 0:
            import signal

            try:
                return f"killed by {signal.Signals(-returncode).name}"
            except ValueError:
                return f"killed by signal {-returncode}"
        return f"command failed with exit code {returncode}"

    @staticmethod
    def _message(text: str) -> str:
        """The most telling line: the daemon's own error, else the last line starting with
        'Error', else the last line."""
        # cobra's trailing hints ("See 'docker run --help'.") say nothing about the failure,
        # nor does the legacy builder's "DEPRECATED: …" banner (its indented lines included),
        # which docker 23+ prints first on every build: both stay in .stderr only.
        lines = []
        in_banner = False
        for raw in text.splitlines():
            line = raw.strip()
            in_banner = line.startswith("DEPRECATED:") or (in_banner and raw[:1].isspace())
            if line and not in_banner and not line.startswith(("See '", "Run '")):
                lines.append(line)
        if not lines:
            return ""
        for line in lines:
            if "error response from daemon" in line.lower():
                return line
        for line in reversed(lines):
            low = line.lower()
            if low.startswith(("error", "docker: error")) and not low.startswith("error: exit"):
                return line
        return lines[-1]
