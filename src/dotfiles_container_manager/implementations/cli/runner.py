"""The one place that starts CLI processes.

Every call, collected (:meth:`CommandRunner.run`) or streamed (:meth:`CommandRunner.stream`),
goes through one process lifecycle, :class:`_Process`:

1. **Spawn.** An argv list, never a shell (the executable was resolved once, to an absolute
   path), in a session of its own (``os.posix_spawn`` with ``setsid``, see ``spawn.py``), so
   the CLI and every helper it starts form one process group. The caller's environment
   passes through, plus per-call variables (secret values travel there, never on argv).
2. **Input.** Optional: bytes or an iterable of byte chunks, written to stdin by a feeder
   thread (also while the output is streamed), then stdin is closed. Without input stdin is
   ``/dev/null`` and no thread is started.
3. **One read loop.** ``poll(2)`` over the stdout and stderr pipes, plus a pidfd (where the
   kernel has them) that reports the exit without polling, hands ``(stream, bytes)`` chunks
   to a sink: ``run`` collects them, a :class:`ProcessStream` yields them (as lines, or raw).
4. **A deadline** for the whole call: when it passes the process is killed and reaped, then
   :class:`CommandTimeoutError` is raised with the command and the stderr collected so far.
5. **Cut short** (timeout, any exception, including one raised by a stream's consumer or
   by the input iterator, KeyboardInterrupt, ``close()``, leaving a ``with`` block, garbage
   collection of an unfinished stream): the process group is killed (optionally after a
   SIGINT and a grace period, ``interrupt_grace``), then any process that escaped the group
   but still holds the pipes, and the child is reaped. No zombie, no descriptor and no
   thread is left behind.

stdout and stderr are captured, never printed; each call is logged at DEBUG (argv, exit
code, duration), and argv holds no secrets. A failed call becomes a classified
:class:`ContainerError` (see ``errors.py``).
"""

from __future__ import annotations

import math
import os
import select
import signal
import sys
import time
from _thread import get_ident  # threading's own, without importing threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import suppress

from ...core.exceptions import CommandTimeoutError, ContainerError, RuntimeNotAvailableError
from ...core.typing_runtime import Generic, TypeVar, overload
from .command import CommandResult, Input
from .spawn import Child, spawn

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from types import TracebackType
    from typing import IO, Literal

    from .errors import ErrorClassifier

__all__ = ["DEFAULT_TIMEOUT", "CommandResult", "CommandRunner", "ProcessStream"]

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


def _log(argv: Sequence[str], returncode: int | None, started: float) -> None:
    log = _logger()
    if log is not None and log.isEnabledFor(10):  # logging.DEBUG
        log.debug(
            "%s -> %s in %.1f ms",
            " ".join(argv),
            "timeout" if returncode is None else returncode,
            (time.monotonic() - started) * 1000,
        )


#: Seconds one CLI call may take unless the engine or the call says otherwise.
DEFAULT_TIMEOUT = 120.0
# After SIGKILL, how long to wait for pipes to close (a helper that escaped the process
# group could hold them open forever).
_REAP_GRACE = 5.0
# After SIGKILL, how long the group may take to close the pipes before the processes
# outside it that still hold them are looked for (in /proc) and killed.
_SETTLE = 0.5
# With an `interrupt` callback, how often it is called again during the grace.
_INTERRUPT_EVERY = 0.2
# Bytes of each pipe's latest output a stream keeps to classify its failure.
_STREAM_TAIL = 64 * 1024
# A streamed line longer than this is handed out in pieces (output without newlines must
# not grow without bound).
_MAX_LINE = 1024 * 1024
# Bytes per read of the child's output (a whole default pipe buffer).
_READ_SIZE = 65536
# Without a pidfd, how often an interrupted process is checked for its exit.
_POLL = 0.01
# What the two watched descriptors that are not output pipes are (the pipes: their name).
_EXIT = "exit"
_WAKE = "wake"

#: Receives ``(stream, chunk)``; an empty chunk marks the end of that pipe.
Sink = Callable[[str, bytes], None]


def _kill_group(proc: Child, sig: int = signal.SIGKILL) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
    if sig == signal.SIGKILL:
        proc.kill()


