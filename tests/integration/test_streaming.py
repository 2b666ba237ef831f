"""Streaming, progress and readiness on real runtimes (each test runs on docker and podman).

What is proven here (docs/reliability.md lists the guarantees):

- build progress arrives while the build runs, not after it (the CLI is still alive when a
  step's event arrives; no timing is asserted beyond "before the end");
- container output streams live, labelled stdout/stderr;
- every way of ending a log stream, and every readiness wait, leaves no CLI process: the
  tests look through /proc for a process whose argv holds the container's unique name, and
  for children of the test process (zombies included);
- each readiness wait: success, timeout, and a container that exits first;
- health checks, healthy and unhealthy, on both runtimes (podman here has no systemd);
- Ctrl-C (SIGINT to a subprocess running a script that uses the library) during a stream
  and during a build leaves no CLI process.

Everything a test creates carries ``res.labels`` and is removed by the test.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerEngine,
    ContainerError,
    ContainerNotFoundError,
    ContainerNotReadyError,
    ContainerOperationError,
    HealthCheck,
    ImageBuildError,
    LogLine,
    PortMapping,
    ProgressEvent,
)

from .conftest import BASE_IMAGE, Resources

SRC = Path(__file__).resolve().parents[2] / "src"
LAYER = re.compile(r"^ ?-{2,3}> ([0-9a-f]{11,64})$")


# --------------------------------------------------------------------------- processes


def argvs() -> Iterator[tuple[int, int, list[bytes], str]]:
    """``(pid, ppid, argv, state)`` of every process that can still be read."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{entry}/stat").read_text(errors="replace")
            fields = stat.rsplit(")", 1)[1].split()
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            yield int(entry), int(fields[1]), argv, fields[0]


def cli_processes(*words: str) -> list[str]:
    """Processes whose argv holds every one of ``words``, and zombie or CLI children of the
    test process (``logs``/``build``/``healthcheck`` calls)."""
    wanted = [w.encode() for w in words]
    found = []
    for pid, ppid, argv, state in argvs():
        if pid == os.getpid():
            continue
        if all(w in argv for w in wanted):
            found.append(f"{pid} {b' '.join(argv).decode(errors='replace')}")
        elif ppid == os.getpid() and (
            state == "Z" or {b"logs", b"build", b"healthcheck"} & set(argv)
        ):
            found.append(f"{pid} child {state} {b' '.join(argv).decode(errors='replace')}")
    return found


def no_cli_left(*words: str, within: float = 5.0) -> list[str]:
    """Wait (a little: the kernel reaps asynchronously) until no such process is left."""
    deadline = time.monotonic() + within
    left = cli_processes(*words)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = cli_processes(*words)
    return left


# --------------------------------------------------------------------------- builds


def base_id(engine: ContainerEngine) -> str:
    return engine.images.inspect(BASE_IMAGE).id


def remove_layers(engine: ContainerEngine, lines: list[str]) -> None:
    """Remove the untagged layers a build printed (an interrupted or failed build leaves
    them), newest first, never the base image."""
    keep = base_id(engine)
    for line in reversed(lines):
        match = LAYER.match(line)
        if match and match.group(1) not in keep:
            subprocess.run(
                [engine.command, "rmi", match.group(1)],
                capture_output=True,
                timeout=60,
                check=False,
            )


