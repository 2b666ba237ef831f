"""FakeEngine: the in-memory engine, its scripts, its call log and the factory override.

What the fake must do the same as docker and podman is held by the integration suite (which
runs on it too) and by ``tests/integration/test_differential.py``; these tests pin the rest
without any runtime: validation parity, scripting, records, threads, speed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerConflictError,
    ContainerEngine,
    ContainerEngineFactory,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerRuntime,
    ContainerState,
    ExecResult,
    ImageBuildError,
    ImageConflictError,
    ImageNotFoundError,
    InvalidConfigError,
    NetworkConflictError,
    NetworkError,
    NetworkNotFoundError,
    PortMapping,
    PullPolicy,
    RunConfig,
    VolumeConflictError,
    VolumeMount,
    VolumeNotFoundError,
)
from dotfiles_container_manager.testing import (
    Call,
    ExecCall,
    FakeEngine,
    FakePodmanEngine,
    use_engine,
)
from dotfiles_container_manager.testing.dockerfile import parse, substitute

from .test_reliability_unit import BAD_INPUT
from .test_seams import ABC_CASES, RecordingEngine

BASE = "busybox:latest"
RUNTIMES = ("docker", "podman")


@pytest.fixture(params=RUNTIMES)
def engine(request: pytest.FixtureRequest) -> FakeEngine:
    return FakeEngine(request.param, images=[BASE])


def sleeper(**kwargs: Any) -> RunConfig:
    kwargs.setdefault("command", ["sleep", "300"])
    kwargs.setdefault("image", BASE)
    return RunConfig(**kwargs)


# --------------------------------------------------------------------------- the engine


def test_engine_identity() -> None:
    docker = FakeEngine()
    podman = FakeEngine(ContainerRuntime.PODMAN)
    assert isinstance(docker, ContainerEngine) and isinstance(podman, FakeEngine)
    assert (docker.runtime, podman.runtime) == (ContainerRuntime.DOCKER, ContainerRuntime.PODMAN)
    assert FakeEngine("PODMAN").runtime is ContainerRuntime.PODMAN
    assert FakePodmanEngine().networks.exists("podman") and type(podman) is FakePodmanEngine
    assert docker.command == "" and docker.host is None and docker.context is None
    assert docker.probe() is ContainerRuntime.DOCKER and podman.is_available()
    assert docker.version() == "20.10.24" and podman.version() == "4.3.1"
    info = podman.info()
    assert (info.runtime, info.version, info.os, info.storage_driver) == (
        "podman",
        "4.3.1",
        "linux",
        "memory",
    )
    assert repr(podman) == "FakeEngine(runtime='podman')"
    with pytest.raises(InvalidConfigError):
        FakeEngine("lxc")
    with pytest.raises(InvalidConfigError):
        FakeEngine(images="busybox")  # type: ignore[arg-type]


def test_seeded_images_and_predefined_networks(engine: FakeEngine) -> None:
    image = engine.images.inspect("busybox")  # short names resolve as on the CLIs
    assert image.id.startswith("sha256:") and len(image.id) == 71
    assert image.tags == (BASE,)
    assert image.raw["Config"]["Cmd"] == ["/bin/sh"]
    assert engine.images.inspect(image.id[7:19]) == image  # an id prefix works too
    expected = (
        ["podman"] if engine.runtime is ContainerRuntime.PODMAN else ["bridge", "host", "none"]
    )
    assert [n.name for n in engine.networks.list()] == expected
    assert FakeEngine(images=[BASE]).images.inspect(BASE).id == image.id  # deterministic


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [c[1:] for c in BAD_INPUT + ABC_CASES],
    ids=[c[0] for c in BAD_INPUT + ABC_CASES],
)
def test_bad_input_is_refused_as_by_every_engine(call: Any, field: str, value: object) -> None:
    """The fake refuses what the manager ABCs refuse, with the same error, and records no
    call and changes nothing; input the ABCs let through reaches it like any engine."""
    reference = RecordingEngine()
    try:
        call(reference)
        expected: InvalidConfigError | None = None
    except InvalidConfigError as exc:
        expected = exc
    fake = FakeEngine(images=[BASE])
    before = fake.calls
    try:
        call(fake)
        got: Exception | None = None
    except Exception as exc:  # the point is to see which one
        got = exc
    if expected is None:
        assert not isinstance(got, InvalidConfigError) or got.field.startswith("BuildContext")
        return
    assert isinstance(got, InvalidConfigError)
    assert (got.field, got.value) == (expected.field, expected.value)
    assert fake.calls == before == []
    assert fake.containers.list(all=True) == [] and fake.volumes.list() == []


# --------------------------------------------------------------------------- containers


def test_lifecycle_and_conflicts(engine: FakeEngine) -> None:
    c = engine.containers
    cid = c.create(sleeper(name="web", labels={"app": "x"}))
    assert len(cid) == 64 and c.inspect("web").state is ContainerState.CREATED
    assert c.wait(cid) == 0  # a created container: both runtimes answer at once
    with pytest.raises(ContainerConflictError):
        c.create(sleeper(name="web"))
    for action in (c.pause, c.unpause, c.kill):
        with pytest.raises(ContainerConflictError):
            action(cid)
    c.stop(cid)  # a no-op, as on both runtimes
    c.start(cid)
    c.start(cid)  # running: a no-op
    assert c.inspect(cid).running
    c.pause(cid)
    with pytest.raises(ContainerConflictError):
        c.pause(cid)
    with pytest.raises(ContainerConflictError):
        c.exec(cid, ["true"])
    with pytest.raises(ContainerConflictError):
        c.start(cid)
    with pytest.raises(ContainerConflictError):
        c.remove(cid)
    c.unpause(cid)
    with pytest.raises(ContainerConflictError):
        c.unpause(cid)
    with pytest.raises(ContainerConflictError):
        c.remove(cid)
    c.stop(cid, timeout=0)
    stopped = c.inspect(cid)
    assert (stopped.state, stopped.exit_code) == (ContainerState.EXITED, 137)
    with pytest.raises(ContainerConflictError):
        c.exec(cid, ["true"])
    c.restart(cid)
    assert c.inspect(cid).running and c.inspect(cid).exit_code is None
    c.kill(cid)
    assert c.wait(cid) == 137
    c.remove(cid)
    for call in (c.inspect, c.start, c.remove, lambda x: c.remove(x, force=True), c.logs):
        with pytest.raises(ContainerNotFoundError):
            call(cid)
    assert not c.exists("web")


def test_paused_container_follows_the_runtime(engine: FakeEngine) -> None:
    c = engine.containers
    cid = c.run(sleeper())
    c.pause(cid)
    if engine.runtime is ContainerRuntime.PODMAN:
        for action in (c.stop, c.restart):
            with pytest.raises(ContainerConflictError):
                action(cid)
        assert c.inspect(cid).state is ContainerState.PAUSED
    else:
        c.restart(cid, timeout=0)  # docker thaws, kills and starts it again
        assert c.inspect(cid).running
        c.pause(cid)
        c.stop(cid)
        assert c.inspect(cid).exit_code == 137
    c.remove(cid, force=True)


def test_ports_are_picked_at_start_on_docker_and_at_create_on_podman(engine: FakeEngine) -> None:
    c = engine.containers
    cid = c.create(
        sleeper(ports=[PortMapping(80, host_ip="127.0.0.1"), PortMapping(53, 5353, "udp")])
    )
    podman = engine.runtime is ContainerRuntime.PODMAN
    assert bool(c.inspect(cid).ports) is podman
    c.start(cid)
    ports = c.inspect(cid).ports
    assert [(p.container_port, p.protocol) for p in ports] == [(53, "udp"), (80, "tcp")]
    assert ports[0].host_port == 5353 and ports[1].host_port and ports[1].host_ip == "127.0.0.1"
    assert c.inspect(cid).host_port(80) == ports[1].host_port
    other = c.create(sleeper(ports=[PortMapping(81, 5353, "udp")]))
    with pytest.raises(ContainerOperationError):  # the host port is taken
        c.start(other)
    c.stop(cid)
    assert bool(c.inspect(cid).ports) is podman  # docker releases them
    c.start(other)


def test_missing_image_network_bind_path_and_command(engine: FakeEngine, tmp_path: Path) -> None:
    c = engine.containers
    with pytest.raises(ImageNotFoundError):
        c.run(sleeper(image="nothere:1"))
    with pytest.raises(ImageNotFoundError):
        c.run(sleeper(image="nothere:1", pull=PullPolicy.NEVER))
    with pytest.raises(ContainerOperationError):
        c.run(sleeper(volumes=[VolumeMount(str(tmp_path / "missing"), "/x")]))
    with pytest.raises(ContainerOperationError):
        c.create(sleeper(entrypoint=[], command=[]))
    with pytest.raises(NetworkNotFoundError):
        c.run(sleeper(name="n1", network="nope"))
    assert not c.exists("n1")  # run removes what it created
    if engine.runtime is ContainerRuntime.DOCKER:
        cid = c.create(sleeper(network="nope"))  # docker checks at start
        assert c.inspect(cid).networks == ("nope",)
        engine.networks.create("nope")
        c.start(cid)
        assert c.inspect(cid).networks == ("nope",) and c.inspect(cid).running
    assert c.list(all=True) == c.list()


def test_run_pulls_from_the_registry() -> None:
    engine = FakeEngine(registry=["alpine:3.20"])
    cid = engine.containers.run(RunConfig("alpine:3.20", command=["sleep", "1"]))
    assert engine.images.exists("alpine:3.20") and engine.containers.inspect(cid).running
    with pytest.raises(ImageNotFoundError):
        engine.containers.run(RunConfig("alpine:3.21", command=["true"]))


def test_builtin_commands(engine: FakeEngine) -> None:
    c = engine.containers
    cid = c.run(sleeper(environment={"A": "1"}, working_dir="/srv", hostname="box"))

    def run(*command: str, **kwargs: Any) -> tuple[int, str, str]:
        result = c.exec(cid, list(command), **kwargs)
        return result.exit_code, result.stdout, result.stderr

    assert run("true") == (0, "", "")
    assert run("false")[0] == 1
    assert run("echo", "a", "b") == (0, "a b\n", "")
    assert run("/bin/echo", "-n", "a") == (0, "a", "")
    assert run("pwd") == (0, "/srv\n", "")
    assert run("pwd", working_dir="/tmp") == (0, "/tmp\n", "")
    assert run("hostname") == (0, "box\n", "")
    assert run("cat", input=b"in") == (0, "in", "")
    assert run("cat", "/etc/passwd")[0] == 1  # the fake has no files
    assert run("sh", "-c", "exit 4")[0] == 4
    assert "A=1\n" in run("env", environment={"B": "2"})[1]
    assert "B=2\n" in run("env", environment={"B": "2"})[1]
    code, out, err = run("git", "--version")
    assert (code, out) == (127, "") and '"git"' in err and "engine.script.exec" in err


def test_main_builtins_and_wait(engine: FakeEngine) -> None:
    c = engine.containers
    assert c.wait(c.run(sleeper(command=["true"]))) == 0
    assert c.wait(c.run(sleeper(command=["sh", "-c", "exit 7"]))) == 7
    echo = c.run(sleeper(command=["echo", "hello"]))
    assert c.inspect(echo).state is ContainerState.EXITED and c.logs(echo) == "hello\n"
    short = c.run(sleeper(command=["sleep", "5"]))
    assert c.inspect(short).running and c.wait(short) == 0  # fake time: no waiting
    long = c.run(sleeper())
    with pytest.raises(CommandTimeoutError) as caught:
        c.wait(long, timeout=3)
    assert caught.value.timeout == 3 and "wait" in caught.value.command
    assert c.wait(long, timeout=600) == 0
    gone = c.run(sleeper(command=["true"], remove=True))
    assert not c.exists(gone)
    attached = c.run(sleeper(command=["echo", "done"], detach=False))
    assert c.inspect(attached).state is ContainerState.EXITED
    with pytest.raises(CommandTimeoutError):
        c.run(sleeper(detach=False))  # never exits: the wait runs out, as it would


def test_logs_streams_tail_since_timestamps(engine: FakeEngine) -> None:
    c = engine.containers
    engine.script.run(BASE, ["job"], exit_code=0, stdout="one\ntwo\n", stderr="err\n")
    cid = c.run(sleeper(command=["job"]))
    assert c.logs(cid) == "one\ntwo\nerr\n"
    assert c.logs(cid, stderr=False) == "one\ntwo\n"
    assert c.logs_bytes(cid, stdout=False) == b"err\n"
    assert c.logs(cid, stdout=False, stderr=False) == ""
    assert c.logs(cid, tail=1) == "err\n" and c.logs(cid, tail=0) == ""
    assert c.logs(cid, since="1h") == c.logs(cid)
    assert c.logs(cid, since="2099-01-01T00:00:00Z") == ""
    assert c.logs(cid, since=str(int(time.time()) + 3600)) == ""
    stamped = c.logs(cid, timestamps=True, stderr=False).splitlines()
    assert stamped[0].endswith("Z one") and stamped[0][:2] == "20"
    with pytest.raises(ContainerOperationError):
        c.logs(cid, since="yesterday")
    c.start(cid)  # a restart writes again
    assert c.logs(cid, stderr=False) == "one\ntwo\none\ntwo\n"


# --------------------------------------------------------------------------- scripting


def test_scripted_exec_precedence_and_handlers(engine: FakeEngine) -> None:
    c, script = engine.containers, engine.script
    web = c.run(sleeper(name="web"))
    db = c.run(sleeper(name="db"))
    script.exec(None, ["git"], stdout="any\n")
    script.exec(BASE, ["git"], stdout="image\n")
    script.exec("web", ["git"], stdout="web\n")
    script.exec(BASE, ["git", "status"], exit_code=128, stderr="not a repository\n")
    assert c.exec(web, ["git", "log"]).stdout == "web\n"  # the container's rule first
    assert c.exec(db, ["git", "log"]).stdout == "image\n"
    assert c.exec(db, ["git", "status"]).exit_code == 128  # the image's rules: the newest
    seen: list[ExecCall] = []

    def handler(call: ExecCall) -> ExecResult:
        seen.append(call)
        return ExecResult(0, call.environment["TOKEN"].encode() + (call.input or b""))

    script.exec(db, ["login"], handler)
    assert c.exec(db, ["login", "-u", "me"], environment={"TOKEN": "t"}, input=b"!").stdout == "t!"
    assert seen[0].command == ("login", "-u", "me") and seen[0].container_name == "db"
    assert seen[0].working_dir == "/" and seen[0].image == BASE
    script.exec(db, ["bad"], lambda call: "nope")  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError):
        c.exec(db, ["bad"])
    script.clear()
    assert c.exec(web, ["git", "log"]).exit_code == 127
    with pytest.raises(InvalidConfigError):
        script.exec(BASE, "git status")  # type: ignore[arg-type]
    with pytest.raises(InvalidConfigError):
        script.exec(BASE, ["git"], exit_code=300)


def test_scripted_main_process(engine: FakeEngine) -> None:
    c, script = engine.containers, engine.script
    engine.images.build(BuildContext("FROM busybox\nLABEL job=1\n"), "job:1")
    script.run("job:1", exit_code=3, stdout="failed\n")
    job = c.run(RunConfig("job:1"))  # the image's CMD runs: the rule has no prefix
    assert (c.inspect(job).state, c.inspect(job).exit_code, c.logs(job)) == (
        ContainerState.EXITED,
        3,
        "failed\n",
    )
    script.run(None, ["serve"], exit_code=None, stdout="ready\n", sigterm_exit_code=0)
    server = c.run(sleeper(command=["serve", "--port", "80"]))
    assert c.inspect(server).running and c.logs(server) == "ready\n"
    c.kill(server, "HUP")  # no handler: ignored
    assert c.inspect(server).running
    c.stop(server)  # handles SIGTERM: exits 0, not 137
    assert c.inspect(server).exit_code == 0
    script.run(None, ["batch"], exit_code=5, exit_on="wait")
    batch = c.run(sleeper(command=["batch"]))
    assert c.inspect(batch).running and c.wait(batch) == 5
    assert c.inspect(batch).state is ContainerState.EXITED
    term = c.run(sleeper(command=["serve"]))
    c.kill(term, "SIGTERM")
    assert c.inspect(term).exit_code == 0
    with pytest.raises(InvalidConfigError):
        script.run(None, exit_code=0, exit_on="later")  # type: ignore[arg-type]


def test_script_exit_and_log(engine: FakeEngine) -> None:
    c, script = engine.containers, engine.script
    cid = c.run(sleeper(name="svc"))
    script.log("svc", stdout="line 1\n")
    script.log(cid, stderr=b"warn\n")
    assert c.logs(cid) == "line 1\nwarn\n"
    script.exit("svc", 2, stderr="crash\n")
    assert c.wait(cid) == 2 and c.logs(cid, stdout=False) == "warn\ncrash\n"
    with pytest.raises(ContainerConflictError):
        script.exit(cid, 1)
    with pytest.raises(ContainerNotFoundError):
        script.log("nothere", stdout="x")
    removed = c.run(sleeper(remove=True))
    script.exit(removed, 0)
    assert not c.exists(removed)


# --------------------------------------------------------------------------- lists


def test_list_filters(engine: FakeEngine) -> None:
    c = engine.containers
    a = c.run(sleeper(name="app-a", labels={"app": "x", "tier": "web"}))
    b = c.run(sleeper(name="app-b", labels={"app": "x"}))
    done = c.run(sleeper(name="done", command=["true"], labels={"app": "x"}))
    names = lambda **kw: sorted(x.name for x in c.list(**kw))  # noqa: E731
    assert names() == ["app-a", "app-b"]
    assert names(all=True) == ["app-a", "app-b", "done"]
    assert names(filters={"label": ["app=x", "tier=web"]}) == ["app-a"]  # every label
    assert names(all=True, filters={"status": ["running", "exited"]}) == [
        "app-a",
        "app-b",
        "done",
    ]  # any status
    assert names(filters={"name": "^app-"}) == ["app-a", "app-b"]
    assert names(filters={"id": b[:8]}) == ["app-b"]
    assert names(all=True, filters={"exited": "0"}) == ["done"]
    assert names(filters={"ancestor": "busybox"}) == ["app-a", "app-b"]
    network = "bridge" if engine.runtime is ContainerRuntime.DOCKER else "podman"
    assert names(filters={"network": network}) == ["app-a", "app-b"]
    # docker's ps shows stopped containers when a status is asked for; podman's does not
    docker = engine.runtime is ContainerRuntime.DOCKER
    assert names(filters={"status": "exited"}) == (["done"] if docker else [])
    assert [x.id for x in c.list(all=True)] == ([done, b, a] if docker else [a, b, done])
    with pytest.raises(ContainerOperationError):
        c.list(filters={"bogus": "1"})
    with pytest.raises(ContainerOperationError):
        c.list(filters={"status": "sleepy"})
    with pytest.raises(NotImplementedError):
        c.list(filters={"health": "healthy"})
    listed = {x.id: x for x in c.list()}
    assert listed[a] == c.inspect(a).__class__(**{**c.inspect(a).__dict__, "image_id": None})
    assert c.prune(filters={"label": "app=x"}) == [done]


def test_records_are_snapshots(engine: FakeEngine) -> None:
    cid = engine.containers.run(sleeper(labels={"a": "1"}))
    first = engine.containers.inspect(cid)
    first.labels["a"] = "changed"  # type: ignore[index]  # a user editing a record
    engine.containers.stop(cid)
    again = engine.containers.inspect(cid)
    assert again.labels == {"a": "1"} and first.state is ContainerState.RUNNING
    assert again.raw["State"]["Status"] == "exited" and again.raw["Config"]["Cmd"] == [
        "sleep",
        "300",
    ]


# --------------------------------------------------------------------------- images

DOCKERFILE = """\
# escape=\\
ARG BASE=busybox:latest
FROM $BASE AS build
ARG VERSION=1
ENV APP=/app \\
    VERSION=$VERSION
