"""The one place that starts CLI processes.

Every manager calls :meth:`CommandRunner.run` (collect output) or
:meth:`CommandRunner.stream` (read lines as they arrive). Guarantees:

* argv lists only, never a shell; the executable is resolved once, to an absolute path;
* the caller's environment passes through, plus per-call variables (secret values travel
  here, never on argv);
* a time limit on every call. The child runs in its own session, so on timeout, error or
  KeyboardInterrupt the whole process group (the CLI and any helper it started) is killed
  and the child is reaped before the call returns or raises;
* stdout and stderr are captured, never printed; each call is logged at DEBUG (argv, exit
  code, duration), and argv holds no secrets;
* a failed call becomes a classified :class:`ContainerError` (see ``errors.py``).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from ...core.exceptions import CommandTimeoutError, ContainerError, RuntimeNotAvailableError

if TYPE_CHECKING:
    from .errors import ErrorClassifier

__all__ = ["DEFAULT_TIMEOUT", "CommandResult", "CommandRunner"]

log = logging.getLogger("dotfiles_container_manager")

#: Seconds one CLI call may take unless the engine or the call says otherwise.
DEFAULT_TIMEOUT = 120.0
# After SIGKILL, how long to wait for pipes to close (a helper that escaped the process
# group could hold them open forever).
_REAP_GRACE = 5.0

Input = bytes | Iterable[bytes] | None


@dataclass(frozen=True)
class CommandResult:
    """What one CLI call returned. ``stdout``/``stderr`` are bytes; ``*_text`` decode them."""

    command: tuple[str, ...]
    returncode: int
    stdout: bytes = b""
    stderr: bytes = b""
    duration: float = field(default=0.0, compare=False)

    @property
    def stdout_text(self) -> str:
        """stdout decoded as UTF-8 with replacement."""
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        """stderr decoded as UTF-8 with replacement."""
        return self.stderr.decode("utf-8", errors="replace")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        proc.kill()


def _reap(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """After a kill: collect what is left and wait for the child, within a grace period."""
    try:
        out, err = proc.communicate(timeout=_REAP_GRACE)
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        out, err = b"", b""
    return out or b"", err or b""


def _feed(pipe: IO[bytes], chunks: Iterable[bytes], errors: list[BaseException]) -> None:
    # Runs in a thread: writes the input to the child's stdin, then closes it. A child that
    # stops reading (it failed early, or was killed) ends the feed with EPIPE: not an error
    # of ours, the child's exit status tells what happened.
    try:
        for chunk in chunks:
            if chunk:
                pipe.write(chunk)
    except (BrokenPipeError, ValueError, OSError):
        pass
    except BaseException as exc:  # an error in the caller's generator
        errors.append(exc)
    finally:
        with suppress(OSError):
            pipe.close()


class CommandRunner:
    """Runs one container CLI (``docker`` or ``podman``) with the guarantees above.

    Args:
        executable: The CLI: a name on PATH or a path. Resolved once, here.
        runtime: Name used in errors (``"docker"``/``"podman"``).
        classifier: Turns a failed call into the right exception.
        timeout: Default limit in seconds for one call.
        global_args: Options placed before every subcommand (e.g. ``--host``, ``--url``).
        env: Extra environment for every call (on top of the caller's environment).
    """

    def __init__(
        self,
        executable: str,
        *,
        runtime: str,
        classifier: ErrorClassifier,
        timeout: float = DEFAULT_TIMEOUT,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        from shutil import which

        resolved = which(executable)
        if resolved is None:
            raise RuntimeNotAvailableError(
                f"{runtime} CLI not found: {executable!r}", runtime=runtime, command=[executable]
            )
        self.executable = resolved
        self.runtime = runtime
        self.classifier = classifier
        self.timeout = timeout
        self.global_args = tuple(global_args)
        self.env = dict(env or {})
        #: Facts about the server learnt once per engine (e.g. its API version).
        self.facts: dict[str, object] = {}

    # ------------------------------------------------------------------ helpers

    def argv(self, args: Sequence[str]) -> list[str]:
        """The full argv for ``args``."""
        return [self.executable, *self.global_args, *args]

    def _environ(self, extra: Mapping[str, str] | None) -> dict[str, str] | None:
        if not extra and not self.env:
            return None  # inherit: cheapest
        environ = dict(os.environ)
        environ.update(self.env)
        if extra:
            environ.update(extra)
        return environ

    def _spawn(
        self,
        argv: list[str],
        *,
        env: Mapping[str, str] | None,
        stdin: bool,
        merge_stderr: bool,
    ) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                argv,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
                env=self._environ(env),
                # Own session and process group: a timeout kills the CLI and its helpers.
                start_new_session=True,
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            raise RuntimeNotAvailableError(
                f"cannot execute {self.runtime} CLI {argv[0]!r}: {exc.strerror or exc}",
                runtime=self.runtime,
                command=argv,
            ) from exc

    # ------------------------------------------------------------------ run

    def run(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ContainerError,
        check: bool = True,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        merge_stderr: bool = False,
    ) -> CommandResult:
        """Run the CLI once and collect its output.

        Args:
            args: Arguments after the executable (and global options).
            error: Exception class for a failure no more specific class explains.
            check: Raise on a non-zero exit (classified); else return the result.
            input: Bytes, or an iterable of byte chunks streamed to stdin from a thread.
            timeout: Limit for this call; the runner's default when None.
            env: Extra environment variables for this call only (secret values go here).
            merge_stderr: Send stderr into the stdout pipe (keeps the two streams' order).

        Raises:
            CommandTimeoutError: The limit passed; the process group was killed and reaped.
            RuntimeNotAvailableError: The CLI cannot run or its daemon does not answer.
            ContainerError: The call failed (the class given by ``error`` or a more specific one).
        """
        argv = self.argv(args)
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        proc = self._spawn(argv, env=env, stdin=input is not None, merge_stderr=merge_stderr)
        feeder: threading.Thread | None = None
        feed_errors: list[BaseException] = []
        try:
            if isinstance(input, (bytes, bytearray, memoryview)):
                input = (bytes(input),)
            if input is not None and proc.stdin is not None:
                pipe, proc.stdin = proc.stdin, None  # communicate() must not touch it
                feeder = threading.Thread(
                    target=_feed, args=(pipe, input, feed_errors), daemon=True
                )
                feeder.start()
            out, err = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = _reap(proc)
            self._log(argv, None, started)
            raise CommandTimeoutError(
                f"{self.runtime} did not finish within {limit:g} s; it was killed",
                timeout=limit,
                command=argv,
                stderr=err.decode("utf-8", errors="replace"),
            ) from None
        except BaseException:
            # KeyboardInterrupt or anything else: never leave the child running.
            _kill_group(proc)
            _reap(proc)
            raise
        finally:
            if feeder is not None:
                feeder.join()
        if feed_errors:
            raise feed_errors[0]
        result = CommandResult(
            tuple(argv), proc.returncode, out or b"", err or b"", time.monotonic() - started
        )
        self._log(argv, result.returncode, started)
        if check and result.returncode != 0:
            raise self.classifier.classify(result, error)
        return result

    # ------------------------------------------------------------------ stream

    @contextmanager
    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ContainerError,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        merge_stderr: bool = True,
    ) -> Iterator[Iterator[str]]:
        """Run the CLI and yield its output lines as they arrive.

        Use as ``with runner.stream([...]) as lines: for line in lines: ...``. Leaving the
        block early kills and reaps the process. ``timeout`` (None: no limit) bounds the whole
        call; when it passes the process is killed and :class:`CommandTimeoutError` raised.
        A non-zero exit raises the classified error after the last line.
        """
        argv = self.argv(args)
        started = time.monotonic()
        proc = self._spawn(argv, env=env, stdin=False, merge_stderr=merge_stderr)
        timed_out = threading.Event()
        timer: threading.Timer | None = None
        if timeout is not None:

            def expire() -> None:
                timed_out.set()
                _kill_group(proc)

            timer = threading.Timer(timeout, expire)
            timer.daemon = True
            timer.start()

        def lines() -> Iterator[str]:
            for raw in proc.stdout or ():
                yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
            err = proc.stderr.read() if proc.stderr is not None else b""
            proc.wait()
            if timed_out.is_set():
                raise CommandTimeoutError(
                    f"{self.runtime} did not finish within {timeout:g} s; it was killed",
                    timeout=timeout or 0.0,
                    command=argv,
                )
            if proc.returncode != 0:
                result = CommandResult(tuple(argv), proc.returncode, b"", err)
                raise self.classifier.classify(result, error)

        try:
            yield lines()
        finally:
            if timer is not None:
                timer.cancel()
            if proc.poll() is None:
                _kill_group(proc)
            _reap(proc)
            self._log(argv, proc.returncode, started)

    def _log(self, argv: list[str], returncode: int | None, started: float) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s -> %s in %.1f ms",
                " ".join(argv),
                "timeout" if returncode is None else returncode,
                (time.monotonic() - started) * 1000,
            )
