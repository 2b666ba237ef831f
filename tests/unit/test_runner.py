"""The real CommandRunner against tiny fake CLIs: output, environment, stdin, time limits,
process cleanup (child, grandchild, zombies) and streaming."""

from __future__ import annotations

import gc
import hashlib
import itertools
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    CommandTimeoutError,
    ContainerError,
    ContainerNotFoundError,
    ContainerOperationError,
    RuntimeNotAvailableError,
)
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier
from dotfiles_container_manager.implementations.cli.runner import CommandRunner

MiB = 1024 * 1024


def make_cli(tmp_path: Path, body: str, name: str = "cli") -> str:
    """A bash script standing in for the container CLI."""
    path = tmp_path / name
    path.write_text("#!/bin/bash\n" + body, encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def make_runner(executable: str, **kwargs: object) -> CommandRunner:
    return CommandRunner(
        executable,
        runtime="docker",
        classifier=ErrorClassifier("docker"),
        **kwargs,  # type: ignore[arg-type]
    )


def proc_state(pid: int) -> str | None:
    """The one-letter state of ``pid`` (None when there is no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    return proc_state(pid) not in (None, "Z", "X")


def gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def assert_reaped(pid: int) -> None:
    """``pid`` is no child of ours any more: neither running nor a zombie waiting for us."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def read_pid(path: Path, seconds: float = 5.0) -> int:
    deadline = time.monotonic() + seconds
    while True:
        text = path.read_text() if path.exists() else ""
        if text.endswith("\n"):
            return int(text)
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.01)


@pytest.fixture
def threads_before() -> Iterator[int]:
    """Fails a test that leaves a feeder thread behind."""
    before = threading.active_count()
    yield before
    deadline = time.monotonic() + 2
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert threading.active_count() == before


# --------------------------------------------------------------------------- basics


def test_output_exit_code_and_command(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "${@: -1}"; echo out; printf "\\377err" >&2; exit 3\n')
    pidfile = tmp_path / "pid"
    res = make_runner(cli, global_args=["--context", "x"]).run([str(pidfile)], check=False)
    assert res == CommandResult((cli, "--context", "x", str(pidfile)), 3, b"out\n", b"\xfferr")
    assert res.stderr_text == "\ufffderr"
    assert res.duration > 0
    assert_reaped(read_pid(pidfile))


def test_the_child_starts_as_popen_would(tmp_path: Path) -> None:
    """What spawn.py keeps of Popen: SIGPIPE and SIGXFSZ at their default actions (Python
    ignores SIGPIPE), a session of its own, and no descriptor beyond 0, 1 and 2, even one
    this process made inheritable."""
    cli = make_cli(
        tmp_path,
        # ls first, into a file: a command substitution would add bash's own pipe.
        'ls /proc/$$/fd > "$0.fds"; grep -E "^SigIgn" /proc/$$/status;'
        ' echo "sid $(cut -d" " -f6 /proc/$$/stat)"; echo fds $(sort -n "$0.fds")',
    )
    inheritable, other = os.pipe()
    os.set_inheritable(other, True)
    try:
        assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN  # what the child must undo
        lines = make_runner(cli).run([]).stdout_text.splitlines()
    finally:
        os.close(inheritable)
        os.close(other)
    ignored = int(lines[0].split()[1], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1))
    assert not ignored & (1 << (signal.SIGXFSZ - 1))
    assert int(lines[1].split()[1]) != os.getsid(0)  # its own session
    # 255 is bash's own copy of the script; nothing of this process is inherited (not the
    # pipe made inheritable above, nor what this process itself inherited).
    assert lines[2].split()[1:] in (["0", "1", "2"], ["0", "1", "2", "255"])


def test_merged_stderr_comes_on_stdout_in_order(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, "echo one; echo two >&2; echo three")
    result = make_runner(cli).run([], merge_stderr=True)
    assert result.stdout_text == "one\ntwo\nthree\n"
    assert result.stderr == b""


