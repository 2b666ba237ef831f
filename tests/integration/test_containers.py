"""Containers on real docker and podman: every ContainerManager method."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    ContainerConflictError,
    ContainerEngine,
    ContainerInfo,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerState,
    ExecResult,
    ImageNotFoundError,
    PortMapping,
    RestartPolicy,
    VolumeMount,
)

from .conftest import Resources


def test_run_inspect_list_remove(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("c")
    cid = engine.containers.run(
        res.config(
            name=name,
            labels={"role": "web", "note": "a=b"},
            ports=[PortMapping(80, host_ip="127.0.0.1")],
            restart_policy=RestartPolicy.ON_FAILURE,
            restart_max_retries=2,
        )
    )
    try:
        assert len(cid) == 64
        info = engine.containers.inspect(name)
        assert isinstance(info, ContainerInfo)
        assert (info.id, info.name, info.state) == (cid, name, ContainerState.RUNNING)
        assert info.image == "dcm-test-base:latest"
        assert info.labels["role"] == "web" and info.labels["note"] == "a=b"
        assert info.image_id and info.image_id.startswith("sha256:")
        assert info.created is not None and info.created.tzinfo is not None
        assert [(p.container_port, p.host_ip) for p in info.ports] == [(80, "127.0.0.1")]
        listed = engine.containers.list(filters={"label": f"dcm-test={res.labels['dcm-test']}"})
        mine = [c for c in listed if c.id == cid]
        assert len(mine) == 1
        # list() and inspect() describe the container the same way (inspect adds image_id)
        assert mine[0] == ContainerInfo(**{**info.__dict__, "image_id": None})
        assert engine.containers.exists(cid) and engine.containers.exists(name)
    finally:
        engine.containers.remove(cid, force=True)
    assert not engine.containers.exists(cid)


def test_create_start_stop_restart(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.create(res.config(name=res.name()))
    try:
        assert engine.containers.inspect(cid).state is ContainerState.CREATED
        engine.containers.start(cid)
        assert engine.containers.inspect(cid).state is ContainerState.RUNNING
        engine.containers.stop(cid, timeout=1)
        stopped = engine.containers.inspect(cid)
        assert stopped.state is ContainerState.EXITED
        assert stopped.exit_code == 137  # sleep ignores SIGTERM as PID 1: killed after 1 s
        engine.containers.restart(cid, timeout=1)
        assert engine.containers.inspect(cid).state is ContainerState.RUNNING
    finally:
        engine.containers.remove(cid, force=True)


def test_kill_pause_unpause_and_listing_paused(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config())
    try:
        engine.containers.pause(cid)
        assert engine.containers.inspect(cid).state is ContainerState.PAUSED
        # paused containers are listed without all=True on every runtime
        running = {c.id: c.state for c in engine.containers.list()}
        assert running.get(cid) is ContainerState.PAUSED
        with pytest.raises(ContainerConflictError):
            engine.containers.pause(cid)
        engine.containers.unpause(cid)
        with pytest.raises(ContainerConflictError):
            engine.containers.unpause(cid)
        engine.containers.kill(cid, signal="SIGKILL")
        assert engine.containers.wait(cid) == 137
        assert cid not in {c.id for c in engine.containers.list()}
        assert cid in {c.id for c in engine.containers.list(all=True)}
        with pytest.raises(ContainerConflictError):
            engine.containers.kill(cid)
    finally:
        engine.containers.remove(cid, force=True)


@pytest.mark.real_only("a shell's output, environment and standard input")
def test_exec(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config())
    try:
        result = engine.containers.exec(
            cid,
            ["sh", "-c", "echo out $SECRET; echo err >&2; pwd; exit 7"],
            environment={"SECRET": "s3"},
            working_dir="/tmp",
        )
        assert isinstance(result, ExecResult)
        assert (result.exit_code, result.stdout, result.stderr) == (7, "out s3\n/tmp\n", "err\n")
        piped = engine.containers.exec(cid, ["cat"], input=b"through stdin")
        assert piped.stdout == "through stdin" and piped.ok
        binary = engine.containers.exec(cid, ["printf", "\\377\\376ok"])
        assert binary.stdout_bytes == b"\xff\xfeok" and binary.stdout == "\ufffd\ufffdok"
        missing = engine.containers.exec(cid, ["dcm-no-such-binary"])
        assert missing.exit_code == 127 and "dcm-no-such-binary" in missing.stderr
        assert missing.stdout == ""
        engine.containers.stop(cid, timeout=0)
        with pytest.raises(ContainerConflictError):
            engine.containers.exec(cid, ["true"])
    finally:
        engine.containers.remove(cid, force=True)


@pytest.mark.real_only("a shell's output on both streams")
def test_logs_and_wait(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(
        res.config(command=["sh", "-c", "echo one; echo two >&2; echo three; exit 5"])
    )
    try:
        assert engine.containers.wait(cid) == 5
        logs = engine.containers.logs(cid)
        assert sorted(logs.splitlines()) == ["one", "three", "two"]
        assert engine.containers.logs(cid, stderr=False) == "one\nthree\n"
        assert engine.containers.logs(cid, stdout=False) == "two\n"
        # --tail counts lines across both streams (their order differs between runtimes)
        assert len(engine.containers.logs(cid, tail=1).splitlines()) == 1
        assert engine.containers.logs(cid, tail=0) == ""
        stamped = engine.containers.logs(cid, timestamps=True, stderr=False)
        assert stamped.splitlines()[0].endswith(" one") and stamped[:2] == "20"
        assert engine.containers.logs_bytes(cid, stderr=False) == b"one\nthree\n"
        info = engine.containers.inspect(cid)
        assert info.state is ContainerState.EXITED and info.exit_code == 5
    finally:
        engine.containers.remove(cid)


@pytest.mark.real_only("a shell's output")
def test_run_attached_returns_after_exit(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config(command=["sh", "-c", "echo done"], detach=False))
    try:
        assert engine.containers.inspect(cid).state is ContainerState.EXITED
        assert engine.containers.logs(cid) == "done\n"
        assert engine.containers.wait(cid) == 0
    finally:
        engine.containers.remove(cid)


def test_remove_force_is_immediate(engine: ContainerEngine, res: Resources) -> None:
    # PID 1 ignores SIGTERM: a SIGTERM-then-wait removal (podman's default) takes 10 s.
    cid = engine.containers.run(res.config())
    started = time.monotonic()
    engine.containers.remove(cid, force=True)
    assert time.monotonic() - started < 8, "force removal waited for the stop timeout"
    assert not engine.containers.exists(cid)


def test_remove_running_without_force_conflicts(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config())
    try:
        with pytest.raises(ContainerConflictError):
            engine.containers.remove(cid)
    finally:
        engine.containers.remove(cid, force=True)


def test_prune_removes_stopped_labelled(engine: ContainerEngine, res: Resources) -> None:
    stopped = engine.containers.run(res.config(command=["true"]))
    running = engine.containers.run(res.config())
    try:
        engine.containers.wait(stopped)
        pruned = engine.containers.prune(filters={"label": f"dcm-test={res.labels['dcm-test']}"})
        assert stopped in pruned and running not in pruned
        assert not engine.containers.exists(stopped)
        assert engine.containers.exists(running)
    finally:
        engine.containers.remove(running, force=True)
        if engine.containers.exists(stopped):
            engine.containers.remove(stopped)


def test_running_context_manager_removes_on_error(engine: ContainerEngine, res: Resources) -> None:
    seen: list[str] = []
    with pytest.raises(RuntimeError), engine.containers.running(res.config()) as cid:
        seen.append(cid)
        raise RuntimeError("body failed")
    assert seen and not engine.containers.exists(seen[0])


def test_missing_container_errors(engine: ContainerEngine) -> None:
    missing = "dcm-missing-container"
    assert not engine.containers.exists(missing)
    calls = [
        engine.containers.inspect,
        engine.containers.start,
        engine.containers.stop,
        engine.containers.restart,
        engine.containers.kill,
        engine.containers.pause,
        engine.containers.unpause,
        engine.containers.remove,
        engine.containers.logs,
        engine.containers.wait,
        lambda c: engine.containers.remove(c, force=True),
        lambda c: engine.containers.exec(c, ["true"]),
    ]
    for call in calls:
        with pytest.raises(ContainerNotFoundError) as info:
            call(missing)
        assert missing in " ".join(info.value.command) or not info.value.command


def test_run_with_missing_image(engine: ContainerEngine, res: Resources) -> None:
    with pytest.raises(ImageNotFoundError):
        engine.containers.run(res.config(image="dcm-missing-image:1"))


def test_bind_mount_of_missing_host_path_fails(
    engine: ContainerEngine, res: Resources, tmp_path: Path
) -> None:
    # docker's -v would create the directory (root-owned); --mount refuses, as podman does
    missing = tmp_path / "not-there"
    config = res.config(command=["true"], volumes=[VolumeMount(str(missing), "/x")])
    with pytest.raises(ContainerOperationError):
        engine.containers.run(config)
    assert not missing.exists()


@pytest.mark.real_only("the runtime's PATH lookup of the main command")
def test_run_that_cannot_start_leaves_nothing(engine: ContainerEngine, res: Resources) -> None:
    # The container is created, then its start fails: run() removes it again.
    name = res.name("nostart")
    with pytest.raises(ContainerOperationError):
        engine.containers.run(res.config(name=name, command=["dcm-no-such-binary"]))
    assert not engine.containers.exists(name)