def _kill_pipe_holders(pipes: Iterable[IO[bytes] | None]) -> None:
    """SIGKILL every other process holding one of ``pipes``: a helper that left its process
    group (``setsid``) survives the group kill and would keep the pipes open."""
    links = set()
    for pipe in pipes:
        with suppress(AttributeError, OSError, ValueError):  # None, or already closed
            links.add(f"pipe:[{os.fstat(pipe.fileno()).st_ino}]")  # type: ignore[union-attr]
    if not links:
        return
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


def _pidfd(proc: Child) -> int | None:
    """A descriptor that becomes readable when ``proc`` exits (Linux 5.3+), else None."""
    try:
        return os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux, an old kernel, or a sandbox refusing it
        return None


class _Watched:
    """The read loop's descriptors, each with what it is: ``poll(2)``, as subprocess itself
    uses (no descriptor to create and close per call, as epoll has). :mod:`selectors` would
    do the same with more, and its import costs ~0.5 ms of a cold script."""

    __slots__ = ("_poll", "what")

    def __init__(self) -> None:
        self._poll = select.poll()
        #: descriptor -> (``"stdout"``/``"stderr"``/``_EXIT``/``_WAKE``, the pipe's file)
        self.what: dict[int, tuple[str, IO[bytes] | None]] = {}

    def add(self, fd: int, label: str, file: IO[bytes] | None = None) -> None:
        self._poll.register(fd, select.POLLIN)
        self.what[fd] = (label, file)

    def remove(self, fd: int) -> None:
        self._poll.unregister(fd)
        del self.what[fd]

    def ready(self, timeout: float | None) -> list[int]:
        """The descriptors that can be read (or are at their end) within ``timeout``
        seconds (None: however long it takes); [] when the time ran out."""
        # Rounded up, as selectors does: a wait of 0.4 ms must not become a busy poll(0).
        events = self._poll.poll(None if timeout is None else math.ceil(timeout * 1000))
        return [fd for fd, _ in events]


class _Expired(Exception):
    """The call's deadline passed (internal: becomes CommandTimeoutError after the kill)."""


class _Feed:
    """The feeder thread and what it shares with the read loop. It holds no reference to
    the process object or a stream, so dropping an unfinished stream still collects it."""

    __slots__ = ("error", "stop", "thread", "wake")

    def __init__(
        self, pipe: IO[bytes], chunks: Iterable[bytes | memoryview], wake: int | None
    ) -> None:
        self.error: BaseException | None = None
        self.stop = False  # set when the call is cut short: feed nothing more
        self.wake = wake  # write end: closed when the feed ends, wakes the read loop
        import threading  # here, not at the top: only calls with input start a thread

        self.thread = threading.Thread(target=self._run, args=(pipe, chunks), daemon=True)
        self.thread.start()

    def _run(self, pipe: IO[bytes], chunks: Iterable[bytes | memoryview]) -> None:
        # Writes the input to the child's stdin, then closes it. A child that stops reading
        # (it failed early, or was killed) ends the feed with EPIPE: not an error of ours,
        # the child's exit status tells what happened.
        try:
            for chunk in chunks:  # an error raised by the caller's iterator goes to `except`
                if self.stop:
                    return
                if chunk:
                    try:
                        pipe.write(chunk)
                        pipe.flush()  # a streamed call may wait for the answer to this chunk
                    except (OSError, ValueError):  # EPIPE, or the pipe closed by a kill
                        return
        except BaseException as exc:  # the caller's iterator failed (or was interrupted)
            # A half-fed CLI must not carry on (a build of a truncated context): the read
            # loop, woken below, cuts the call short and raises this.
            self.error = exc
        finally:
            with suppress(OSError):
                pipe.close()
            if self.wake is not None:
                os.close(self.wake)


