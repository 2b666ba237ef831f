"""What a failed or cut-short container call cleans up, and under which limit (issue 15,
items 4 and 5), checked on the argv the managers produce (no runtime needed)."""

from __future__ import annotations

import pytest

from dotfiles_container_manager import (
    CommandTimeoutError,
    ContainerNotFoundError,
    ContainerOperationError,
    RunConfig,
)
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.docker.container import (
    _KILL_MARKED,
    CLEANUP_TIMEOUT,
    EXEC_KILL_TIMEOUT,
    EXEC_MARKER,
    INTERRUPT_GRACE,
)

from .conftest import CONTAINERS, RUNTIMES, Call, FakeRunner, result

CID = "c40f859d1ff4e19b2c9b48655d5e2007b1ca64d9bc8a60be2b3984b6fb601c28"
BASE = "dcm-test-base:latest"


def created(call: Call) -> CommandResult:
    """`create`/`run -d` that wrote the id to its --cidfile and printed it."""
    with open(call.args[call.args.index("--cidfile") + 1], "w", encoding="ascii") as handle:
        handle.write(CID)
    return result(CID + "\n")


def timed_out(call: Call) -> CommandResult:
    raise CommandTimeoutError("cut short", timeout=call.timeout or 0.0, command=list(call.args))


def removal(runtime: str) -> list[CommandResult]:
    """Answers to a forced removal: podman stops the container first."""
    return [result(CID + "\n")] * (2 if runtime == "podman" else 1)


def verbs(fake: FakeRunner) -> list[str]:
    return [c.args[0] for c in fake.calls]


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("failing", ["start", "wait"])
def test_foreground_run_removes_its_container_when_start_or_wait_fails(
    runtime: str, failing: str
) -> None:
    fake = FakeRunner(runtime, created)
    fake.queue(timed_out if failing == "start" else result(), *([timed_out] * (failing == "wait")))
    fake.queue(*removal(runtime))
    with pytest.raises(CommandTimeoutError):
        CONTAINERS[runtime](fake).run(RunConfig(BASE, command=["sleep", "30"], detach=False))
    steps = ["create", "start"] + (["wait"] if failing == "wait" else [])
    stop = ["stop"] if runtime == "podman" else []
    assert verbs(fake) == [*steps, *stop, "rm"]
    rm = fake.calls[-1]
    assert rm.args[-1] == CID and "-f" in rm.args and "-v" in rm.args
    assert fake.pending == 0


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_cleanup_runs_under_its_own_limit_not_the_cut_short_calls(runtime: str) -> None:
    fake = FakeRunner(runtime, lambda call: (created(call), timed_out(call))[1])
    fake.timeout = 0.15  # the engine's limit, which cut the run short
    fake.queue(*removal(runtime))
    with pytest.raises(CommandTimeoutError):
        CONTAINERS[runtime](fake).run(RunConfig(BASE, detach=True))
    cleanup = fake.calls[1:]
    assert [c.args[0] for c in cleanup] == (["stop", "rm"] if runtime == "podman" else ["rm"])
    assert all(c.timeout is not None and c.timeout >= CLEANUP_TIMEOUT for c in cleanup)


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("detach", [True, False])
def test_create_and_start_get_sigint_first(runtime: str, detach: bool) -> None:
    fake = FakeRunner(runtime, created, result(), result("0\n"))
    CONTAINERS[runtime](fake).run(RunConfig(BASE, detach=detach))
    graced = [c.args[0] for c in fake.calls if c.interrupt_grace == INTERRUPT_GRACE]
    assert graced == (["run"] if detach else ["create", "start"])


def test_forced_removal_waits_for_a_removal_already_in_progress() -> None:
    busy = result(
        b"", f"Error response from daemon: removal of container {CID} is already in progress\n", 1
    )
    present = result("/x\n")
    missing = result(b"", f"Error: No such object: {CID}\n", 1)
    fake = FakeRunner("docker", busy, present, missing)
    CONTAINERS["docker"](fake).remove(CID, force=True)  # returns once it is gone
    assert verbs(fake) == ["rm", "container", "container"]


def test_forced_removal_still_reports_other_failures() -> None:
    fake = FakeRunner("docker", result(b"", "Error response from daemon: boom\n", 1))
    with pytest.raises(ContainerOperationError, match="boom"):
        CONTAINERS["docker"](fake).remove(CID, force=True)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_forced_removal_of_a_missing_container_still_raises(runtime: str) -> None:
    fake = FakeRunner(runtime, *removal(runtime)[1:], result(b"", b"", 0))
    with pytest.raises(ContainerNotFoundError):
        CONTAINERS[runtime](fake).remove("dcm-nope", force=True)


# ---------------------------------------------------------------------------- item 7


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("user", [None, "1000"])
def test_exec_that_times_out_kills_its_marked_processes(runtime: str, user: str | None) -> None:
    fake = FakeRunner(runtime, timed_out, result())
    with pytest.raises(CommandTimeoutError, match="cut short"):
        CONTAINERS[runtime](fake).exec("c1", ["sleep", "300"], user=user, timeout=2)
    exec_call, kill = fake.calls
    marker = exec_call.values("-e")[-1]
    assert marker.startswith(f"{EXEC_MARKER}=") and len(marker) == len(EXEC_MARKER) + 33
    # One more exec, as the same user, in the same container, given the marker as $1.
    prefix = ("exec", *(("-u", user) if user else ()), "c1")
    assert kill.args[: len(prefix)] == prefix
    assert kill.args[-5:-2] == ("sh", "-c", _KILL_MARKED) and kill.args[-2:] == ("sh", marker)
    assert kill.check is False and kill.timeout == EXEC_KILL_TIMEOUT


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize(
    "answer", [result("", "OCI runtime exec failed: sh: not found", 127), timed_out]
)
def test_exec_timeout_is_raised_whatever_the_kill_gives(runtime: str, answer: object) -> None:
    fake = FakeRunner(runtime, timed_out, answer)  # type: ignore[arg-type]
    with pytest.raises(CommandTimeoutError, match="cut short"):
        CONTAINERS[runtime](fake).exec("c1", ["sleep", "300"], timeout=2)
    assert len(fake.calls) == 2


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_exec_markers_differ_and_a_normal_exec_runs_one_process(runtime: str) -> None:
    fake = FakeRunner(runtime, result("a"), result("b"))
    manager = CONTAINERS[runtime](fake)
    manager.exec("c1", ["true"])
    manager.exec("c1", ["true"])
    markers = [c.values("-e")[-1] for c in fake.calls]
    assert len(fake.calls) == 2 and markers[0] != markers[1]
