"""Starting and reaping one child process with ``os.posix_spawn``, without :mod:`subprocess`.

The runner needs a small part of :class:`subprocess.Popen`: an argv started with three
descriptors in a session of its own, then polled, waited for and killed. Importing
:mod:`subprocess` (and :mod:`threading`, :mod:`locale` and :mod:`selectors` behind
it) costs about 5 ms, a tenth of a cold script's whole budget
(docs/performance.md, "cold script"). ``os.posix_spawn`` does that part in the C library, as
a vfork-style spawn that is safe in threaded programs, and reports an executable that cannot
be started as ``OSError`` (FileNotFoundError, PermissionError...), as ``Popen`` does.

What ``Popen`` does that matters here is kept:

- the child's SIGPIPE and SIGXFSZ go back to their default actions (Python ignores
  SIGPIPE; an ignored signal would stay ignored across ``exec``);
- only stdin, stdout and stderr are passed (``close_fds``): every descriptor Python opens is
  close-on-exec (PEP 446), the pipes included, and the few others (inherited by this
  process, or made inheritable) are closed in the child. A CLI's long-lived helper
  (podman's ``conmon``) would otherwise keep them open, and whoever waits for their end;
- a child reaped by somebody else (SIGCHLD ignored) counts as exit status 0.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import suppress

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import BinaryIO

__all__ = ["Child", "spawn"]

# Reset to their default actions in the child, as subprocess's `restore_signals` does.
_DEFAULT_SIGNALS = (signal.SIGPIPE, signal.SIGXFSZ)
# This process's environment as posix_spawn takes it. Python 3.13 passes the C library's
# own for None; before, the mapping is converted per call (~50 µs for 40 variables), and
# os.environb spares a decode and encode of each.
if sys.version_info >= (3, 13):
    _INHERIT = None
else:
    _INHERIT = os.environb
# Without a pidfd, the longest sleep between two looks at a child that is awaited.
_MAX_POLL = 0.05


def _inheritable_descriptors() -> list[int]:
    """This process's open descriptors above 2 that are not close-on-exec. Usually none; a
    handful when this process inherited some (a CI runner's pipe, a jobserver)."""
    try:
        names = os.listdir("/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd")
    except OSError:
        return []
    found = []
    for name in names:
        fd = int(name)
        if fd > 2:
            with suppress(OSError):  # closed meanwhile (listdir's own descriptor is)
                if os.get_inheritable(fd):
                    found.append(fd)
    return found


class Child:
    """A started process: its pid, the parent's ends of its pipes, and its exit status
    (``returncode``: None while it runs; ``-N`` when signal N ended it, as with ``Popen``).
    """

    __slots__ = ("pid", "returncode", "stderr", "stdin", "stdout")

    def __init__(
        self,
        pid: int,
        stdin: BinaryIO | None,
        stdout: BinaryIO,
        stderr: BinaryIO | None,
    ) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.stderr = stderr
        self.returncode: int | None = None

    def poll(self) -> int | None:
        """The exit status if the child has exited (it is then reaped), else None."""
        if self.returncode is None:
            self._reap(os.WNOHANG)
        return self.returncode

    def wait(self) -> int:
        """Reap the child, waiting as long as it takes; its exit status."""
        while self.returncode is None:
            self._reap(0)
        return self.returncode

    def wait_for(self, timeout: float) -> int | None:
        """Reap the child, waiting at most ``timeout`` seconds; its exit status, or None when
        it is still running at the end of ``timeout``."""
        until = time.monotonic() + timeout
        delay = 0.0005
        while self.poll() is None:
            remaining = until - time.monotonic()
            if remaining <= 0:
                return None
            delay = min(delay * 2, remaining, _MAX_POLL)
            time.sleep(delay)
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the child itself, unless it was reaped already (its pid may be reused)."""
        if self.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def _reap(self, flags: int) -> int | None:
        try:
            pid, status = os.waitpid(self.pid, flags)
        except ChildProcessError:  # reaped elsewhere (SIGCHLD ignored): as Popen, status 0
            self.returncode = 0
            return 0
        if pid == self.pid:
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode


def spawn(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None,
    stdin: bool,
    merge_stderr: bool,
) -> Child:
    """Start ``argv`` (``argv[0]`` a path: nothing is looked up) in a new session, with
    ``env`` (None: this process's environment), stdout and stderr on pipes (one pipe for
    both with ``merge_stderr``), and stdin on a pipe when ``stdin`` is true, else on
    ``/dev/null``.

    Raises:
        OSError: The executable cannot be started (missing, not executable...).
    """
    parent: list[int] = []  # our ends, closed if the spawn fails
    child: list[int] = []  # the child's ends, always closed here once it has them
    try:
        actions: list[tuple[int, ...] | tuple[int, int, str, int, int]] = []
        if stdin:
            reader, writer = os.pipe()
            child.append(reader)
            parent.append(writer)
            actions.append((os.POSIX_SPAWN_DUP2, reader, 0))
        else:
            actions.append((os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0))
        out_reader, out_writer = os.pipe()
        parent.append(out_reader)
        child.append(out_writer)
        actions.append((os.POSIX_SPAWN_DUP2, out_writer, 1))
        if merge_stderr:
            actions.append((os.POSIX_SPAWN_DUP2, out_writer, 2))
        else:
            err_reader, err_writer = os.pipe()
            parent.append(err_reader)
            child.append(err_writer)
            actions.append((os.POSIX_SPAWN_DUP2, err_writer, 2))
        # A close of a descriptor that another thread closed meanwhile is no error (glibc).
        actions += [(os.POSIX_SPAWN_CLOSE, fd) for fd in _inheritable_descriptors()]
        pid = os.posix_spawn(
            argv[0],
            list(argv),
            _INHERIT if env is None else env,
            file_actions=actions,
            setsid=True,
            setsigdef=_DEFAULT_SIGNALS,
        )
    except BaseException:
        for fd in parent:
            os.close(fd)
        raise
    finally:
        for fd in child:
            os.close(fd)
    ends = iter(parent)
    return Child(
        pid,
        open(next(ends), "wb") if stdin else None,  # the runner closes all three
        open(next(ends), "rb", buffering=0),
        None if merge_stderr else open(next(ends), "rb", buffering=0),
    )