class _Process:
    """One CLI process from spawn to reap: the lifecycle described in the module docstring.

    The owner calls :meth:`pump` until it returns False (the process ended by itself and
    is reaped), or :meth:`abort` to cut it short. Output goes to ``sink`` as it arrives.
    """

    __slots__ = (
        "_feed",
        "_open",
        "_pidfd",
        "_watched",
        "alive",
        "argv",
        "deadline",
        "ended",
        "grace",
        "interrupt",
        "limit",
        "proc",
        "runtime",
        "sink",
        "started",
        "stderr",
    )

    def __init__(
        self,
        argv: list[str],
        *,
        runtime: str,
        environ: Mapping[str, str] | None,
        input: Input,
        timeout: float | None,
        merge_stderr: bool,
        interrupt_grace: float | None,
        sink: Sink,
        stderr: Callable[[], bytes],
        interrupt: Callable[[int], None] | None = None,
    ) -> None:
        self.argv = argv
        self.interrupt = interrupt
        self.runtime = runtime
        self.sink = sink
        self.stderr = stderr  # what was collected of stderr, for a timeout error
        self.limit = timeout
        self.grace = interrupt_grace
        self.ended = False
        self.started = started = time.monotonic()
        self.deadline = None if timeout is None else started + timeout
        try:
            # Own session and process group: a kill reaches the CLI and its helpers.
            self.proc = proc = spawn(
                argv, env=environ, stdin=input is not None, merge_stderr=merge_stderr
            )
        except (FileNotFoundError, PermissionError, NotADirectoryError) as exc:
            raise RuntimeNotAvailableError(
                f"cannot execute {runtime} CLI {argv[0]!r}: {exc.strerror or exc}",
                runtime=runtime,
                command=argv,
            ) from exc
        self._feed: _Feed | None = None
        self._pidfd: int | None = None
        self._open = 0  # output pipes not at their end yet
        self.alive = True  # not seen exiting yet (through the pidfd)
        self._watched = watched = _Watched()
        try:
            for pipe, name in ((proc.stdout, "stdout"), (proc.stderr, "stderr")):
                if pipe is not None:
                    watched.add(pipe.fileno(), name, pipe)
                    self._open += 1
            self._pidfd = pidfd = _pidfd(proc)
            if pidfd is not None:
                watched.add(pidfd, _EXIT)
            if input is not None and proc.stdin is not None:
                wake = None
                if isinstance(input, (bytes, bytearray, memoryview)):
                    input = (bytes(input),)  # cannot fail: nothing to wake the loop for
                else:
                    reader, wake = os.pipe()
                    watched.add(reader, _WAKE)
                self._feed = _Feed(proc.stdin, input, wake)
        except BaseException:
            self.abort()
            raise

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    # ------------------------------------------------------------------ the read loop

    def pump(self) -> bool:
        """One round of the read loop under the call's deadline. False once the process has
        ended by itself (it is then reaped); on timeout or any exception, including
        KeyboardInterrupt, the process is cut short (:meth:`abort`) before the raise.

        Raises:
            CommandTimeoutError: The deadline passed.
        """
        try:
            if self._step(self.deadline):
                return True
            self._finish()
            return False
        except _Expired:
            self.abort(timed_out=True)
            raise CommandTimeoutError(
                f"{self.runtime} did not finish within {self.limit:g} s; it was killed",
                timeout=self.limit or 0.0,
                command=self.argv,
                stderr=self.stderr().decode("utf-8", errors="replace"),
            ) from None
        except BaseException:
            self.abort()
            raise

    def _step(self, until: float | None) -> bool:
        """Wait for what is ready (until ``until``) and hand it on. False when nothing is
        left to wait for: both pipes ended and the exit seen (pidfd), or the feed is done.

        Raises:
            _Expired: ``until`` passed first.
        """
        watched = self._watched
        if not watched.what:
            return False
        if until is None:
            ready = watched.ready(None)
        else:
            remaining = until - time.monotonic()
            ready = watched.ready(remaining) if remaining > 0 else []
            if not ready:
                raise _Expired
        for fd in ready:
            name, pipe = watched.what[fd]
            if name == _EXIT:  # exited; a helper may still hold the pipes
                watched.remove(fd)
                self.alive = False
            elif name == _WAKE:  # the feed ended
                watched.remove(fd)
                os.close(fd)
                feed = self._feed
                if feed is not None and feed.error is not None and not feed.stop:
                    raise feed.error
            else:
                data = os.read(fd, _READ_SIZE)
                if not data:
                    watched.remove(fd)
                    if pipe is not None:
                        pipe.close()
                    self._open -= 1
                self.sink(name, data)
        return True

    def _finish(self) -> None:
        """The process ended by itself and closed its output: reap it."""
        if self._pidfd is not None:
            self.proc.wait()  # it has exited: this only reaps it
        elif self.deadline is None:
            self.proc.wait()
        else:
            if self.proc.wait_for(max(self.deadline - time.monotonic(), 0.0)) is None:
                raise _Expired
        self._release()
        _log(self.argv, self.proc.returncode, self.started)

    # ------------------------------------------------------------------ cutting short

    def abort(self, *, timed_out: bool = False) -> None:
        """Cut the call short: SIGINT first when ``interrupt_grace`` is set (the process may
        exit by itself within the grace), then SIGKILL to the process group and to any
        escaped holder of the pipes, then reap. Safe to call again."""
        if self.ended:
            return
        proc = self.proc
        if self._feed is not None and self.interrupt is None:
            self._feed.stop = True  # with `interrupt`, the CLI is fed during the grace
        try:
            if self.grace is not None and proc.returncode is None and self.alive:
                until = time.monotonic() + self.grace
                if self.interrupt is None:
                    _kill_group(proc, signal.SIGINT)
                    self._until_exit(until)
                while self.interrupt is not None and self.alive and proc.poll() is None:
                    if time.monotonic() >= until:
                        break
                    self.interrupt(proc.pid)  # again and again: the CLI may start more
                    with suppress(_Expired):
                        self._until_exit(min(until, time.monotonic() + _INTERRUPT_EVERY))
        except (KeyboardInterrupt, _Expired):  # Ctrl-C again: no more grace
            pass
        finally:
            if self._feed is not None:
                self._feed.stop = True
            _kill_group(proc)
            again: KeyboardInterrupt | None = None
            try:
                if not self._drain(time.monotonic() + _SETTLE):  # held outside the group
                    _kill_pipe_holders((proc.stdin, proc.stdout, proc.stderr))
                    self._drain(time.monotonic() + _REAP_GRACE)
            except KeyboardInterrupt as exc:  # Ctrl-C again: stop waiting for the pipes,
                again = exc  # but still reap and release (the child is SIGKILLed already)
            proc.wait()
            feed = self._feed
            if feed is not None and feed.thread.is_alive():
                # Its write blocks while someone outside the group holds the child's stdin.
                feed.thread.join(_SETTLE)
                _kill_pipe_holders((proc.stdin,))
            self._release()  # closes the pipes, read to their end or not
            _log(self.argv, None if timed_out else proc.returncode, self.started)
            if again is not None:
                raise again

    def _until_exit(self, until: float) -> None:
        """Keep reading (a process blocked on a full pipe cannot exit) until it exits."""
        while self.alive and time.monotonic() < until:
            if self._pidfd is None:
                if self.proc.poll() is not None:
                    return
                if self._open:
                    with suppress(_Expired):
                        self._step(min(until, time.monotonic() + _POLL))
                else:
                    self.proc.wait_for(max(until - time.monotonic(), 0.0))
                    return
            elif not self._step(until):
                return

    def _drain(self, until: float) -> bool:
        """After the kill: read the pipes to their end within ``until``; True if they ended."""
        try:
            while self._open:
                self._step(until)
        except _Expired:
            return False
        return True

    def _release(self) -> None:
        """Close every descriptor of ours and join the feeder (it can only be finishing:
        the child's stdin is closed, by its exit or the kill)."""
        self.ended = True
        for fd, (name, pipe) in self._watched.what.items():
            if name == _WAKE:
                os.close(fd)
            elif pipe is not None:
                pipe.close()
        self._watched.what.clear()
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None
        if self._feed is not None and self._feed.thread.ident != get_ident():
            self._feed.thread.join()