def test_executable_is_resolved_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_cli(tmp_path, "echo hi\n", name="fakedocker")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    runner = make_runner("fakedocker")
    assert runner.executable == str(tmp_path / "fakedocker")
    assert runner.run([]).stdout == b"hi\n"


def test_failure_is_classified(tmp_path: Path) -> None:
    cli = make_cli(
        tmp_path, 'echo "Error response from daemon: No such container: $1" >&2; exit 1\n'
    )
    with pytest.raises(ContainerNotFoundError) as caught:
        make_runner(cli).run(["web"], error=ContainerOperationError)
    assert caught.value.command == [cli, "web"]
    assert caught.value.exit_code == 1
    assert "No such container: web" in caught.value.stderr


def test_environment_passes_through_and_merges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = make_cli(tmp_path, 'for v in "$@"; do echo "$v=${!v-unset}"; done\n')
    monkeypatch.setenv("DCM_OUTER", "outer")
    monkeypatch.setenv("DCM_OVER", "outer")
    runner = make_runner(cli, env={"DCM_ENGINE": "engine", "DCM_OVER": "engine"})
    names = ["DCM_OUTER", "DCM_ENGINE", "DCM_CALL", "DCM_OVER"]
    first = runner.run(names, env={"DCM_CALL": "call", "DCM_OVER": "call"})
    assert first.stdout_text.split() == [
        "DCM_OUTER=outer",
        "DCM_ENGINE=engine",
        "DCM_CALL=call",
        "DCM_OVER=call",
    ]
    second = runner.run(names)  # per-call variables do not stick
    assert second.stdout_text.split()[2:] == ["DCM_CALL=unset", "DCM_OVER=engine"]
    assert "DCM_CALL" not in os.environ
    plain = make_runner(cli).run(names)  # nothing extra: the environment is inherited
    assert plain.stdout_text.split()[:2] == ["DCM_OUTER=outer", "DCM_ENGINE=unset"]


def test_debug_log_holds_argv_not_environment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cli = make_cli(tmp_path, "exit 0\n")
    with caplog.at_level(logging.DEBUG, logger="dotfiles_container_manager"):
        make_runner(cli).run(["ps", "-e", "TOKEN"], env={"TOKEN": "hunter2-secret"})
    assert f"{cli} ps -e TOKEN -> 0 in" in caplog.text
    assert "hunter2-secret" not in caplog.text


DOWN = "Cannot connect to the Docker daemon at unix:///nonexistent.sock"


def test_unreachable_runtime_raises_even_unchecked(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, f'echo "{DOWN}" >&2; exit 1\n')
    with pytest.raises(RuntimeNotAvailableError) as caught:
        make_runner(cli).run(["exec", "c1", "true"], check=False)
    assert caught.value.command == [cli, "exec", "c1", "true"]
    assert caught.value.runtime == "docker"


def test_unchecked_output_that_only_looks_like_an_outage(tmp_path: Path) -> None:
    # The exec'd command printed the words; `version` answers, so it is a result.
    cli = make_cli(tmp_path, f'[ "$1" = version ] && exit 0; echo "{DOWN}" >&2; exit 1\n')
    res = make_runner(cli).run(["exec", "c1", "sh"], check=False)
    assert (res.returncode, res.stderr_text.strip()) == (1, DOWN)


# --------------------------------------------------------------------------- stdin


def test_bytes_input(tmp_path: Path) -> None:
    res = make_runner("cat").run([], input=b"hello\x00world")
    assert res.stdout == b"hello\x00world"


def test_stdin_is_closed_without_input(tmp_path: Path) -> None:
    # No input: the CLI must not wait for a terminal.
    res = make_runner("cat").run([], timeout=5)
    assert res.stdout == b""


def test_streamed_chunks_reach_the_child(threads_before: int) -> None:
    chunks = [bytes([i]) * MiB for i in range(20)]
    expected = hashlib.sha256(b"".join(chunks)).hexdigest()

    def produce() -> Iterator[bytes]:
        for i, chunk in enumerate(chunks):
            yield memoryview(chunk) if i % 2 else chunk  # type: ignore[misc]
            yield b""  # empty chunks are skipped

    res = make_runner("cat").run([], input=produce(), timeout=15)
    assert len(res.stdout) == 20 * MiB
    assert hashlib.sha256(res.stdout).hexdigest() == expected


