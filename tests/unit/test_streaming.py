"""Streaming, progress and readiness without containers: step parsing on recorded build
outputs, the progress and log-stream plumbing (scripted streams, and the real runner on a
shell script standing in for the CLI), health checks, and the readiness waits over an
in-memory manager."""

from __future__ import annotations

import gc
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerError,
    ContainerInfo,
    ContainerManager,
    ContainerNotFoundError,
    ContainerNotReadyError,
    ContainerOperationError,
    ContainerState,
    HealthCheck,
    ImageBuildError,
    ImageError,
    InvalidConfigError,
    LogLine,
    LogStream,
    PortMapping,
    ProgressEvent,
    RunConfig,
)
from dotfiles_container_manager.core import readiness
from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier
from dotfiles_container_manager.implementations.cli.progress import StepParser, visible
from dotfiles_container_manager.implementations.cli.runner import CommandRunner
from dotfiles_container_manager.implementations.docker import (
    DockerContainerManager,
    DockerImageManager,
)
from dotfiles_container_manager.implementations.docker.utils import go_duration, run_args
from dotfiles_container_manager.implementations.podman import PodmanContainerManager

from .conftest import (
    CONTAINERS,
    IMAGES,
    RUNTIMES,
    Call,
    FakeRunner,
    recorded,
    result,
    split_lines,
)

CID = "c40f859d1ff4e19b2c9b48655d5e2007b1ca64d9bc8a60be2b3984b6fb601c28"


def events(runtime: str, name: str) -> list[ProgressEvent]:
    """The events of a recorded build's output, stdout then stderr."""
    parser = StepParser()
    return [parser.event(line) for line in cli_lines(runtime, name)]


def cli_lines(runtime: str, name: str) -> list[str]:
    """A recorded call's lines as the runner hands them out: stdout, then stderr."""
    res = recorded(runtime, name)
    return split_lines(res.stdout) + split_lines(res.stderr)


def steps(evs: list[ProgressEvent]) -> list[tuple[int | None, int | None]]:
    return [(e.step, e.total_steps) for e in evs]


def event_of(evs: list[ProgressEvent], text: str) -> ProgressEvent:
    return next(e for e in evs if e.line == text)


# --------------------------------------------------------------------------- step lines