# --------------------------------------------------------------------------- sinks


class _Collected:
    """``run``'s sink: every chunk, per pipe."""

    __slots__ = ("err", "out")

    def __init__(self) -> None:
        self.out: list[bytes] = []
        self.err: list[bytes] = []

    def __call__(self, name: str, data: bytes) -> None:
        (self.out if name == "stdout" else self.err).append(data)

    def stderr(self) -> bytes:
        return b"".join(self.err)


def _decode_line(line: bytes | bytearray) -> str:
    if line.endswith(b"\r"):
        line = line[:-1]
    return line.decode("utf-8", errors="replace")


class _Pending:
    """A stream's sink: what arrived and was not yielded yet (lines or raw chunks), and the
    latest bytes of each pipe, to classify a failure."""

    __slots__ = ("items", "partial", "raw", "tails")

    def __init__(self, raw: bool) -> None:
        self.raw = raw
        self.items: deque[tuple[str, str] | tuple[str, bytes]] = deque()
        self.tails = {"stdout": bytearray(), "stderr": bytearray()}
        self.partial = {"stdout": bytearray(), "stderr": bytearray()}

    def __call__(self, name: str, data: bytes) -> None:
        tail = self.tails[name]
        tail += data
        if len(tail) > 2 * _STREAM_TAIL:
            del tail[:-_STREAM_TAIL]
        if self.raw:
            if data:
                self.items.append((name, data))
            return
        buf = self.partial[name]
        if not data:  # the pipe ended: a last line without newline still comes out
            if buf:
                self.items.append((name, _decode_line(buf)))
                buf.clear()
            return
        if b"\n" not in data:
            buf += data
            if len(buf) >= _MAX_LINE:
                self.items.append((name, _decode_line(buf)))
                buf.clear()
            return
        buf += data
        *lines, rest = buf.split(b"\n")
        self.items.extend((name, _decode_line(line)) for line in lines)
        buf[:] = rest

    def stderr(self) -> bytes:
        return bytes(self.tails["stderr"])