LABEL org.example.version=${VERSION} "with space"="yes"
WORKDIR $APP
WORKDIR sub
USER app
EXPOSE 8080 53/udp
COPY src/ ./
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s CMD ["check"]
ENTRYPOINT ["app"]
CMD ["--serve"]
"""


def test_build_reads_the_dockerfile(engine: FakeEngine) -> None:
    context = BuildContext(
        DOCKERFILE,
        files={"src/main.py": "print()"},
        build_args={"VERSION": "2"},
        labels={"team": "dotfiles"},
        tags=["app:latest"],
    )
    image_id = engine.images.build(context, "app:2")
    info = engine.images.inspect("app:2")
    assert info.id == image_id and set(info.tags) == {"app:2", "app:latest"}
    config = info.raw["Config"]
    assert config["Env"][-2:] == ["APP=/app", "VERSION=2"]
    assert (config["Entrypoint"], config["Cmd"]) == (["app"], ["--serve"])
    assert (config["WorkingDir"], config["User"]) == ("/app/sub", "app")
    assert config["ExposedPorts"] == {"8080/tcp": {}, "53/udp": {}}
    assert config["Volumes"] == {"/data": {}} and config["StopSignal"] == "SIGINT"
    assert config["Healthcheck"] == {"Test": ["CMD", "check"], "Interval": 5_000_000_000}
    expected = {"org.example.version": "2", "with space": "yes", "team": "dotfiles"}
    if engine.runtime is ContainerRuntime.PODMAN:
        expected["io.buildah.version"] = "1.28.2"
    assert info.labels == expected and info.size > 0
    assert engine.images.build(context, "app:again") == image_id  # same content, same id
    changed = BuildContext(
        DOCKERFILE, files={"src/main.py": "print(1)"}, build_args={"VERSION": "2"}
    )
    assert engine.images.build(changed, "app:3") != image_id
    nocache = BuildContext("FROM busybox\nRUN date\n", no_cache=True)
    assert engine.images.build(nocache, "t:1") != engine.images.build(nocache, "t:1")
    # a container of it runs its entrypoint + command, with its environment
    cid = engine.containers.run(RunConfig("app:2", environment={"EXTRA": "1"}))
    raw = engine.containers.inspect(cid).raw
    assert (raw["Path"], raw["Args"]) == ("app", ["--serve"])
    assert "VERSION=2" in raw["Config"]["Env"] and "EXTRA=1" in raw["Config"]["Env"]
    assert engine.containers.inspect(cid).labels["team"] == "dotfiles"
    assert engine.volumes.list(filters={"dangling": "false"})  # an anonymous /data volume


@pytest.mark.parametrize(
    ("dockerfile", "kwargs"),
    [
        ("FROM nothere:1\n", {}),
        ("", {}),
        ("LABEL a=b\n", {}),
        ("FROM busybox\nFOO bar\n", {}),
        ("FROM busybox\nCOPY missing.txt /x\n", {}),
        ("FROM busybox\nADD https://example.com/x /x\n", {}),
        ("FROM busybox AS a\n", {"target": "b"}),
        ("FROM busybox\n", {"pull": True}),  # --pull asks the registry: there is none
    ],
)
def test_build_failures(engine: FakeEngine, dockerfile: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ImageBuildError) as caught:
        engine.images.build(BuildContext(dockerfile or "# nothing\n", **kwargs), "bad:1")
    assert caught.value.command[:2] == [engine.runtime.value, "build"]
    assert caught.value.output and caught.value.exit_code
    assert engine.calls[-1].method == "build" and not engine.images.exists("bad:1")


def test_build_stages_scratch_and_copy_sources(engine: FakeEngine) -> None:
    multi = BuildContext(
        "FROM busybox AS base\nENV A=1\nFROM base AS final\nENV B=2\nFROM scratch\n"
        "COPY --from=final /x /x\nCOPY *.txt dir /\n",
        files={"a.txt": "a", "dir/b": "b"},
    )
    scratch = engine.images.inspect(engine.images.build(multi, "m:1")).raw["Config"]
    assert scratch["Cmd"] is None and scratch["Env"] == [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    ]
    final = engine.images.inspect(
        engine.images.build(
            BuildContext(multi.dockerfile, files=multi.files, target="final"), "m:2"
        )
    )
    assert final.raw["Config"]["Env"][-2:] == ["A=1", "B=2"]


def test_image_removal_rules(engine: FakeEngine) -> None:
    images, c = engine.images, engine.containers
    images.build(BuildContext("FROM busybox\nLABEL app=1\n"), "app:1")
    images.tag("app:1", "app:alias")
    with pytest.raises(ImageConflictError):
        images.remove(images.inspect("app:1").id)  # two tags: by id needs force
    cid = c.create(RunConfig("app:1", command=["true"]))
    images.remove("app:alias")  # another tag remains: untagged only
    with pytest.raises(ImageConflictError):
        images.remove("app:1")  # the last tag of an image in use
    images.remove("app:1", force=True)
    assert not images.exists("app:1") and c.exists(cid)  # never removes containers
    image_id = c.inspect(cid).image_id
    assert image_id is not None
    if engine.runtime is ContainerRuntime.PODMAN:
        assert images.exists(image_id)  # untagged, kept for its container
    else:
        assert not images.exists(image_id)  # docker deletes it under a stopped container
    with pytest.raises(ImageNotFoundError):
        images.remove("app:1", force=True)


def test_image_tags_list_and_prune(engine: FakeEngine) -> None:
    images = engine.images
    first = images.build(
        BuildContext("FROM busybox\nRUN date\n", labels={"p": "1"}, no_cache=True), "p:1"
    )
    second = images.build(
        BuildContext("FROM busybox\nRUN date\n", labels={"p": "1"}, no_cache=True), "p:1"
    )
    assert images.inspect(first).tags == () and images.inspect(second).tags == ("p:1",)
    assert [i.id for i in images.list(filters={"dangling": "true"})] == [first]
    assert [i.tags for i in images.list(filters={"reference": "p"})] == [("p:1",)]
    assert {i.id for i in images.list(filters={"label": "p=1"})} == {first, second}
    assert images.prune(filters={"label": "p=1"}) == [first]
    assert images.prune(all=True, filters={"label": "p=1"}) == [second]
    assert images.list(filters={"label": "p=1"}) == []
    with pytest.raises(NotImplementedError):  # known to the CLIs, not simulated
        images.list(filters={"until": "1h"})


def test_pull_and_push_through_the_fake_registry() -> None:
    engine = FakeEngine(registry=["alpine:3.20"])
    with pytest.raises(ImageNotFoundError):
        engine.images.pull("nothere:1")
    pulled = engine.images.pull("alpine:3.20")
    assert engine.images.pull("alpine:3.20") == pulled == engine.images.inspect("alpine:3.20").id
    with pytest.raises(ImageNotFoundError):
        engine.images.push("mine:1")
    engine.images.build(BuildContext("FROM alpine:3.20\nLABEL v=1\n"), "registry.example/mine:1")
    engine.images.push("registry.example/mine:1")
    built = engine.images.inspect("registry.example/mine:1")
    engine.images.remove("registry.example/mine:1")
    assert engine.images.pull("registry.example/mine:1") == built.id
    assert engine.images.inspect(built.id).labels == {"v": "1"}


# --------------------------------------------------------------------------- volumes and networks


def test_volumes(engine: FakeEngine) -> None:
    v = engine.volumes
    assert v.create("data", labels={"a": "1"}) == "data"
    with pytest.raises(VolumeConflictError):
        v.create("data")
    assert v.create("data", labels={"b": "2"}, exist_ok=True) == "data"
    assert v.inspect("data").labels == {"a": "1"}  # kept as it was
    anonymous = v.create()
    assert len(anonymous) == 64 and v.inspect(anonymous).mountpoint.endswith(f"{anonymous}/_data")
    cid = engine.containers.create(
        sleeper(volumes=[VolumeMount("data", "/d"), VolumeMount("auto", "/e")])
    )
    assert v.exists("auto")  # a named mount makes its volume
    for force in (False, True):
        with pytest.raises(VolumeConflictError):
            v.remove("data", force=force)
    assert sorted(x.name for x in v.list(filters={"dangling": "true"})) == [anonymous]
    assert sorted(v.prune()) == [anonymous]
    engine.containers.remove(cid)
    v.remove("data")
    with pytest.raises(VolumeNotFoundError):
        v.remove("data")
    v.remove("data", force=True)
    listed = v.list(filters={"name": "aut"})[0]
    docker = engine.runtime is ContainerRuntime.DOCKER
    assert (listed.created is None) is docker  # docker's volume ls prints no time


def test_networks(engine: FakeEngine) -> None:
    n, c = engine.networks, engine.containers
    net = n.create("net1", labels={"a": "1"}, subnet="10.1.0.0/24", internal=True)
    info = n.inspect(net)
    assert (info.id, info.name, info.subnets, info.internal) == (
        net,
        "net1",
        ("10.1.0.0/24",),
        True,
    )
    assert n.inspect(net[:12]) == info and n.exists("net1")
    with pytest.raises(NetworkConflictError):
        n.create("net1")
    with pytest.raises(NetworkError):
        n.create("net2", subnet="10.1.0.0/25")  # overlaps
    with pytest.raises(NetworkError):
        n.create("net2", subnet="nonsense")
    auto = n.inspect(n.create("net2")).subnets[0]
    assert auto == (
        "10.89.0.0/24" if engine.runtime is ContainerRuntime.PODMAN else "172.18.0.0/16"
    )
    cid = c.create(sleeper(network="net1"))
    with pytest.raises(NetworkConflictError):
        n.remove("net1")  # a created container is attached
    with pytest.raises(NetworkConflictError):
        n.connect("net1", cid)
    n.connect("net2", cid, aliases=["db"])
    assert c.inspect(cid).networks == ("net1", "net2")
    assert c.inspect(cid).raw["NetworkSettings"]["Networks"]["net2"]["Aliases"][0] == "db"
    n.disconnect("net2", cid)
    with pytest.raises(NetworkConflictError):
        n.disconnect("net2", cid)
    with pytest.raises(ContainerNotFoundError):
        n.connect("nothere", "nothere")  # the container is looked for first
    with pytest.raises(NetworkNotFoundError):
        n.connect("nothere", cid)
    assert n.prune() == ["net2"]
    c.remove(cid)
    n.remove(net)
    default = "podman" if engine.runtime is ContainerRuntime.PODMAN else "bridge"
    with pytest.raises(NetworkError):
        n.remove(default)


# --------------------------------------------------------------------------- calls


def test_every_call_is_recorded(engine: FakeEngine) -> None:
    config = sleeper(name="web")
    cid = engine.containers.run(config)
    engine.containers.exec(cid, ["true"], environment={"K": "v"})
    with pytest.raises(ContainerConflictError):
        engine.containers.unpause(cid)
    with pytest.raises(InvalidConfigError):
        engine.containers.start("--rm")  # refused before the engine: not a call
    engine.version()
    calls = engine.calls
    assert calls[0] == Call("containers", "run", {"config": config})
    assert (calls[1].method, calls[1].args["command"], calls[1].args["environment"]) == (
        "exec",
        ("true",),
        {"K": "v"},
    )
    assert calls[2] == Call("containers", "unpause", {"container": cid})
    assert calls[3] == Call("engine", "version", {})
    assert len(calls) == 4
    calls.clear()  # a copy
    assert len(engine.calls) == 4
    engine.clear_calls()
    assert engine.calls == []
    with engine.containers.running(sleeper()) as other:
        pass
    assert [call.method for call in engine.calls] == ["create", "start", "remove"]
    assert engine.calls[2].args == {"container": other, "force": True, "volumes": True}


def test_errors_look_like_the_clis() -> None:
    for runtime, code in (("docker", 1), ("podman", 125)):
        engine = FakeEngine(runtime)
        with pytest.raises(ContainerNotFoundError) as caught:
            engine.containers.inspect("nothere")
        error = caught.value
        assert error.command == [runtime, "container", "inspect", "nothere"]
        assert error.exit_code == code and error.stderr.startswith(("Error", "Error response"))
        assert "nothere" in str(error)


# --------------------------------------------------------------------------- the factory


def test_use_engine_overrides_the_factory() -> None:
    fake, inner = FakeEngine(), FakeEngine("podman")
    with use_engine(fake) as given:
        assert given is fake
        assert ContainerEngineFactory.create() is fake
        assert ContainerEngineFactory.create("podman", timeout=5) is fake
        assert ContainerEngineFactory.detect() is ContainerRuntime.DOCKER
        assert ContainerEngineFactory.available_runtimes() == [ContainerRuntime.DOCKER]
        with pytest.raises(InvalidConfigError):
            ContainerEngineFactory.create("lxc")
        with pytest.raises(InvalidConfigError):
            ContainerEngineFactory.create(timeout=0)
        with use_engine(inner):
            assert ContainerEngineFactory.create() is inner
            seen: list[ContainerEngine] = []
            thread = threading.Thread(target=lambda: seen.append(ContainerEngineFactory.create()))
            thread.start()
            thread.join()
            assert seen == [inner]  # process-wide
        assert ContainerEngineFactory.create() is fake
        with pytest.raises(RuntimeError), use_engine(inner):
            raise RuntimeError("the test failed")
        assert ContainerEngineFactory.create() is fake
    from dotfiles_container_manager import factory

    assert factory._overrides == []
    with pytest.raises(TypeError), use_engine("docker"):  # type: ignore[type-var]
        pass


# --------------------------------------------------------------------------- threads and speed


def test_threads_share_one_engine() -> None:
    """32 threads run, exec, stop and remove on one engine; every id and name is unique and
    nothing is left."""
    engine = FakeEngine(images=[BASE])
    engine.script.exec(BASE, ["whoami"], lambda call: ExecResult(0, call.container_name.encode()))
    barrier = threading.Barrier(32)

    def worker(i: int) -> list[str]:
        barrier.wait()
        ids = []
        for j in range(50):
            cid = engine.containers.run(sleeper(name=f"w{i}-{j}", labels={"w": str(i)}))
            assert engine.containers.exec(cid, ["whoami"]).stdout == f"w{i}-{j}"
            engine.containers.stop(cid)
            engine.containers.remove(cid)
            ids.append(cid)
        engine.volumes.create(f"v{i}")
        if i % 4 == 0:  # docker's address pools run out after 30 networks, the fake's too
            engine.networks.create(f"n{i}")
        return ids

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(worker, range(32)))
    assert len(engine.calls) == 32 * (50 * 4 + 1) + 8
    ids = [cid for chunk in results for cid in chunk]
    assert len(set(ids)) == 32 * 50
    assert engine.containers.list(all=True) == []
    assert len(engine.volumes.list()) == 32 and len(engine.networks.list()) == 8 + 3


def test_lifecycles_are_fast() -> None:
    """A guard against a pathological slowdown, far below the measured rate (see
    docs/performance.md): 2,000 create/start/stop/remove cycles in under 2 s."""
    engine = FakeEngine(images=[BASE])
    config = sleeper()
    c = engine.containers
    started = time.perf_counter()
    for _ in range(2000):
        cid = c.create(config)
        c.start(cid)
        c.stop(cid)
        c.remove(cid)
    assert time.perf_counter() - started < 2.0


def test_the_example_passes_under_pytest() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "test_with_fake_engine.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and "failed" not in done.stdout


# --------------------------------------------------------------------------- the Dockerfile reader


def test_dockerfile_parsing() -> None:
    instructions = parse("# comment\n\nfrom busybox\nRUN a \\\n  # inside\n  b\nenv A=1\n")
    assert [(i.keyword, i.text, i.line) for i in instructions] == [
        ("FROM", "busybox", 3),
        ("RUN", "a b", 4),
        ("ENV", "A=1", 7),
    ]
    backtick = parse("# escape=`\nFROM x\nRUN a `\n b\n")
    assert backtick[1].text == "a b"
    env = {"A": "1", "EMPTY": ""}
    assert substitute("$A ${A} ${B:-x} ${A:+y} ${B:+y} \\$A ${EMPTY:-d}", env) == "1 1 x y  $A d"
