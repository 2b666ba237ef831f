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

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING

from ...core.exceptions import CommandTimeoutError, ContainerError, RuntimeNotAvailableError
from .command import CommandResult, Input

if TYPE_CHECKING:
    import logging

    from .errors import ErrorClassifier

__all__ = ["DEFAULT_TIMEOUT", "CommandResult", "CommandRunner"]

_LOGGER = "dotfiles_container_manager"


def _logger() -> logging.Logger | None:
    """The library's logger, or None while :mod:`logging` was never imported.

    Importing :mod:`logging` costs several milliseconds at first use; a program that never
    imported it cannot have enabled DEBUG for this logger, so nothing would be logged.
    """
    module = sys.modules.get("logging")
    if module is None:
        return None
    logger: logging.Logger = module.getLogger(_LOGGER)
    return logger


#: Seconds one CLI call may take unless the engine or the call says otherwise.
DEFAULT_TIMEOUT = 120.0
# After SIGKILL, how long to wait for pipes to close (a helper that escaped the process
# group could hold them open forever).
_REAP_GRACE = 5.0
# After SIGKILL, how long the group may take to close the pipes before the processes
# outside it that still hold them are looked for (in /proc) and killed.
_SETTLE = 0.5
# Lines of merged output kept to classify a failed stream.
_STREAM_TAIL_LINES = 20
# Bytes per read of the child's output (a whole default pipe buffer).
_READ_SIZE = 65536
# poll(2) as subprocess itself uses: no descriptor to create and close per call, as epoll has.
_Selector: type[selectors.BaseSelector] = getattr(
    selectors, "PollSelector", selectors.SelectSelector
)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(ProcessLookupError):
        proc.kill()