@pytest.mark.parametrize("infinite", [False, True])
def test_child_exiting_without_reading_stdin(
    tmp_path: Path, infinite: bool, threads_before: int
) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "$1"; exit 4\n')
    pidfile = tmp_path / "pid"
    data = itertools.repeat(b"x" * 65536) if infinite else b"x" * (8 * MiB)
    started = time.monotonic()
    res = make_runner(cli).run([str(pidfile)], input=data, check=False, timeout=10)
    assert res.returncode == 4
    assert time.monotonic() - started < 5
    assert_reaped(read_pid(pidfile))


# --------------------------------------------------------------------------- time limits


def test_timeout_kills_child_and_grandchild(tmp_path: Path, threads_before: int) -> None:
    cli = make_cli(
        tmp_path,
        'echo "$$" > "$1"; sleep 1000 & echo "$!" > "$2"; echo started; wait\n',
    )
    pidfile, gpidfile = tmp_path / "pid", tmp_path / "gpid"
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError) as caught:
        make_runner(cli, timeout=60).run([str(pidfile), str(gpidfile)], timeout=0.5)
    assert time.monotonic() - started < 1.5
    exc = caught.value
    assert exc.timeout == 0.5
    assert exc.exit_code is None
    assert exc.command == [cli, str(pidfile), str(gpidfile)]
    assert "0.5 s" in exc.message
    child, grandchild = read_pid(pidfile), read_pid(gpidfile)
    assert not running(child)
    assert_reaped(child)
    assert gone_within(grandchild, 1.0)