def remove_podman_build_containers(engine: ContainerEngine, names: list[str]) -> list[str]:
    """Podman 4.3 leaves a build's working containers in its storage when the build is
    killed by any signal (measured: SIGINT, SIGTERM and SIGKILL alike): remove those whose
    name starts with one of ``names``; return what was removed."""
    listed = subprocess.run(
        [engine.command, "ps", "-a", "--external", "--format", "{{.ID}} {{.Names}}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    removed = []
    for row in listed.stdout.splitlines():
        cid, _, name = row.partition(" ")
        # "<image>-working-container[-N]"; for a layer, its id's first 12 digits (podman
        # prints 11 of them)
        if "-working-container" in name and any(name.startswith(p) for p in names):
            subprocess.run(
                [engine.command, "rm", "-f", cid], capture_output=True, timeout=60, check=False
            )
            removed.append(name)
    return removed


@contextlib.contextmanager
def own_base(engine: ContainerEngine, res: Resources) -> Iterator[str]:
    """A tag of the base image for this test only: podman names a build's working
    container after its FROM image, which makes leftovers attributable."""
    tag = res.image_name("base")
    engine.images.tag(BASE_IMAGE, tag)
    try:
        yield tag
    finally:
        with contextlib.suppress(ContainerError):
            engine.images.remove(tag)


def slow_context(res: Resources, base: str = BASE_IMAGE, seconds: int = 2) -> BuildContext:
    """Three RUN steps, the middle one slow; the first echoes this test's prefix so no
    layer cache is shared with another test."""
    dockerfile = f"FROM {base}\nRUN echo {res.prefix}\nRUN sleep {seconds}\nRUN echo three\n"
    return BuildContext(dockerfile, labels=res.labels)


def test_build_progress_arrives_during_the_build(engine: ContainerEngine, res: Resources) -> None:
    tag = res.image_name()
    seen: list[tuple[ProgressEvent, bool]] = []

    def progress(event: ProgressEvent) -> None:
        # Is the CLI that builds still running? (its argv holds the unique tag)
        seen.append((event, bool(cli_processes("build", tag))))

    image_id = engine.images.build(slow_context(res), tag, progress=progress)
    try:
        assert image_id == engine.images.inspect(tag).id
        events = [event for event, _ in seen]
        step_lines = [e for e in events if re.match(r"(Step|STEP) \d", e.line)]
        assert [e.step for e in step_lines] == list(range(1, len(step_lines) + 1))
        assert len(step_lines) >= 4  # FROM, three RUNs (docker and podman add LABEL steps)
        assert {e.total_steps for e in step_lines} == {len(step_lines)}
        # The event of the step before the slow one, and the slow one's own, came while the
        # CLI was still running: progress arrives during the build, not after it.
        slow = next(i for i, e in enumerate(events) if e.line.endswith("RUN sleep 2"))
        assert seen[slow][1], "the CLI had already ended when the slow step's line arrived"
        assert seen[slow - 1][1]
        assert all(e.step == 3 for e in events[slow : slow + 2])
        assert not cli_processes("build", tag)
    finally:
        engine.images.remove(tag)


def test_failed_build_delivers_its_lines_then_raises(
    engine: ContainerEngine, res: Resources
) -> None:
    tag = res.image_name()
    dockerfile = (
        f"FROM {BASE_IMAGE}\nRUN echo {res.prefix}\n"
        "RUN echo before-fail && echo to-stderr >&2 && exit 3\nRUN echo never\n"
    )
    seen: list[ProgressEvent] = []
    with pytest.raises(ImageBuildError) as caught:
        engine.images.build(BuildContext(dockerfile, labels=res.labels), tag, progress=seen.append)
    lines = [e.line for e in seen]
    remove_layers(engine, lines)
    output = caught.value.output
    assert "before-fail" in output and "to-stderr" in output
    assert output.split("\n") == lines  # the whole log, as the callback saw it
    failing = [e for e in seen if "before-fail" in e.line and "RUN" not in e.line]
    assert failing and all(e.step == 3 for e in failing)
    assert "never" not in "\n".join(line for line in lines if "RUN echo never" not in line)
    assert not cli_processes("build", tag)


def test_callback_exception_stops_the_build(engine: ContainerEngine, res: Resources) -> None:
    tag = res.image_name()
    seen: list[str] = []

    class Enough(Exception):
        pass

    def progress(event: ProgressEvent) -> None:
        seen.append(event.line)
        if event.line.endswith("RUN sleep 30"):
            raise Enough

    with own_base(engine, res) as base:
        with pytest.raises(Enough):
            engine.images.build(slow_context(res, base, seconds=30), tag, progress=progress)
        assert no_cli_left("build", tag) == []
        assert not engine.images.exists(tag)
        if engine.runtime == "podman":
            leftovers = remove_podman_build_containers(
                engine, [base.split(":")[0], *[m.group(1) for m in map(LAYER.match, seen) if m]]
            )
            print("podman left (removed):", leftovers)
    remove_layers(engine, seen)


def test_build_without_progress_is_unchanged(engine: ContainerEngine, res: Resources) -> None:
    tag = res.image_name()
    image_id = engine.images.build(slow_context(res, seconds=0), tag)
    try:
        assert image_id == engine.images.inspect(tag).id
    finally:
        engine.images.remove(tag)


def test_pull_and_push_progress_without_registry(engine: ContainerEngine, res: Resources) -> None:
    # Nothing listens on 127.0.0.1:1: both fail at once, after printing what they tried.
    pulled: list[ProgressEvent] = []
    with pytest.raises(ContainerError):
        engine.images.pull("127.0.0.1:1/dcm-nothing:1", timeout=60, progress=pulled.append)
    assert pulled and all(e.step is None for e in pulled)
    target = f"127.0.0.1:1/{res.prefix}-push:1"
    engine.images.tag(BASE_IMAGE, target)
    pushed: list[ProgressEvent] = []
    try:
        with pytest.raises(ContainerError):
            engine.images.push(target, timeout=60, progress=pushed.append)
    finally:
        engine.images.remove(target)
    assert pushed and all(e.step is None for e in pushed)
    assert no_cli_left("127.0.0.1:1/dcm-nothing:1") == []
    assert no_cli_left(target) == []


# --------------------------------------------------------------------------- log streams


GATED = (
    "echo out-1; echo err-1 >&2; while [ ! -e /tmp/go ]; do sleep 0.05; done; "
    "echo out-2; echo err-2 >&2"
)


def test_lines_stream_live_and_labelled(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    cid = engine.containers.run(res.config(name=name, command=["sh", "-c", GATED]))
    try:
        with engine.containers.stream_logs(name, timeout=60) as logs:
            first = {next(logs), next(logs)}
            assert first == {LogLine("out-1", "stdout"), LogLine("err-1", "stderr")}
            # The container is still waiting for /tmp/go: those lines came while it runs.
            assert engine.containers.inspect(cid).running
            engine.containers.exec(cid, ["touch", "/tmp/go"])
            rest = set(logs)  # ends by itself: the container exits
        assert rest == {LogLine("out-2", "stdout"), LogLine("err-2", "stderr")}
        assert logs.closed
        assert no_cli_left("logs", name) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_stream_options(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    script = "for i in 1 2 3 4 5; do echo line-$i; done"
    cid = engine.containers.run(res.config(name=name, command=["sh", "-c", script]))
    try:
        engine.containers.wait(cid)
        assert [line.text for line in engine.containers.stream_logs(name, tail=2)] == [
            "line-4",
            "line-5",
        ]
        assert len(list(engine.containers.stream_logs(name, follow=False))) == 5
        assert list(engine.containers.stream_logs(name, since="2099-01-01T00:00:00Z")) == []
    finally:
        engine.containers.remove(cid, force=True)


TICKING = ["sh", "-c", "while true; do echo tick; echo tock >&2; sleep 0.1; done"]


@pytest.mark.parametrize("how", ["close", "with", "break", "drop", "exception", "timeout"])
def test_every_way_of_ending_a_stream_leaves_no_process(
    engine: ContainerEngine, res: Resources, how: str
) -> None:
    name = res.name()
    cid = engine.containers.run(res.config(name=name, command=TICKING))
    try:
        if how == "close":
            logs = engine.containers.stream_logs(name)
            next(logs)
            logs.close()
        elif how == "with":
            with engine.containers.stream_logs(name) as logs:
                next(logs)
        elif how == "break":
            logs = engine.containers.stream_logs(name)
            for line in logs:
                if line.stream == "stderr":
                    break
            logs.close()
        elif how == "drop":
            logs = engine.containers.stream_logs(name)
            next(logs)
            del logs
            gc.collect()
        elif how == "exception":
            with pytest.raises(KeyError), engine.containers.stream_logs(name) as logs:
                for _ in logs:
                    raise KeyError("consumer failed")
        else:
            with pytest.raises(CommandTimeoutError):
                for _ in engine.containers.stream_logs(name, timeout=1):
                    pass
        assert no_cli_left("logs", name) == []
        assert engine.containers.inspect(cid).running  # only the reader ended
    finally:
        engine.containers.remove(cid, force=True)


def test_stream_ends_when_the_container_stops(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    cid = engine.containers.run(res.config(name=name, command=TICKING))
    try:
        seen = 0
        with engine.containers.stream_logs(name, timeout=60) as logs:
            for _ in logs:
                seen += 1
                if seen == 3:
                    engine.containers.kill(cid)
        assert seen >= 3
        assert no_cli_left("logs", name) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_stream_of_a_missing_container(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("missing")
    logs = engine.containers.stream_logs(name)
    with pytest.raises(ContainerNotFoundError):
        next(logs)
    assert logs.closed
    assert no_cli_left("logs", name) == []


# --------------------------------------------------------------------------- wait_for_log


def test_wait_for_log_finds_a_line_written_before_the_call(
    engine: ContainerEngine, res: Resources
) -> None:
    name = res.name()
    script = "echo booting; echo 'listening on port 8080' >&2; exec sleep 300"
    cid = engine.containers.run(res.config(name=name, command=["sh", "-c", script]))
    try:
        deadline = time.monotonic() + 30
        while "listening" not in engine.containers.logs(cid) and time.monotonic() < deadline:
            time.sleep(0.1)
        line = engine.containers.wait_for_log(name, r"listening on port (\d+)", timeout=30)
        assert line == "listening on port 8080"
        assert no_cli_left("logs", name) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_log_waits_for_a_later_line(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    script = "echo starting; sleep 1; echo READY now; exec sleep 300"
    cid = engine.containers.run(res.config(name=name, command=["sh", "-c", script]))
    try:
        assert engine.containers.wait_for_log(cid, re.compile("ready", re.I), timeout=30) == (
            "READY now"
        )
        assert no_cli_left("logs", cid) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_log_times_out(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    cid = engine.containers.run(res.config(name=name, command=TICKING))
    try:
        with pytest.raises(CommandTimeoutError) as caught:
            engine.containers.wait_for_log(name, "never printed", timeout=1.5)
        assert caught.value.timeout == 1.5
        assert no_cli_left("logs", name) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_log_container_exits_first(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    script = "echo loading config; echo 'fatal: no config' >&2; sleep 1; exit 7"
    cid = engine.containers.run(res.config(name=name, command=["sh", "-c", script]))
    try:
        with pytest.raises(ContainerNotReadyError) as caught:
            engine.containers.wait_for_log(name, "ready", timeout=60)
        exc = caught.value
        assert exc.exit_code == 7
        assert "fatal: no config" in exc.logs and "loading config" in exc.logs
        assert isinstance(exc, ContainerOperationError)
        assert no_cli_left("logs", name) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_log_missing_container(engine: ContainerEngine, res: Resources) -> None:
    with pytest.raises(ContainerNotFoundError):
        engine.containers.wait_for_log(res.name("missing"), "x", timeout=10)


# --------------------------------------------------------------------------- wait_for_port

HTTPD = "sleep 1; echo serving; exec httpd -f -p 8080"


def test_wait_for_port(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    config = res.config(
        name=name,
        command=["sh", "-c", HTTPD],
        ports=[PortMapping(8080, host_ip="127.0.0.1")],
    )
    cid = engine.containers.run(config)
    try:
        mapping = engine.containers.wait_for_port(name, 8080, timeout=30)
        assert mapping.container_port == 8080 and mapping.protocol == "tcp"
        assert mapping.host_ip == "127.0.0.1" and mapping.host_port
        assert mapping == engine.containers.inspect(cid).ports[0]
        # The server really answers now (busybox httpd: 404 for /, but an HTTP answer).
        import socket

        with socket.create_connection(("127.0.0.1", mapping.host_port), timeout=5) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert sock.recv(12).startswith(b"HTTP/1.")
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_port_times_out(engine: ContainerEngine, res: Resources) -> None:
    # Published, but nothing listens (docker's proxy accepts and closes: that is no server).
    config = res.config(ports=[PortMapping(8080, host_ip="127.0.0.1")])
    cid = engine.containers.run(config)
    try:
        with pytest.raises(CommandTimeoutError):
            engine.containers.wait_for_port(cid, 8080, timeout=2)
        with pytest.raises(ContainerOperationError, match="does not publish port 9/tcp"):
            engine.containers.wait_for_port(cid, 9, timeout=2)
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_port_container_exits_first(engine: ContainerEngine, res: Resources) -> None:
    config = res.config(
        command=["sh", "-c", "echo 'bind: address in use' >&2; exit 4"],
        ports=[PortMapping(8080, host_ip="127.0.0.1")],
    )
    cid = engine.containers.run(config)
    try:
        with pytest.raises(ContainerNotReadyError) as caught:
            engine.containers.wait_for_port(cid, 8080, timeout=60)
        assert caught.value.exit_code == 4
        assert "address in use" in caught.value.logs
    finally:
        engine.containers.remove(cid, force=True)


# --------------------------------------------------------------------------- health


def test_wait_for_healthy(engine: ContainerEngine, res: Resources) -> None:
    check = HealthCheck("test -f /tmp/ready", interval=0.5, timeout=5, retries=100)
    script = "sleep 1; touch /tmp/ready; exec sleep 300"
    cid = engine.containers.run(res.config(command=["sh", "-c", script], healthcheck=check))
    try:
        assert engine.containers.inspect(cid).health == "starting"
        engine.containers.wait_for_healthy(cid, timeout=60)
        assert engine.containers.inspect(cid).health == "healthy"
        listed = engine.containers.list(filters={"id": cid})
        assert [c.health for c in listed] == ["healthy"]
        assert no_cli_left("healthcheck", cid) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_healthy_unhealthy(engine: ContainerEngine, res: Resources) -> None:
    check = HealthCheck("echo checked; exit 1", interval=0.5, timeout=5, retries=2)
    config = res.config(command=["sh", "-c", "echo app-up; exec sleep 300"], healthcheck=check)
    cid = engine.containers.run(config)
    try:
        with pytest.raises(ContainerNotReadyError, match="unhealthy") as caught:
            engine.containers.wait_for_healthy(cid, timeout=60)
        assert caught.value.exit_code is None
        assert "app-up" in caught.value.logs
        assert engine.containers.inspect(cid).health == "unhealthy"
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_healthy_times_out(engine: ContainerEngine, res: Resources) -> None:
    # Failing, but with retries to spare: "starting" until the time runs out.
    check = HealthCheck("false", interval=0.5, retries=1000)
    cid = engine.containers.run(res.config(healthcheck=check))
    try:
        with pytest.raises(CommandTimeoutError):
            engine.containers.wait_for_healthy(cid, timeout=2)
        assert engine.containers.inspect(cid).health == "starting"
        assert no_cli_left("healthcheck", cid) == []
    finally:
        engine.containers.remove(cid, force=True)


def test_wait_for_healthy_container_exits_first(engine: ContainerEngine, res: Resources) -> None:
    check = HealthCheck("false", interval=0.5, retries=1000)
    config = res.config(command=["sh", "-c", "echo crashing; sleep 1; exit 5"], healthcheck=check)
    cid = engine.containers.run(config)
    try:
        with pytest.raises(ContainerNotReadyError) as caught:
            engine.containers.wait_for_healthy(cid, timeout=60)
        assert caught.value.exit_code == 5
        assert "crashing" in caught.value.logs
    finally:
        engine.containers.remove(cid, force=True)


def test_health_is_none_without_a_check(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config())
    try:
        assert engine.containers.inspect(cid).health is None
        with pytest.raises(ContainerOperationError, match="no health check"):
            engine.containers.wait_for_healthy(cid, timeout=5)
    finally:
        engine.containers.remove(cid, force=True)


def test_bare_command_healthcheck(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config(healthcheck="true"))
    try:
        assert engine.containers.inspect(cid).health == "starting"  # default 30 s interval
        raw = engine.containers.inspect(cid).raw["Config"]["Healthcheck"]
        assert raw["Test"] == ["CMD-SHELL", "true"]
    finally:
        engine.containers.remove(cid, force=True)


# --------------------------------------------------------------------------- Ctrl-C


def _script_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _interrupt_when(
    proc: subprocess.Popen[str], ready: str, limit: float = 120
) -> tuple[list[str], str]:
    """Read the script's lines until one starts with ``ready``, then send it SIGINT; return
    every line it printed, and its stderr."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + limit
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(ready):
            proc.send_signal(signal.SIGINT)
            break
        assert time.monotonic() < deadline, lines
    else:
        pytest.fail(f"the script ended before {ready!r}: {lines}")
    out, err = proc.communicate(timeout=60)
    lines += out.splitlines()
    return lines, err


def test_ctrl_c_during_a_stream(engine: ContainerEngine, res: Resources) -> None:
    name = res.name()
    cid = engine.containers.run(res.config(name=name, command=TICKING))
    script = textwrap.dedent(
        f"""
        from dotfiles_container_manager import ContainerEngineFactory
        engine = ContainerEngineFactory.create({engine.runtime.value!r})
        for line in engine.containers.stream_logs({name!r}):
            print("LINE", line.stream, line.text, flush=True)
        """
    )
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_script_env(),
        )
        try:
            lines, err = _interrupt_when(proc, "LINE")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode != 0
        assert "KeyboardInterrupt" in err
        assert lines[0].startswith("LINE")
        assert no_cli_left("logs", name) == []
        assert engine.containers.inspect(cid).running
    finally:
        engine.containers.remove(cid, force=True)


def test_ctrl_c_during_a_build(engine: ContainerEngine, res: Resources) -> None:
    tag = res.image_name()
    with own_base(engine, res) as base:
        dockerfile = f"FROM {base}\nRUN echo {res.prefix}\nRUN sleep 30\nRUN echo three\n"
        script = textwrap.dedent(
            f"""
            from dotfiles_container_manager import BuildContext, ContainerEngineFactory
            engine = ContainerEngineFactory.create({engine.runtime.value!r})
            context = BuildContext({dockerfile!r}, labels={res.labels!r})
            engine.images.build(
                context, {tag!r}, progress=lambda e: print("EVENT", e.step, e.line, flush=True)
            )
            print("BUILT", flush=True)
            """
        )
        proc = subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_script_env(),
        )
        try:
            lines, err = _interrupt_when(proc, "EVENT 3 ")  # the slow step began
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        printed = [line.split(" ", 2)[2] for line in lines if line.startswith("EVENT")]
        try:
            assert "BUILT" not in lines
            assert proc.returncode != 0
            assert "KeyboardInterrupt" in err
            assert no_cli_left("build", tag) == []
            assert not engine.images.exists(tag)
            if engine.runtime == "docker":
                # The daemon saw its client go and stopped the step; --force-rm removed the
                # step's container.
                running = [p for p in printed if p.startswith(" ---> Running in ")]
                for step_container in (p.rsplit(" ", 1)[1] for p in running):
                    deadline = time.monotonic() + 30
                    while engine.containers.exists(step_container):
                        assert time.monotonic() < deadline, f"{step_container} was left"
                        time.sleep(0.2)
        finally:
            if engine.runtime == "podman":
                layers = [m.group(1) for m in map(LAYER.match, printed) if m]
                left = remove_podman_build_containers(engine, [base.split(":")[0], *layers])
                print("podman left (removed):", left)
            remove_layers(engine, printed)


# --------------------------------------------------------------------------- the example


def test_build_with_progress_example(engine: ContainerEngine) -> None:
    path = SRC.parent / "examples" / "build_with_progress.py"
    result = subprocess.run(
        [sys.executable, str(path), engine.runtime.value, BASE_IMAGE],
        capture_output=True,
        text=True,
        timeout=300,
        env=_script_env(),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = re.findall(r"^step (\d)/7 ", result.stdout, re.M)
    assert steps == [str(n) for n in range(1, 8)], result.stdout
    assert "| hello from app.sh" in result.stdout
    image = re.search(r"^built (\S+)", result.stdout, re.M)
    assert image and f"removed {image.group(1)}" in result.stdout
    assert not engine.images.exists(image.group(1))