def _kill_pipe_holders(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL every other process holding the child's output pipes: a helper that left its
    process group (``setsid``) survives the group kill and would keep the pipes open."""
    links = set()
    for pipe in (proc.stdout, proc.stderr):
        with suppress(AttributeError, OSError, ValueError):  # None, or already closed
            links.add(f"pipe:[{os.fstat(pipe.fileno()).st_ino}]")  # type: ignore[union-attr]
    with suppress(OSError):  # no /proc: the group kill is all there is
        for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
            if pid == os.getpid():
                continue
            with suppress(OSError):
                fds = os.listdir(f"/proc/{pid}/fd")
                if any(_readlink(f"/proc/{pid}/fd/{fd}") in links for fd in fds):
                    os.kill(pid, signal.SIGKILL)


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _reap(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """After a kill: collect what is left and wait for the child, within a grace period."""
    try:
        try:
            out, err = proc.communicate(timeout=_SETTLE)
        except subprocess.TimeoutExpired:  # something outside the group holds the pipes
            _kill_pipe_holders(proc)
            out, err = proc.communicate(timeout=_REAP_GRACE)
    except subprocess.TimeoutExpired:
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
        proc.wait()
        out, err = b"", b""
    return out or b"", err or b""


def _pidfd(proc: subprocess.Popen[bytes]) -> int | None:
    """A descriptor that becomes readable when ``proc`` exits (Linux 5.3+), else None."""
    try:
        return os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux, an old kernel, or a sandbox refusing it
        return None


def _communicate(proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, bytes]:
    """Read stdout and stderr to their end and wait for the exit, all within ``timeout``.

    What ``proc.communicate(timeout=...)`` does, but without its last step: its
    ``wait(timeout)`` polls for the exit with sleeps of 1, 2, 4... ms, which adds about a
    millisecond to every short CLI call (the CLI closes its output just before it exits).
    Here the exit is one more event in the selector (a pidfd); where pidfds are missing the
    wait falls back to ``proc.wait(timeout)``.

    Raises:
        subprocess.TimeoutExpired: with ``stdout``/``stderr`` holding what was read so far;
            the child is left running (the caller kills and reaps it).
    """
    deadline = time.monotonic() + timeout
    out: list[bytes] = []
    err: list[bytes] = []
    sinks = {}
    pidfd = _pidfd(proc)
    with _Selector() as selector:
        for pipe, sink in ((proc.stdout, out), (proc.stderr, err)):
            if pipe is not None:
                selector.register(pipe, selectors.EVENT_READ)
                sinks[pipe.fileno()] = sink
        if pidfd is not None:
            selector.register(pidfd, selectors.EVENT_READ)
        try:
            while selector.get_map():
                remaining = deadline - time.monotonic()
                ready = selector.select(remaining) if remaining > 0 else []
                if not ready:
                    raise subprocess.TimeoutExpired(
                        proc.args, timeout, output=b"".join(out), stderr=b"".join(err)
                    )
                for key, _ in ready:
                    if key.fd == pidfd:  # exited; a helper may still hold the pipes
                        selector.unregister(key.fd)
                        continue
                    data = os.read(key.fd, _READ_SIZE)
                    if data:
                        sinks[key.fd].append(data)
                    else:
                        selector.unregister(key.fileobj)
                        key.fileobj.close()  # type: ignore[union-attr]
        finally:
            if pidfd is not None:
                os.close(pidfd)
    if pidfd is not None:
        proc.wait()  # it has exited: this only reaps it
    else:
        try:
            proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired as exc:
            exc.stdout, exc.stderr = b"".join(out), b"".join(err)
            raise
    return b"".join(out), b"".join(err)


def _feed(
    pipe: IO[bytes],
    chunks: Iterable[bytes],
    errors: list[BaseException],
    proc: subprocess.Popen[bytes],
) -> None:
    # Runs in a thread: writes the input to the child's stdin, then closes it. A child that
    # stops reading (it failed early, or was killed) ends the feed with EPIPE: not an error
    # of ours, the child's exit status tells what happened.
    try:
        for chunk in chunks:  # an error raised by the caller's iterator goes to `except`
            if chunk:
                try:
                    pipe.write(chunk)
                except (OSError, ValueError):  # EPIPE, or the pipe closed by a kill
                    return
    except BaseException as exc:  # the caller's iterator failed (or was interrupted)
        errors.append(exc)
        # A half-fed CLI must not carry on (a build of a truncated context): kill it, which
        # also ends the main thread's wait at once instead of at the timeout.
        _kill_group(proc)
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
        #: The server's API version, once learnt (the engine's version probe records it).
        self.api_version: tuple[int, int] | None = None

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
            check: Raise on a non-zero exit (classified); else return the result (an
                unreachable runtime still raises RuntimeNotAvailableError).
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
                    target=_feed, args=(pipe, input, feed_errors, proc), daemon=True
                )
                feeder.start()
            out, err = _communicate(proc, limit)
        except subprocess.TimeoutExpired as expired:
            _kill_group(proc)
            out, err = _reap(proc)
            err = (expired.stderr or b"") + err
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
        if result.returncode != 0:
            self._confirm_available(result)
        return result

    def classify(self, result: CommandResult, error: type[ContainerError]) -> ContainerError:
        """The exception a failed ``result`` stands for (see ``errors.py``)."""
        return self.classifier.classify(result, error)

    def _confirm_available(self, result: CommandResult) -> None:
        """With ``check=False`` a failure is the caller's to read (an exec'd command's exit
        code), unless the runtime itself is unreachable: that is never a result. The output
        alone proves nothing (the command may print the same words): a ``version`` call that
        fails too confirms it, and the unavailability is raised."""
        failure = self.classifier.classify(result, ContainerError)
        if not isinstance(failure, RuntimeNotAvailableError):
            return
        try:
            self.run(["version", "--format", "{{json .}}"], timeout=min(self.timeout, 30.0))
        except ContainerError:
            raise failure from None

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

        # stderr kept apart: drained by a thread, or a CLI writing more than a pipe buffer
        # there would block while we wait for stdout to end.
        err_chunks: list[bytes] = []
        drain: threading.Thread | None = None
        if proc.stderr is not None:
            drain = threading.Thread(
                target=lambda: err_chunks.append(proc.stderr.read() if proc.stderr else b""),
                daemon=True,
            )
            drain.start()

        def lines() -> Iterator[str]:
            # With stderr merged into stdout, the CLI's error message is among the last
            # lines: keep a few for the classifier.
            tail: deque[bytes] = deque(maxlen=_STREAM_TAIL_LINES)
            for raw in proc.stdout or ():
                tail.append(raw)
                yield raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if drain is not None:
                drain.join()
            err = b"".join(err_chunks) if drain is not None else b"".join(tail)
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
        log = _logger()
        if log is not None and log.isEnabledFor(10):  # logging.DEBUG
            log.debug(
                "%s -> %s in %.1f ms",
                " ".join(argv),
                "timeout" if returncode is None else returncode,
                (time.monotonic() - started) * 1000,
            )