def test_timeout_while_feeding_stdin(tmp_path: Path, threads_before: int) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "$1"; exec sleep 1000\n')
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        make_runner(cli).run([str(pidfile)], input=itertools.repeat(b"y" * 65536), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert_reaped(read_pid(pidfile))


def test_default_timeout_comes_from_the_runner(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, "sleep 1000\n")
    with pytest.raises(CommandTimeoutError) as caught:
        make_runner(cli, timeout=0.3).run([])
    assert caught.value.timeout == 0.3


# --------------------------------------------------------------------------- interrupts


def test_keyboard_interrupt_in_the_caller_kills_everything(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "$1"; sleep 1000 & echo "$!" > "$2"; wait\n')
    pidfile, gpidfile = tmp_path / "pid", tmp_path / "gpid"

    def interrupt_when_started() -> None:  # Ctrl-C, delivered to the main thread
        read_pid(gpidfile)
        signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    helper = threading.Thread(target=interrupt_when_started, daemon=True)
    helper.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        make_runner(cli).run([str(pidfile), str(gpidfile)], timeout=30)
    helper.join()
    assert time.monotonic() - started < 5
    child, grandchild = read_pid(pidfile), read_pid(gpidfile)
    assert_reaped(child)
    assert gone_within(grandchild, 1.0)


def interrupted_input(pidfile: Path) -> Iterator[bytes]:
    yield b"some bytes\n"
    read_pid(pidfile)  # the child is up
    raise KeyboardInterrupt


def test_keyboard_interrupt_from_the_input_iterator(tmp_path: Path, threads_before: int) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "$1"; cat > /dev/null\n')
    pidfile = tmp_path / "pid"
    with pytest.raises(KeyboardInterrupt):
        make_runner(cli).run([str(pidfile)], input=interrupted_input(pidfile), timeout=10)
    assert_reaped(read_pid(pidfile))


def failing_input(error: Exception) -> Iterator[bytes]:
    yield b"x"
    raise error


def test_error_from_the_input_iterator_is_raised(threads_before: int) -> None:
    with pytest.raises(LookupError, match="no such chunk"):
        make_runner("cat").run([], input=failing_input(LookupError("no such chunk")), timeout=10)


@pytest.mark.parametrize("error", [FileNotFoundError("context file vanished"), ValueError("bad")])
def test_os_and_value_errors_from_the_input_iterator_are_raised(error: Exception) -> None:
    with pytest.raises(type(error)):
        make_runner("cat").run([], input=failing_input(error), timeout=10)


def test_interrupt_from_the_input_stops_a_child_that_keeps_running(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "$1"; cat > /dev/null; exec sleep 1000\n')
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        make_runner(cli).run([str(pidfile)], input=interrupted_input(pidfile), timeout=1)
    assert time.monotonic() - started < 0.9
    assert_reaped(read_pid(pidfile))


# --------------------------------------------------------------------------- missing CLI


def test_missing_executable(tmp_path: Path) -> None:
    for name in (str(tmp_path / "nope"), "dcm-no-such-cli-anywhere"):
        with pytest.raises(RuntimeNotAvailableError) as caught:
            make_runner(name)
        assert caught.value.runtime == "docker"
        assert caught.value.command == [name]


def test_not_executable(tmp_path: Path) -> None:
    path = tmp_path / "docker"
    path.write_text("#!/bin/sh\n")
    path.chmod(0o644)
    with pytest.raises(RuntimeNotAvailableError):
        make_runner(str(path))


def test_executable_removed_after_resolution(tmp_path: Path) -> None:
    cli = make_cli(tmp_path, "exit 0\n")
    runner = make_runner(cli)
    os.unlink(cli)
    with pytest.raises(RuntimeNotAvailableError) as caught:
        runner.run(["ps"])
    assert caught.value.command == [cli, "ps"]
    with pytest.raises(RuntimeNotAvailableError), runner.stream(["ps"]):
        pass


# --------------------------------------------------------------------------- streaming

# A CLI that hangs after "ready": its pid, a grandchild's and an escaped helper's (setsid:
# outside the process group, holding the pipes) are in the file "$1" by then.
HANGING = """
echo "$$" >> "$1"
sleep 1000 &
echo "$!" >> "$1"
setsid sleep 1001 &
echo "$!" >> "$1"
echo warming-up >&2
echo ready
cat > /dev/null
wait
"""


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.fixture
def no_leaks(threads_before: int) -> Iterator[None]:
    """Fails a test that leaves a descriptor open (or, through threads_before, a thread)."""
    gc.collect()
    before = fd_count()
    yield
    assert fd_count() == before


def assert_all_gone(pidfile: Path) -> None:
    """The CLI is reaped; it, its grandchild and its escaped helper no longer run."""
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 3
    assert_reaped(pids[0])
    for pid in pids:
        assert gone_within(pid, 1.0), f"{pid} survived"


def by_stream(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"stdout": [], "stderr": []}
    for name, text in items:
        out[name].append(text)
    return out


def test_stream_hands_out_lines_while_the_process_runs(tmp_path: Path, no_leaks: None) -> None:
    cli = make_cli(tmp_path, 'echo "$$" > "$1"; echo first; echo second >&2; exec sleep 1000\n')
    pidfile = tmp_path / "pid"
    with make_runner(cli).stream([str(pidfile)]) as out:
        received = {next(out), next(out)}
        pid = read_pid(pidfile)
        assert running(pid)  # both lines came while the process was still alive
        assert out.returncode is None
    assert received == {("stdout", "first"), ("stderr", "second")}
    assert_reaped(pid)
    assert out.returncode == -signal.SIGKILL


def test_stream_labels_and_last_lines_without_newline(tmp_path: Path, no_leaks: None) -> None:
    cli = make_cli(
        tmp_path,
        "echo one; echo two >&2; printf 'three\\r\\n'; printf '\\377x\\n' >&2;"
        " printf 'no-newline'; printf 'err-last' >&2\n",
    )
    with make_runner(cli).stream([]) as out:
        items = list(out)
    assert by_stream(items) == {
        "stdout": ["one", "three", "no-newline"],
        "stderr": ["two", "\ufffdx", "err-last"],
    }
    assert out.returncode == 0


def test_stream_raw_chunks(tmp_path: Path, no_leaks: None) -> None:
    cli = make_cli(tmp_path, "printf 'a\\r\\nb'; printf '\\377' >&2\n")
    with make_runner(cli).stream([], raw=True) as out:
        items = list(out)
    assert all(isinstance(data, bytes) and data for _, data in items)
    assert b"".join(d for n, d in items if n == "stdout") == b"a\r\nb"
    assert b"".join(d for n, d in items if n == "stderr") == b"\xff"


BOTH_PIPES = "yes out-line | head -n 300000 & yes err-line | head -n 300000 >&2; wait\n"


def test_run_big_output_on_both_pipes(tmp_path: Path, no_leaks: None) -> None:
    res = make_runner(make_cli(tmp_path, BOTH_PIPES)).run([], timeout=30)
    assert res.stdout == b"out-line\n" * 300000  # 2.7 MB on each pipe at once
    assert res.stderr == b"err-line\n" * 300000


def test_stream_big_output_on_both_pipes(tmp_path: Path, no_leaks: None) -> None:
    counts = {"stdout": 0, "stderr": 0}
    with make_runner(make_cli(tmp_path, BOTH_PIPES)).stream([], timeout=30) as out:
        for name, line in out:
            assert line == ("out-line" if name == "stdout" else "err-line")
            counts[name] += 1
    assert counts == {"stdout": 300000, "stderr": 300000}


def test_stream_input_is_fed_while_streaming(no_leaks: None) -> None:
    # The next chunk exists only once the previous one came back: no line can be held
    # back until the end of the input, nor the input until the end of the output.
    todo: queue.Queue[bytes | None] = queue.Queue()
    todo.put(b"chunk-1\n")

    def chunks() -> Iterator[bytes]:
        while (chunk := todo.get(timeout=10)) is not None:
            yield chunk

    seen: list[tuple[str, str]] = []
    with make_runner("cat").stream([], input=chunks(), timeout=20) as out:
        for item in out:
            seen.append(item)
            todo.put(f"chunk-{len(seen) + 1}\n".encode() if len(seen) < 5 else None)
    assert seen == [("stdout", f"chunk-{i}") for i in range(1, 6)]
    assert out.returncode == 0


def test_stream_bytes_input(no_leaks: None) -> None:
    with make_runner("cat").stream([], input=b"a\nb", timeout=10) as out:
        assert list(out) == [("stdout", "a"), ("stdout", "b")]


def test_stream_timeout_kills_everything(tmp_path: Path, no_leaks: None) -> None:
    pidfile = tmp_path / "pids"
    seen: list[tuple[str, str]] = []
    with (
        pytest.raises(CommandTimeoutError) as caught,
        make_runner(make_cli(tmp_path, HANGING)).stream([str(pidfile)], timeout=0.5) as out,
    ):
        seen.extend(out)
    assert ("stdout", "ready") in seen
    assert caught.value.timeout == 0.5
    assert "warming-up" in caught.value.stderr
    assert caught.value.command[-1] == str(pidfile)
    assert_all_gone(pidfile)
    assert list(out) == []  # over: nothing more, no second error


def test_run_timeout_kills_an_escaped_helper_too(tmp_path: Path, no_leaks: None) -> None:
    pidfile = tmp_path / "pids"
    with pytest.raises(CommandTimeoutError) as caught:
        make_runner(make_cli(tmp_path, HANGING)).run([str(pidfile)], timeout=0.5)
    assert "warming-up" in caught.value.stderr
    assert_all_gone(pidfile)


def until_ready(out: Iterator[tuple[str, str]]) -> None:
    for item in out:
        if item == ("stdout", "ready"):
            return
    raise AssertionError("no ready line")


def end_by_close(runner: CommandRunner, args: list[str]) -> None:
    out = runner.stream(args)
    until_ready(out)
    out.close()
    out.close()  # idempotent
    assert out.returncode == -signal.SIGKILL


def end_by_leaving_the_block(runner: CommandRunner, args: list[str]) -> None:
    with runner.stream(args) as out:
        until_ready(out)


def end_by_dropping_it(runner: CommandRunner, args: list[str]) -> None:
    out = runner.stream(args)
    for item in out:
        if item == ("stdout", "ready"):
            break
    del out
    gc.collect()


def end_by_an_error_in_the_loop(runner: CommandRunner, args: list[str]) -> None:
    with pytest.raises(ValueError, match="stop"), runner.stream(args) as out:
        until_ready(out)
        raise ValueError("stop")


def end_by_ctrl_c_in_the_loop(runner: CommandRunner, args: list[str]) -> None:
    with pytest.raises(KeyboardInterrupt), runner.stream(args) as out:
        until_ready(out)
        raise KeyboardInterrupt


def end_by_an_error_of_the_input(runner: CommandRunner, args: list[str]) -> None:
    pidfile = Path(args[0])

    def chunks() -> Iterator[bytes]:
        yield b"some bytes\n"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (
            not pidfile.exists() or len(pidfile.read_text().split()) < 3
        ):
            time.sleep(0.01)
        raise LookupError("context file vanished")

    with pytest.raises(LookupError, match="vanished"), runner.stream(args, input=chunks()) as out:
        for _ in out:  # ends when the failed input cuts the call short
            pass


@pytest.mark.parametrize(
    "end",
    [
        end_by_close,
        end_by_leaving_the_block,
        end_by_dropping_it,
        end_by_an_error_in_the_loop,
        end_by_ctrl_c_in_the_loop,
        end_by_an_error_of_the_input,
    ],
)
def test_every_early_end_of_a_stream_leaves_nothing(
    tmp_path: Path, end: Callable[[CommandRunner, list[str]], None], no_leaks: None
) -> None:
    pidfile = tmp_path / "pids"
    end(make_runner(make_cli(tmp_path, HANGING)), [str(pidfile)])
    assert_all_gone(pidfile)


def test_stream_failure_after_the_last_line(tmp_path: Path, no_leaks: None) -> None:
    cli = make_cli(tmp_path, "echo a; echo b; exit 2\n")
    seen: list[tuple[str, str]] = []
    with (
        pytest.raises(ContainerOperationError) as caught,
        make_runner(cli).stream(["x"], error=ContainerOperationError) as out,
    ):
        seen.extend(out)
    assert seen == [("stdout", "a"), ("stdout", "b")]
    assert caught.value.exit_code == 2
    assert caught.value.command == [cli, "x"]
    assert out.returncode == 2


def test_stream_failure_is_classified_from_stderr(tmp_path: Path, no_leaks: None) -> None:
    cli = make_cli(
        tmp_path,
        "yes noise | head -n 100000 >&2\n"
        'echo "Error response from daemon: No such container: x" >&2; exit 1\n',
    )
    with (
        pytest.raises(ContainerNotFoundError) as caught,
        make_runner(cli).stream([], error=ContainerOperationError) as out,
    ):
        list(out)
    assert "No such container: x" in caught.value.stderr
    assert len(caught.value.stderr) <= 2 * 64 * 1024  # a bounded tail, not the whole log


# --------------------------------------------------------------------------- interrupt first

# Traps SIGINT: cleans up (writes the marker "$2") and exits by itself.
TRAPPING = """
echo "$$" > "$1"
trap 'echo cleaned > "$2"; exit 130' INT
echo ready
sleep 1000 &
wait
"""
# Ignores SIGINT: only SIGKILL ends it.
IGNORING = """
trap '' INT
echo "$$" > "$1"
echo ready
exec sleep 1000
"""


def cut_by_close(runner: CommandRunner, args: list[str], grace: float | None) -> None:
    with runner.stream(args, interrupt_grace=grace) as out:
        until_ready(out)


def cut_by_timeout(runner: CommandRunner, args: list[str], grace: float | None) -> None:
    with (
        pytest.raises(CommandTimeoutError),
        runner.stream(args, interrupt_grace=grace, timeout=0.5) as out,
    ):
        list(out)


def cut_by_ctrl_c(runner: CommandRunner, args: list[str], grace: float | None) -> None:
    with pytest.raises(KeyboardInterrupt), runner.stream(args, interrupt_grace=grace) as out:
        until_ready(out)
        raise KeyboardInterrupt


def cut_run_by_timeout(runner: CommandRunner, args: list[str], grace: float | None) -> None:
    with pytest.raises(CommandTimeoutError):
        runner.run(args, timeout=0.5, interrupt_grace=grace)


CUTS = [cut_by_close, cut_by_timeout, cut_by_ctrl_c, cut_run_by_timeout]


@pytest.mark.parametrize("cut", CUTS)
def test_interrupt_grace_lets_the_cli_clean_up(
    tmp_path: Path, cut: Callable[[CommandRunner, list[str], float | None], None], no_leaks: None
) -> None:
    pidfile, marker = tmp_path / "pid", tmp_path / "cleaned"
    started = time.monotonic()
    cut(make_runner(make_cli(tmp_path, TRAPPING)), [str(pidfile), str(marker)], 30.0)
    assert marker.read_text() == "cleaned\n"
    assert time.monotonic() - started < 15  # it exited by itself: the grace was not used up
    assert_reaped(read_pid(pidfile))


@pytest.mark.parametrize("cut", CUTS)
def test_without_grace_the_kill_is_immediate(
    tmp_path: Path, cut: Callable[[CommandRunner, list[str], float | None], None], no_leaks: None
) -> None:
    pidfile, marker = tmp_path / "pid", tmp_path / "cleaned"
    cut(make_runner(make_cli(tmp_path, TRAPPING)), [str(pidfile), str(marker)], None)
    assert not marker.exists()  # SIGKILL: no trap ran
    assert_reaped(read_pid(pidfile))


@pytest.mark.parametrize("cut", CUTS)
def test_a_cli_ignoring_sigint_is_killed_after_the_grace(
    tmp_path: Path, cut: Callable[[CommandRunner, list[str], float | None], None], no_leaks: None
) -> None:
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    cut(make_runner(make_cli(tmp_path, IGNORING)), [str(pidfile)], 0.5)
    assert time.monotonic() - started >= 0.5  # the grace was given
    assert_reaped(read_pid(pidfile))


def test_result_text_helpers() -> None:
    res = CommandResult(("docker",), 0, "é\n".encode(), b"\xff")
    assert res.stdout_text == "é\n"
    assert res.stderr_text == "\ufffd"
    assert isinstance(ContainerError("x"), Exception)


# A CLI that reads its stdin to the end, then prints "fed" and waits for its child (which
# SIGINT never ends: only an `interrupt` callback that kills the child makes it exit).
FED_THEN_WAITS = """
echo $$ > "$1"
cat > /dev/null
echo fed
sleep 300 &
echo $! > "$2"
wait
echo "child gone"
"""


def test_interrupt_callback_replaces_sigint_and_the_cli_is_fed_during_the_grace(
    tmp_path: Path, no_leaks: None
) -> None:
    pidfile, childfile = tmp_path / "pid", tmp_path / "child"
    calls: list[int] = []

    def interrupt(pid: int) -> None:
        calls.append(pid)
        if childfile.exists() and len(calls) >= 3:
            os.kill(int(childfile.read_text()), signal.SIGKILL)

    def chunks() -> Iterator[bytes]:
        yield b"x"
        time.sleep(1.0)  # still feeding when the limit passes
        yield b"y" * 100_000

    runner = make_runner(make_cli(tmp_path, FED_THEN_WAITS))
    started = time.monotonic()
    with runner.stream(
        [str(pidfile), str(childfile)],
        input=chunks(),
        timeout=0.5,
        interrupt_grace=30.0,
        interrupt=interrupt,
    ) as out:
        with pytest.raises(CommandTimeoutError):
            list(out)
        late = [line for name, line in out if name == "stdout"]  # printed while stopping
    assert late == ["fed", "child gone"]  # fed to the end, then ended by the callback
    assert len(calls) >= 3 and set(calls) == {read_pid(pidfile)}
    assert time.monotonic() - started < 15  # it exited by itself: the grace was not used up
    assert_reaped(read_pid(pidfile))