class TestSteps:
    def test_docker_legacy_builder(self) -> None:
        evs = events("docker", "build_progress")
        step_lines = [e for e in evs if e.line.startswith("Step ")]
        assert steps(step_lines) == [(n, 8) for n in range(1, 9)]
        assert step_lines[2].line == "Step 3/8 : RUN sleep 1"
        # Every other line carries the step it belongs to; nothing before the first step.
        assert event_of(evs, "compiling") == ProgressEvent("compiling", 6, 8)
        assert evs[0].line == "Sending build context to Docker daemon  10.24kB"
        assert steps(evs[:1]) == [(None, None)]
        assert event_of(evs, "Successfully tagged dcm-rec-progress:1").step == 8
        # The DEPRECATED banner (stderr) comes after stdout here: it carries the last step.
        assert any(e.line.startswith("DEPRECATED") for e in evs)

    def test_podman_counts_steps_per_stage(self) -> None:
        evs = events("podman", "build_progress")
        step_lines = [e for e in evs if " STEP " in f" {e.line}"]
        assert steps(step_lines) == [(1, 3), (2, 3), (3, 3), (1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
        assert step_lines[0].line == "[1/2] STEP 1/3: FROM dcm-test-base:latest AS builder"
        assert event_of(evs, "compiling") == ProgressEvent("compiling", 3, 5)
        assert event_of(evs, "[2/2] COMMIT dcm-rec-progress:1").step == 5

    def test_podman_without_totals(self) -> None:
        parser = StepParser()
        assert parser.event("STEP 1: FROM alpine") == ProgressEvent("STEP 1: FROM alpine", 1, None)
        assert parser.event("STEP 2: RUN true").step == 2

    def test_buildkit_vertices_keep_their_steps(self) -> None:
        evs = events("docker-buildkit", "build_progress")
        assert steps(evs[:8]) == [(None, None)] * 8  # "#0 building", the internal vertices
        assert event_of(evs, "#4 [builder 1/3] FROM docker.io/library/dcm-test-base:latest") == (
            ProgressEvent("#4 [builder 1/3] FROM docker.io/library/dcm-test-base:latest", 1, 3)
        )
        assert event_of(evs, "#6 [builder 3/3] RUN sleep 1").step == 3
        assert event_of(evs, "#8 0.312 compiling") == ProgressEvent("#8 0.312 compiling", 3, 4)
        assert event_of(evs, "#6 DONE 1.3s") == ProgressEvent("#6 DONE 1.3s", 3, 3)
        assert event_of(evs, "#10 exporting layers 0.2s done") == ProgressEvent(
            "#10 exporting layers 0.2s done", 4, 4
        )

    def test_buildkit_lines_of_an_earlier_vertex_report_its_step(self) -> None:
        parser = StepParser()
        parser.event("#5 [2/5] RUN make")
        parser.event("#6 [3/5] COPY . /src")
        assert parser.event("#5 1.234 compiling") == ProgressEvent("#5 1.234 compiling", 2, 5)
        assert parser.event("#7 [internal] load").step == 3  # unknown vertex: carried
        assert parser.event("#6 DONE 0.1s").step == 3

    @pytest.mark.parametrize(
        ("runtime", "last"), [("docker", (3, 5)), ("podman", (3, 5)), ("docker-buildkit", (3, 4))]
    )
    def test_failed_builds_report_the_failing_step(
        self, runtime: str, last: tuple[int, int]
    ) -> None:
        evs = events(runtime, "build_progress_fail")
        failing = [e for e in evs if "about-to-fail" in e.line]
        assert failing
        assert all((e.step, e.total_steps) == last for e in failing)

    def test_carriage_returns_keep_what_a_terminal_shows(self) -> None:
        assert visible("Sending build context to Docker daemon  10.24kB\r\r") == (
            "Sending build context to Docker daemon  10.24kB"
        )
        assert visible("a 10%\rb 50%\rc 100%") == "c 100%"
        assert visible("\r\r") == ""
        assert visible("plain") == "plain"

    def test_lookalikes_are_not_steps(self) -> None:
        parser = StepParser()
        for line in ("Stepping 2/5 :", "STEPS 1/2:", "# 2/5", "#x [1/2] RUN", " Step 1/2 : FROM"):
            assert parser.event(line).step is None, line


# --------------------------------------------------------------------------- progress=


class TestProgress:
    def test_without_progress_the_build_is_collected(self, runtime: str) -> None:
        # docker: collected, the cheapest way. podman: always streamed, to learn the images
        # it commits as it goes (removed when the build is cut short).
        fake = FakeRunner(runtime, recorded(runtime, "build_progress"))
        if runtime == "docker":
            fake.queue(recorded("docker", "image_inspect"))
        IMAGES[runtime](fake).build(BuildContext("FROM scratch\n"), "dcm-x:1")
        assert fake.calls[0].streamed is (runtime == "podman")

    def test_build_events_for_every_line(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "build_progress"))
        if runtime == "docker":  # no iidfile in a scripted call: "Successfully built" + inspect
            fake.queue(recorded("docker", "image_inspect"))
        seen: list[ProgressEvent] = []
        image_id = IMAGES[runtime](fake).build(
            BuildContext("FROM scratch\n"), "dcm-x:1", progress=seen.append
        )
        assert image_id.startswith("sha256:")
        call = fake.calls[0]
        assert call.streamed
        assert call.args[0] == "build"
        assert call.input is not None and len(call.input) > 0  # the context's tar
        lines = cli_lines(runtime, "build_progress")
        assert [e.line for e in seen] == [visible(line) for line in lines]
        assert seen == events(runtime, "build_progress")

    def test_failed_build_delivered_everything_and_raises_with_the_log(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "build_progress_fail"))
        seen: list[ProgressEvent] = []
        with pytest.raises(ImageBuildError) as caught:
            IMAGES[runtime](fake).build(
                BuildContext("FROM scratch\n"), "dcm-x:1", progress=seen.append
            )
        assert caught.value.exit_code == 3
        assert [e.line for e in seen] == caught.value.output.split("\n")
        assert "about-to-fail" in caught.value.output
        assert "step-two" in caught.value.output

    def test_pull_and_push_stream_their_lines(self, runtime: str) -> None:
        pulled = result("Trying to pull x\nGetting image source signatures\n", "Copying blob\n")
        inspect = recorded(runtime, "image_inspect")
        fake = FakeRunner(runtime, pulled, inspect, result("Pushed\n"))
        seen: list[ProgressEvent] = []
        IMAGES[runtime](fake).pull("dcm-x:1", progress=seen.append)
        IMAGES[runtime](fake).push("dcm-x:1", progress=seen.append)
        assert [e.line for e in seen] == [
            "Trying to pull x",
            "Getting image source signatures",
            "Copying blob",
            "Pushed",
        ]
        assert all(e.step is None for e in seen)
        assert [c.streamed for c in fake.calls] == [True, False, True]

    def test_failed_pull_raises_after_its_lines(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "run_missing_image"))
        seen: list[ProgressEvent] = []
        with pytest.raises(ImageError):
            IMAGES[runtime](fake).pull("dcm-nope:1", progress=seen.append)
        assert seen

    @pytest.mark.parametrize("bad", ["print", 3, object()])
    def test_progress_must_be_callable(self, runtime: str, bad: object) -> None:
        fake = FakeRunner(runtime)
        with pytest.raises(InvalidConfigError) as caught:
            IMAGES[runtime](fake).build(BuildContext("FROM x\n"), "dcm-x:1", progress=bad)  # type: ignore[arg-type]
        assert caught.value.field == "progress"
        with pytest.raises(InvalidConfigError):
            IMAGES[runtime](fake).pull("x", progress=bad)  # type: ignore[arg-type]
        assert fake.calls == []