T = TypeVar("T", str, bytes)


class ProcessStream(Generic[T]):
    """A running CLI's output as it arrives: an iterator of ``(stream, data)`` pairs
    (``stream`` is ``"stdout"`` or ``"stderr"``; ``data`` a decoded line, or a raw chunk
    with ``raw=True``), and a context manager.

    When the process ends by itself with a non-zero exit, iteration raises the classified
    error after the last line. ``close()``, leaving the ``with`` block, an exception
    escaping from :meth:`__next__` (timeout, Ctrl-C) or garbage collection of an unfinished
    stream end the process (see :meth:`_Process.abort`). ``returncode`` is set once it ended.
    After such an exception, iterating again hands out what the process printed while it
    was being stopped (during ``interrupt_grace``), then stops.
    """

    __slots__ = ("_classify", "_error", "_pending", "_process", "_state")

    def __init__(
        self,
        process: _Process,
        pending: _Pending,
        error: type[ContainerError],
        classify: Callable[[CommandResult, type[ContainerError]], ContainerError],
    ) -> None:
        self._process = process
        self._pending = pending
        self._error = error
        self._classify = classify
        self._state = "running"  # then "ended" (by itself), "done" (all handed out)

    @property
    def returncode(self) -> int | None:
        """The exit status once the process ended (negative: killed by that signal)."""
        return self._process.returncode

    @property
    def command(self) -> list[str]:
        return self._process.argv

    def __iter__(self) -> ProcessStream[T]:
        return self

    def __next__(self) -> tuple[str, T]:
        items = self._pending.items
        while not items:
            if self._state != "running":
                if self._state == "ended":
                    self._state = "done"
                    code = self._process.returncode
                    if code:
                        tails = self._pending.tails
                        result = CommandResult(
                            tuple(self._process.argv),
                            code,
                            bytes(tails["stdout"]),
                            bytes(tails["stderr"]),
                            time.monotonic() - self._process.started,
                        )
                        raise self._classify(result, self._error)
                raise StopIteration
            try:
                if not self._process.pump():
                    self._state = "ended"
            except BaseException:
                # What the process printed while it was being stopped stays readable: a
                # consumer may drain it (podman's build: the images it committed).
                self._state = "done"
                raise
        return items.popleft()  # type: ignore[return-value]

    def close(self) -> None:
        """End the process now if it is still running (and reap it). Idempotent."""
        if self._state == "running":
            self._state = "done"
            self._process.abort()
        self._pending.items.clear()

    def __enter__(self) -> ProcessStream[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        # No `suppress` here: at interpreter exit this module's globals may be gone already.
        try:  # noqa: SIM105
            self.close()
        except Exception:  # noqa: S110
            pass


def _which(name: str) -> str | None:
    """``shutil.which`` for an executable on POSIX: importing shutil (bz2, lzma, fnmatch
    behind it) costs ~2.5 ms of a cold script, more than this search."""
    if os.name != "posix":
        from shutil import which

        return which(name)
    if os.path.dirname(name):
        candidates = [name]
    else:
        path = os.environ.get("PATH", os.defpath)
        candidates = [os.path.join(d or os.curdir, name) for d in path.split(os.pathsep)]
    for candidate in candidates:
        if os.access(candidate, os.F_OK | os.X_OK) and not os.path.isdir(candidate):
            return candidate
    return None


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
        resolved = _which(executable)
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
        interrupt_grace: float | None = None,
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
            interrupt_grace: When the call is cut short (timeout, exception, Ctrl-C), send
                SIGINT to the process group first and give it this many seconds to exit
                by itself (so the CLI can clean up), then SIGKILL. None: SIGKILL at once.

        Raises:
            CommandTimeoutError: The limit passed; the process group was killed and reaped.
            RuntimeNotAvailableError: The CLI cannot run or its daemon does not answer.
            ContainerError: The call failed (the class given by ``error`` or a more specific one).
        """
        argv = self.argv(args)
        collected = _Collected()
        process = _Process(
            argv,
            runtime=self.runtime,
            environ=self._environ(env),
            input=input,
            timeout=self.timeout if timeout is None else timeout,
            merge_stderr=merge_stderr,
            interrupt_grace=interrupt_grace,
            sink=collected,
            stderr=collected.stderr,
        )
        while process.pump():
            pass
        result = CommandResult(
            tuple(argv),
            process.proc.wait(),  # reaped already: its status
            b"".join(collected.out),
            b"".join(collected.err),
            time.monotonic() - process.started,
        )
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

    @overload
    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ...,
        input: Input = ...,
        timeout: float | None = ...,
        env: Mapping[str, str] | None = ...,
        raw: Literal[False] = ...,
        interrupt_grace: float | None = ...,
        interrupt: Callable[[int], None] | None = ...,
    ) -> ProcessStream[str]: ...

    @overload
    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ...,
        input: Input = ...,
        timeout: float | None = ...,
        env: Mapping[str, str] | None = ...,
        raw: Literal[True],
        interrupt_grace: float | None = ...,
        interrupt: Callable[[int], None] | None = ...,
    ) -> ProcessStream[bytes]: ...

    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ContainerError,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        raw: bool = False,
        interrupt_grace: float | None = None,
        interrupt: Callable[[int], None] | None = None,
    ) -> ProcessStream[str] | ProcessStream[bytes]:
        """Start the CLI and hand out its output as it arrives.

        Use as ``with runner.stream([...]) as out: for stream, line in out: ...``, where
        ``stream`` is ``"stdout"`` or ``"stderr"`` and ``line`` a decoded line (UTF-8 with
        replacement, line ending stripped; each pipe is split separately), or with
        ``raw=True`` a ``bytes`` chunk as read. Ending early (``close()``, leaving the
        block, an exception, dropping the stream) kills and reaps the process.

        Args:
            args: Arguments after the executable (and global options).
            error: Exception class for a failure no more specific class explains.
            input: Bytes, or an iterable of byte chunks fed to stdin from a thread while
                the output is read.
            timeout: Limit for the whole call; None: no limit (``logs --follow``).
            env: Extra environment variables for this call only.
            raw: Yield raw ``bytes`` chunks instead of lines.
            interrupt_grace: As for :meth:`run`: SIGINT and this many seconds before
                SIGKILL when the stream is cut short.
            interrupt: With ``interrupt_grace``: called with the CLI's pid instead of the
                SIGINT, and again every 0.2 s of the grace until the CLI exits (a CLI that
                SIGINT would stop without cleaning up can be made to fail cleanly this way:
                podman's build). It must not raise.

        Raises:
            RuntimeNotAvailableError: The CLI cannot be started (here).
            CommandTimeoutError: While iterating, when the limit passed (the process group
                was killed and reaped).
            ContainerError: While iterating, after the last line of a non-zero exit (the
                class given by ``error`` or a more specific one, from the tail of output).
        """
        pending = _Pending(raw)
        process = _Process(
            self.argv(args),
            runtime=self.runtime,
            environ=self._environ(env),
            input=input,
            timeout=timeout,
            merge_stderr=False,
            interrupt_grace=interrupt_grace,
            sink=pending,
            stderr=pending.stderr,
            interrupt=interrupt,
        )
        if raw:
            return ProcessStream[bytes](process, pending, error, self.classifier.classify)
        return ProcessStream[str](process, pending, error, self.classifier.classify)