# --------------------------------------------------------------------------- a CLI stand-in


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "fake-cli"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def _runner(executable: str) -> CommandRunner:
    return CommandRunner(executable, runtime="docker", classifier=ErrorClassifier("docker"))


def processes_with(marker: str) -> list[int]:
    """Processes whose command line holds ``marker`` (zombies included: they have none)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                zombie = handle.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if marker.encode() in cmdline or (zombie and int(entry) in _children()):
            found.append(int(entry))
    return found


def _children() -> set[int]:
    pid = os.getpid()
    kids = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.add(int(entry))
    return kids


def wait_gone(marker: str, limit: float = 5.0) -> list[int]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        left = processes_with(marker)
        if not left:
            return []
        time.sleep(0.02)
    return processes_with(marker)


class TestRealRunner:
    """The real runner on a shell script: what a stream does with a real process."""

    def test_whole_log_of_a_long_failed_build(self, tmp_path: Path) -> None:
        # Far more than the stream's 64 KiB tails: the error still holds every line.
        cli = _script(
            tmp_path,
            "cat > /dev/null\necho 'Step 1/2 : FROM x'\n"
            "seq 1 20000 | sed 's/^/line /'\necho 'Step 2/2 : RUN false'\necho oops >&2\nexit 1\n",
        )
        seen: list[ProgressEvent] = []
        with pytest.raises(ImageBuildError) as caught:
            DockerImageManager(_runner(cli)).build(
                BuildContext("FROM x\n"), "dcm-x:1", progress=seen.append
            )
        assert len(seen) == 20003
        output = caught.value.output
        assert output.startswith("Step 1/2 : FROM x\nline 1\n")
        assert output.endswith("Step 2/2 : RUN false\noops")
        assert seen[-1] == ProgressEvent("oops", 2, 2)

    def test_events_arrive_while_the_cli_runs(self, tmp_path: Path) -> None:
        marker = tmp_path / "continue"
        cli = _script(
            tmp_path,
            f"cat > /dev/null\necho 'Step 1/2 : FROM x'\n"
            f"while [ ! -e {marker} ]; do sleep 0.01; done\necho 'Step 2/2 : RUN true'\n",
        )
        seen: list[ProgressEvent] = []

        def progress(event: ProgressEvent) -> None:
            seen.append(event)
            if len(seen) == 1:  # the CLI waits for this file: the event came while it ran
                marker.write_text("go")

        with pytest.raises(Exception, match="no image id"):  # the script prints no id
            DockerImageManager(_runner(cli)).build(
                BuildContext("FROM x\n"), "dcm-x:1", progress=progress
            )
        assert steps(seen) == [(1, 2), (2, 2)]

    def test_an_exception_from_the_callback_kills_the_cli(self, tmp_path: Path) -> None:
        tag = f"dcm-cb-{os.getpid()}-{time.monotonic_ns()}"
        cli = _script(tmp_path, f"cat > /dev/null\necho 'Step 1/2 : FROM x'\nsleep 30 # {tag}\n")

        class Stop(Exception):
            pass

        def progress(event: ProgressEvent) -> None:
            raise Stop

        started = time.monotonic()
        with pytest.raises(Stop):
            DockerImageManager(_runner(cli)).build(
                BuildContext("FROM x\n"), f"{tag}:1", progress=progress
            )
        assert time.monotonic() - started < 25  # not the script's 30 s: it was ended
        assert wait_gone(tag) == []

    @pytest.mark.parametrize("how", ["close", "with", "break", "drop", "exception"])
    def test_every_way_of_ending_a_log_stream_ends_the_process(
        self, tmp_path: Path, how: str
    ) -> None:
        tag = f"dcm-logs-{os.getpid()}-{time.monotonic_ns()}"
        cli = _script(tmp_path, f"echo one\necho two >&2\nexec sleep 30 # {tag}\n")
        manager = DockerContainerManager(_runner(cli))
        if how == "close":
            logs = manager.stream_logs(tag)
            assert next(logs) == LogLine("one", "stdout")
            logs.close()
            assert list(logs) == []
        elif how == "with":
            with manager.stream_logs(tag) as logs:
                assert next(logs).text == "one"
        elif how == "break":
            with manager.stream_logs(tag) as logs:
                for line in logs:
                    if line.stream == "stderr":
                        break
        elif how == "drop":
            logs = manager.stream_logs(tag)
            next(logs)
            del logs
            gc.collect()
        else:
            with pytest.raises(ZeroDivisionError), manager.stream_logs(tag) as logs:
                for _ in logs:
                    1 / 0  # noqa: B018
        assert wait_gone(tag) == []

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            # the container's own lines that look like the CLI's: held, then all handed out
            (
                "echo 'Error: bad' >&2; echo 'error: worse' >&2; sleep 0.2; echo ok",
                [("stderr", "Error: bad"), ("stderr", "error: worse"), ("stdout", "ok")],
            ),
            ("echo 'Error: only' >&2", [("stderr", "Error: only")]),  # exit 0: the container's
            (
                "echo 'fine' >&2; echo 'Error: later' >&2",
                [("stderr", "fine"), ("stderr", "Error: later")],
            ),
        ],
    )
    def test_lines_that_look_like_cli_errors_still_come_out(
        self, tmp_path: Path, body: str, expected: list[tuple[str, str]]
    ) -> None:
        cli = _script(tmp_path, body + "\n")
        lines = list(DockerContainerManager(_runner(cli)).stream_logs("c1"))
        assert [(line.stream, line.text) for line in lines] == expected

    @pytest.mark.parametrize(
        "body",
        [
            "echo 'Error response from daemon: No such container: c1' >&2; exit 1",
            "echo 'Cannot connect to the Docker daemon at unix:///x.sock. Is the docker "
            "daemon running?' >&2; exit 1",
        ],
    )
    def test_the_clis_own_failure_is_no_line(self, tmp_path: Path, body: str) -> None:
        cli = _script(tmp_path, body + "\n")
        logs = DockerContainerManager(_runner(cli)).stream_logs("c1")
        with pytest.raises(ContainerError) as caught:
            next(logs)
        assert caught.value.stderr.strip() in body

    def test_podman_logrus_lines_are_held_too(self, tmp_path: Path) -> None:
        cli = _script(
            tmp_path,
            'echo \'time="2026-01-01T00:00:00Z" level=error msg="finding config"\' >&2\n'
            "echo 'Error: finding config' >&2\nexit 125\n",
        )
        runner = CommandRunner(cli, runtime="podman", classifier=ErrorClassifier("podman"))
        with pytest.raises(ContainerError):
            next(PodmanContainerManager(runner).stream_logs("c1"))

    def test_timeout_ends_the_stream(self, tmp_path: Path) -> None:
        tag = f"dcm-logs-{os.getpid()}-{time.monotonic_ns()}"
        cli = _script(tmp_path, f"echo one\nexec sleep 30 # {tag}\n")
        logs = DockerContainerManager(_runner(cli)).stream_logs(tag, timeout=0.5)
        assert next(logs).text == "one"
        with pytest.raises(CommandTimeoutError):
            next(logs)
        assert logs.closed
        assert wait_gone(tag) == []

    def test_lines_come_as_they_are_written(self, tmp_path: Path) -> None:
        marker = tmp_path / "continue"
        cli = _script(
            tmp_path,
            f"echo first\nwhile [ ! -e {marker} ]; do sleep 0.01; done\necho second >&2\n",
        )
        logs = DockerContainerManager(_runner(cli)).stream_logs("c1")
        assert next(logs) == LogLine("first", "stdout")  # the script still waits
        marker.write_text("go")
        assert list(logs) == [LogLine("second", "stderr")]


# --------------------------------------------------------------------------- stream_logs


class TestStreamLogs:
    def test_recorded_lines_labelled(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "logs_follow"))
        with CONTAINERS[runtime](fake).stream_logs("dcm-rec-logs") as logs:
            lines = list(logs)
        assert lines == [
            LogLine("out-1", "stdout"),
            LogLine("out-2", "stdout"),
            LogLine("no-newline", "stdout"),
            LogLine("err-1", "stderr"),
        ]
        assert fake.calls[0].args == ("logs", "--follow", "dcm-rec-logs")
        assert fake.calls[0].streamed
        assert fake.calls[0].timeout is None

    def test_options(self, runtime: str) -> None:
        fake = FakeRunner(runtime, result(""))
        logs = CONTAINERS[runtime](fake).stream_logs(
            "c1", follow=False, tail=5, since="10m", timeout=3
        )
        assert list(logs) == []
        assert fake.calls[0].args == ("logs", "--tail", "5", "--since", "10m", "c1")
        assert fake.calls[0].timeout == 3

    def test_missing_container(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "logs_follow_missing"))
        logs = CONTAINERS[runtime](fake).stream_logs("dcm-rec-nope")
        with pytest.raises(ContainerNotFoundError):
            next(logs)
        assert logs.closed
        assert fake.streams[0].closed

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"tail": -1}, "tail"),
            ({"tail": True}, "tail"),
            ({"since": "-x"}, "since"),
            ({"timeout": 0}, "timeout"),
            ({"timeout": float("nan")}, "timeout"),
        ],
    )
    def test_bad_arguments(self, runtime: str, kwargs: dict[str, Any], field: str) -> None:
        fake = FakeRunner(runtime)
        with pytest.raises(InvalidConfigError) as caught:
            CONTAINERS[runtime](fake).stream_logs("c1", **kwargs)
        assert caught.value.field == field
        assert fake.calls == []


class TestLogStream:
    def test_iterates_labelled_lines_and_closes_once(self) -> None:
        closed: list[int] = []
        logs = LogStream([("stdout", "a"), ("stderr", "b")], close=lambda: closed.append(1))
        assert next(logs) == LogLine("a", "stdout")
        logs.close()
        logs.close()
        assert closed == [1]
        assert logs.closed
        assert list(logs) == []

    def test_end_and_errors_close_the_source(self) -> None:
        closed: list[int] = []

        def source() -> Iterator[tuple[str, str]]:
            yield ("stdout", "a")
            raise ContainerNotFoundError("gone")

        logs = LogStream(source(), close=lambda: closed.append(1))
        assert next(logs).text == "a"
        with pytest.raises(ContainerNotFoundError):
            next(logs)
        assert closed == [1]
        assert list(logs) == []

    def test_dropping_closes(self) -> None:
        closed: list[int] = []
        logs = LogStream([("stdout", "a")], close=lambda: closed.append(1))
        del logs
        gc.collect()
        assert closed == [1]

    def test_uses_the_sources_own_close(self) -> None:
        class Source:
            closed = False

            def __iter__(self) -> Iterator[tuple[str, str]]:
                return iter([("stdout", "x")])

            def close(self) -> None:
                self.closed = True

        source = Source()
        with LogStream(source) as logs:
            assert [line.text for line in logs] == ["x"]
        assert source.closed


# --------------------------------------------------------------------------- health checks


class TestHealthCheck:
    def test_defaults_are_the_runtimes(self) -> None:
        check = HealthCheck("true")
        assert (check.interval, check.timeout, check.retries, check.start_period) == (
            30.0,
            30.0,
            3,
            0.0,
        )

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"command": ""}, "HealthCheck.command"),
            ({"command": "a\x00b"}, "HealthCheck.command"),
            ({"command": ["true"]}, "HealthCheck.command"),
            ({"interval": 0}, "HealthCheck.interval"),
            ({"interval": -1}, "HealthCheck.interval"),
            ({"interval": 0.0004}, "HealthCheck.interval"),
            ({"interval": float("inf")}, "HealthCheck.interval"),
            ({"interval": "1s"}, "HealthCheck.interval"),
            ({"timeout": True}, "HealthCheck.timeout"),
            ({"retries": 0}, "HealthCheck.retries"),
            ({"retries": 1.5}, "HealthCheck.retries"),
            ({"start_period": -0.5}, "HealthCheck.start_period"),
            ({"start_period": 0.0001}, "HealthCheck.start_period"),
        ],
    )
    def test_invalid(self, kwargs: dict[str, Any], field: str) -> None:
        arguments = {"command": "true", **kwargs}
        with pytest.raises(InvalidConfigError) as caught:
            HealthCheck(**arguments)
        assert caught.value.field == field

    def test_durations_round_to_milliseconds(self) -> None:
        assert HealthCheck("true", interval=1.23456).interval == 1.235
        assert go_duration(30.0) == "30s"
        assert go_duration(0.5) == "0.5s"
        assert go_duration(0.001) == "0.001s"
        assert go_duration(0.0) == "0s"
        assert go_duration(90.25) == "90.25s"

    def test_run_args(self) -> None:
        check = HealthCheck("curl -f localhost", interval=1, timeout=2.5, retries=4, start_period=3)
        args = run_args(RunConfig("img", healthcheck=check))
        assert args == [
            "--health-cmd",
            "curl -f localhost",
            "--health-interval",
            "1s",
            "--health-timeout",
            "2.5s",
            "--health-retries",
            "4",
            "--health-start-period",
            "3s",
        ]
        assert run_args(RunConfig("img", healthcheck="true")) == ["--health-cmd", "true"]

    def test_run_config_refuses_other_types(self) -> None:
        with pytest.raises(InvalidConfigError):
            RunConfig("img", healthcheck=3)  # type: ignore[arg-type]

    @pytest.mark.parametrize("runtime", RUNTIMES)
    def test_health_from_inspect_and_ps(self, runtime: str) -> None:
        manager = CONTAINERS[runtime]
        record = recorded(runtime, "container_inspect_health")
        fake = FakeRunner(runtime, record, recorded(runtime, "container_inspect_created"))
        fake.queue(recorded(runtime, "ps_health"), recorded(runtime, "ps_all"))
        engine_manager = manager(fake)
        assert engine_manager.inspect("dcm-rec-health").health == "healthy"
        assert engine_manager.inspect("dcm-rec-c4").health is None
        assert [c.health for c in engine_manager.list()] == ["healthy"]
        assert all(c.health is None for c in engine_manager.list(all=True))

    @pytest.mark.parametrize(
        ("state", "health"),
        [
            ({"Health": {"Status": "starting"}}, "starting"),
            ({"Health": {"Status": "unhealthy"}}, "unhealthy"),
            ({"Health": {"Status": ""}}, None),
            ({"Health": None}, None),
            ({"Healthcheck": {"Status": "healthy"}}, "healthy"),  # podman 3
            ({"Health": {"Status": "Healthy"}}, "healthy"),
            ({"Health": {"Status": "bogus"}}, None),
            ({}, None),
        ],
    )
    def test_health_shapes(self, state: dict[str, Any], health: str | None) -> None:
        data = {"Id": CID, "Name": "/x", "State": {"Status": "running", **state}}
        assert DockerContainerManager.from_inspect(data).health == health

    @pytest.mark.parametrize(
        ("status", "health"),
        [
            ("Up 5 seconds (healthy)", "healthy"),
            ("Up 5 seconds (health: starting)", "starting"),
            ("Up 2 seconds ago (starting)", "starting"),
            ("Up 1 minute (unhealthy)", "unhealthy"),
            ("Up 1 minute", None),
            ("Exited (0) 3 seconds ago", None),
            ("Up (Paused)", None),
        ],
    )
    def test_ps_status_shapes(self, status: str, health: str | None) -> None:
        row = {"ID": CID, "Names": "x", "State": "running", "Status": status}
        assert DockerContainerManager.from_ps(row).health == health

    def test_podman_runs_the_check_at_its_interval(self) -> None:
        fake = FakeRunner("podman", recorded("podman", "container_inspect_health"), result())
        manager = PodmanContainerManager(fake)
        info = manager.inspect("dcm-rec-health")
        assert manager._run_health_check("dcm-rec-health", info, 5.0) == 0.5
        assert fake.calls[-1].args == ("healthcheck", "run", "dcm-rec-health")
        assert fake.calls[-1].check is False
        assert (
            PodmanContainerManager.health_interval(
                ContainerInfo(CID, "x", "img", ContainerState.RUNNING)
            )
            == 30.0
        )
        # docker runs its checks itself
        docker = DockerContainerManager(FakeRunner("docker"))
        assert docker._run_health_check("x", info, 5.0) is None


# --------------------------------------------------------------------------- readiness


class MemoryContainers(ContainerManager):
    """A ContainerManager whose hooks serve a scripted container (no process at all).

    ``states`` is consumed by successive inspects (the last one repeats); ``lines`` is
    what the log stream yields; ``health`` the health states, one per inspect.
    """

    def __init__(
        self,
        *,
        states: list[ContainerState],
        lines: list[tuple[str, str]] | None = None,
        health: list[str | None] | None = None,
        ports: tuple[PortMapping, ...] = (),
        exit_code: int | None = None,
        stream_raises: BaseException | None = None,
    ) -> None:
        self.states = list(states)
        self.lines = lines or []
        self.health = list(health or [None])
        self.ports = ports
        self.exit_code = exit_code
        self.stream_raises = stream_raises
        self.calls: list[str] = []
        self.streams: list[LogStream] = []
        self.accepting = False
        self.checks: list[float] = []
        self.check_interval: float | None = None

    def _inspect(self, container: str) -> ContainerInfo:
        self.calls.append("inspect")
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        health = self.health.pop(0) if len(self.health) > 1 else self.health[0]
        ended = state in (ContainerState.EXITED, ContainerState.DEAD)
        return ContainerInfo(
            container,
            "name",
            "img",
            state,
            ports=self.ports,
            exit_code=self.exit_code if ended else None,
            health=health,  # type: ignore[arg-type]
        )

    def _stream_logs(
        self,
        container: str,
        follow: bool,
        tail: int | None,
        since: str | None,
        timeout: float | None,
    ) -> LogStream:
        self.calls.append(f"stream follow={follow} tail={tail} since={since}")
        lines = list(self.lines)
        raises = self.stream_raises

        def source() -> Iterator[tuple[str, str]]:
            yield from lines
            if raises is not None:
                raise raises

        stream = LogStream(source())
        self.streams.append(stream)
        return stream

    def _logs(self, container: str, *args: object) -> bytes:
        self.calls.append("logs")
        return "".join(f"{text}\n" for _, text in self.lines).encode()

    def _port_accepts(self, host: str, port: int, timeout: float) -> bool:
        self.calls.append(f"connect {host}:{port}")
        return self.accepting

    def _run_health_check(
        self, container: str, info: ContainerInfo, timeout: float
    ) -> float | None:
        if self.check_interval is None:
            return None
        self.checks.append(time.monotonic())
        return self.check_interval

    def __getattr__(self, name: str) -> Any:  # the other hooks are never reached here
        raise AssertionError(f"unexpected hook {name}")


# ContainerManager's other abstract hooks: filled in so the class can be instantiated.
MemoryContainers.__abstractmethods__ = frozenset()  # type: ignore[misc]

RUNNING = ContainerState.RUNNING
EXITED = ContainerState.EXITED


class TestWaitForLog:
    def test_a_line_written_before_the_call_counts(self) -> None:
        manager = MemoryContainers(
            states=[RUNNING], lines=[("stdout", "booting"), ("stderr", "listening on :80")]
        )
        assert manager.wait_for_log("c1", r"listening on :\d+", timeout=5) == "listening on :80"
        assert manager.calls == ["stream follow=True tail=None since=None"]
        assert manager.streams[0].closed

    def test_compiled_pattern(self) -> None:
        manager = MemoryContainers(states=[RUNNING], lines=[("stdout", "READY")])
        assert manager.wait_for_log("c1", re.compile("ready", re.I), timeout=5) == "READY"

    def test_stopped_first(self) -> None:
        manager = MemoryContainers(
            states=[EXITED], lines=[("stdout", "boot"), ("stderr", "crash")], exit_code=3
        )
        with pytest.raises(ContainerNotReadyError) as caught:
            manager.wait_for_log("c1", "ready", timeout=5)
        exc = caught.value
        assert exc.exit_code == 3
        assert exc.logs == "boot\ncrash"
        assert exc.container == "c1"
        assert isinstance(exc, ContainerOperationError)
        assert "exit code 3" in str(exc) and "crash" in str(exc)

    def test_never_started(self) -> None:
        manager = MemoryContainers(states=[ContainerState.CREATED])
        with pytest.raises(ContainerNotReadyError, match="never started"):
            manager.wait_for_log("c1", "ready", timeout=5)

    def test_removed_meanwhile(self) -> None:
        class Gone(MemoryContainers):
            def _inspect(self, container: str) -> ContainerInfo:
                raise ContainerNotFoundError("gone")

        manager = Gone(states=[RUNNING], lines=[("stdout", "x")])
        with pytest.raises(ContainerNotReadyError, match="removed") as caught:
            manager.wait_for_log("c1", "ready", timeout=5)
        assert caught.value.exit_code is None
        assert caught.value.logs == "x"

    def test_restarted_container_is_followed_again(self) -> None:
        manager = MemoryContainers(states=[RUNNING, EXITED], lines=[("stdout", "x")], exit_code=1)
        with pytest.raises(ContainerNotReadyError):
            manager.wait_for_log("c1", "ready", timeout=5)
        assert sum(c.startswith("stream") for c in manager.calls) == 2

    def test_timeout(self) -> None:
        manager = MemoryContainers(
            states=[RUNNING], stream_raises=CommandTimeoutError("cli", timeout=1.0)
        )
        with pytest.raises(CommandTimeoutError, match="no line matching 'ready' within 1 s"):
            manager.wait_for_log("c1", "ready", timeout=1)

    def test_missing_container(self) -> None:
        manager = MemoryContainers(states=[RUNNING], stream_raises=ContainerNotFoundError("x"))
        with pytest.raises(ContainerNotFoundError):
            manager.wait_for_log("c1", "ready", timeout=1)

    @pytest.mark.parametrize("bad", ["(", "", 3, re.compile(b"x")])
    def test_bad_patterns(self, bad: object) -> None:
        manager = MemoryContainers(states=[RUNNING])
        with pytest.raises(InvalidConfigError) as caught:
            manager.wait_for_log("c1", bad, timeout=1)  # type: ignore[arg-type]
        assert caught.value.field == "pattern"
        assert manager.calls == []

    def test_timeout_is_required_and_checked(self) -> None:
        manager = MemoryContainers(states=[RUNNING])
        with pytest.raises(InvalidConfigError):
            manager.wait_for_log("c1", "x", timeout=0)
        with pytest.raises(TypeError):
            manager.wait_for_log("c1", "x")  # type: ignore[call-arg]


MAPPING = PortMapping(80, 32768, "tcp", "127.0.0.1")


class TestWaitForPort:
    def test_returns_the_mapping_once_it_accepts(self) -> None:
        manager = MemoryContainers(states=[ContainerState.CREATED, RUNNING], ports=(MAPPING,))
        manager.states = [RUNNING]
        attempts = iter([False, False, True])
        manager._port_accepts = lambda host, port, timeout: next(attempts)  # type: ignore[method-assign]
        assert manager.wait_for_port("c1", 80, timeout=5) == MAPPING

    def test_connects_to_loopback_for_every_interface(self) -> None:
        wildcard = PortMapping(80, 32768, "tcp", "0.0.0.0")  # noqa: S104
        manager = MemoryContainers(states=[RUNNING], ports=(wildcard,))
        manager.accepting = True
        manager.wait_for_port("c1", 80, timeout=5)
        assert "connect 127.0.0.1:32768" in manager.calls
        assert readiness.connect_address(PortMapping(80, 1, "tcp", None)) == ("127.0.0.1", 1)
        assert readiness.connect_address(PortMapping(80, 1, "tcp", "::")) == ("127.0.0.1", 1)
        assert readiness.connect_address(PortMapping(80, 1, "tcp", "10.0.0.2")) == ("10.0.0.2", 1)

    def test_udp_needs_only_the_mapping(self) -> None:
        udp = PortMapping(53, 32000, "udp", "127.0.0.1")
        manager = MemoryContainers(states=[RUNNING], ports=(udp,))
        assert manager.wait_for_port("c1", 53, protocol="udp", timeout=5) == udp
        assert not any(c.startswith("connect") for c in manager.calls)

    def test_unpublished_port(self) -> None:
        manager = MemoryContainers(states=[RUNNING], ports=(MAPPING,))
        with pytest.raises(ContainerOperationError, match="does not publish port 81/tcp"):
            manager.wait_for_port("c1", 81, timeout=5)

    def test_stopped_first(self) -> None:
        manager = MemoryContainers(
            states=[RUNNING, EXITED], ports=(MAPPING,), exit_code=2, lines=[("stderr", "boom")]
        )
        with pytest.raises(ContainerNotReadyError) as caught:
            manager.wait_for_port("c1", 80, timeout=5)
        assert caught.value.exit_code == 2
        assert caught.value.logs == "boom\n"

    def test_timeout(self) -> None:
        manager = MemoryContainers(states=[RUNNING], ports=(MAPPING,))
        started = time.monotonic()
        with pytest.raises(CommandTimeoutError) as caught:
            manager.wait_for_port("c1", 80, timeout=0.3)
        assert caught.value.timeout == 0.3
        assert time.monotonic() - started < 3

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [({"port": 0}, "port"), ({"port": 70000}, "port"), ({"protocol": "http"}, "protocol")],
    )
    def test_bad_arguments(self, kwargs: dict[str, Any], field: str) -> None:
        manager = MemoryContainers(states=[RUNNING])
        arguments: dict[str, Any] = {"port": 80, "timeout": 1, **kwargs}
        with pytest.raises(InvalidConfigError) as caught:
            manager.wait_for_port("c1", **arguments)
        assert caught.value.field == field
        assert manager.calls == []


class TestTcpAccepts:
    def test_listening_server(self) -> None:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            assert readiness.tcp_accepts("127.0.0.1", server.getsockname()[1], 1.0)

    def test_nothing_listening(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]  # bound, not listening: refused
            assert not readiness.tcp_accepts("127.0.0.1", port, 1.0)

    def test_a_proxy_that_closes_at_once_does_not_count(self) -> None:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()

            def close_each() -> None:
                connection, _ = server.accept()
                connection.close()

            thread = threading.Thread(target=close_each)
            thread.start()
            assert not readiness.tcp_accepts("127.0.0.1", server.getsockname()[1], 1.0)
            thread.join()

    def test_a_server_that_greets(self) -> None:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()

            def greet() -> None:
                connection, _ = server.accept()
                connection.sendall(b"220 hello\r\n")
                time.sleep(0.3)
                connection.close()

            thread = threading.Thread(target=greet)
            thread.start()
            assert readiness.tcp_accepts("127.0.0.1", server.getsockname()[1], 1.0)
            thread.join()


class TestWaitForHealthy:
    def test_healthy(self) -> None:
        manager = MemoryContainers(states=[RUNNING], health=["starting", "starting", "healthy"])
        manager.wait_for_healthy("c1", timeout=5)
        assert manager.calls == ["inspect"] * 3

    def test_unhealthy(self) -> None:
        manager = MemoryContainers(
            states=[RUNNING], health=["starting", "unhealthy"], lines=[("stdout", "x")]
        )
        with pytest.raises(ContainerNotReadyError, match="unhealthy") as caught:
            manager.wait_for_healthy("c1", timeout=5)
        assert caught.value.exit_code is None
        assert caught.value.logs == "x\n"

    def test_stopped_first(self) -> None:
        manager = MemoryContainers(states=[RUNNING, EXITED], health=["starting"], exit_code=9)
        with pytest.raises(ContainerNotReadyError) as caught:
            manager.wait_for_healthy("c1", timeout=5)
        assert caught.value.exit_code == 9

    def test_no_health_check(self) -> None:
        manager = MemoryContainers(states=[RUNNING], health=[None])
        with pytest.raises(ContainerOperationError, match="no health check"):
            manager.wait_for_healthy("c1", timeout=5)

    def test_timeout(self) -> None:
        manager = MemoryContainers(states=[RUNNING], health=["starting"])
        with pytest.raises(CommandTimeoutError):
            manager.wait_for_healthy("c1", timeout=0.3)

    def test_engine_that_runs_the_checks_runs_them_at_the_interval(self) -> None:
        manager = MemoryContainers(states=[RUNNING], health=["starting"])
        manager.check_interval = 0.2
        with pytest.raises(CommandTimeoutError):
            manager.wait_for_healthy("c1", timeout=0.9)
        gaps = [b - a for a, b in zip(manager.checks, manager.checks[1:], strict=False)]
        assert 3 <= len(manager.checks) <= 6
        assert all(gap >= 0.19 for gap in gaps)


def test_not_ready_error_text() -> None:
    exc = ContainerNotReadyError("c stopped", exit_code=1, logs="a\nb", container="c")
    assert exc.exit_code == 1 and exc.logs == "a\nb" and exc.container == "c"
    assert str(exc).endswith("last output:\na\nb")


def test_scripted_stream_records_the_call(runtime: str) -> None:
    fake = FakeRunner(runtime, result("x\n"))
    assert [line.text for line in CONTAINERS[runtime](fake).stream_logs("c1")] == ["x"]
    assert isinstance(fake.calls[0], Call)
