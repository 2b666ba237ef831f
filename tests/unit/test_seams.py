"""The seams: validation in the ABCs, engines that take their runner, the factory's registry,
and no import cycle in the package.

The bad-input cases of ``test_reliability_unit`` (plus the checks the ABCs added) run against
every engine class: docker and podman through a recording CLI shim and through an injected
runner, the in-memory FakeEngine (docker and podman flavours), and an engine written against
the ABCs alone whose hooks record every call. Each must
refuse the input with the same :class:`InvalidConfigError` and do nothing at all.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngine,
    ContainerEngineFactory,
    ContainerManager,
    ContainerRuntime,
    ImageManager,
    InvalidConfigError,
    NetworkManager,
    RunConfig,
    RuntimeNotAvailableError,
    VolumeManager,
)
from dotfiles_container_manager.core.types import EngineInfo
from dotfiles_container_manager.implementations.docker import DockerEngine
from dotfiles_container_manager.implementations.podman import PodmanEngine
from dotfiles_container_manager.testing import FakeEngine

from .conftest import ENGINES, FakeRunner, recorded, result
from .test_reliability_unit import BAD_INPUT, IMG, SECRET, Recorder

SRC = Path(__file__).resolve().parents[2] / "src" / "dotfiles_container_manager"


# --------------------------------------------------------------------------- engines


def _recording(abc: type, hooks: list[str]) -> Any:
    """A subclass of a manager ABC whose every hook records its name and returns None."""

    def hook(name: str) -> Callable[..., None]:
        def call(self: object, *args: object) -> None:
            hooks.append(name)

        return call

    cls = type(f"Recording{abc.__name__}", (abc,), {m: hook(m) for m in abc.__abstractmethods__})
    return cls()


class RecordingEngine(ContainerEngine):
    """An engine written against the ABCs only: no CLI, no runner, every hook recorded."""

    runtime = ContainerRuntime.DOCKER

    def __init__(self) -> None:
        self.hooks: list[str] = []
        self._managers = [
            _recording(abc, self.hooks)
            for abc in (ImageManager, ContainerManager, VolumeManager, NetworkManager)
        ]

    @property
    def images(self) -> ImageManager:
        return self._managers[0]  # type: ignore[no-any-return]

    @property
    def containers(self) -> ContainerManager:
        return self._managers[1]  # type: ignore[no-any-return]

    @property
    def volumes(self) -> VolumeManager:
        return self._managers[2]  # type: ignore[no-any-return]

    @property
    def networks(self) -> NetworkManager:
        return self._managers[3]  # type: ignore[no-any-return]

    def probe(self) -> ContainerRuntime:
        return self.runtime

    def version(self) -> str:
        return "0"

    def info(self) -> EngineInfo:
        return EngineInfo(runtime="recording", version="0")


class Subject:
    """An engine under test, and how to tell whether it did anything."""

    def __init__(self, engine: ContainerEngine, activity: Callable[[], list[str]]) -> None:
        self.engine = engine
        self.activity = activity


def _shim(tmp_path: Path, runtime: str) -> Subject:
    recorder = Recorder(tmp_path, runtime)
    return Subject(recorder.engine, recorder.invocations)


def _runner(runtime: str) -> Subject:
    fake = FakeRunner(runtime)  # unscripted: any call would raise AssertionError too
    return Subject(ENGINES[runtime](runner=fake), lambda: [" ".join(c.args) for c in fake.calls])


def _fake(runtime: str) -> Subject:
    engine = FakeEngine(runtime, images=[IMG])
    return Subject(engine, lambda: [f"{c.manager}.{c.method}" for c in engine.calls])


def _abc_only() -> Subject:
    engine = RecordingEngine()
    return Subject(engine, lambda: engine.hooks)


SUBJECTS = [
    "docker-cli",
    "podman-cli",
    "docker-runner",
    "podman-runner",
    "docker-fake",
    "podman-fake",
    "abc-only",
]


@pytest.fixture(params=SUBJECTS)
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    kind: str = request.param
    if kind.endswith("-cli"):
        return _shim(tmp_path, kind.removesuffix("-cli"))
    if kind.endswith("-runner"):
        return _runner(kind.removesuffix("-runner"))
    if kind.endswith("-fake"):
        return _fake(kind.removesuffix("-fake"))
    return _abc_only()


# --------------------------------------------------------------------------- bad input

Call = Callable[[ContainerEngine], object]

# Checks that live in the ABCs' public methods (beyond the configuration objects).
ABC_CASES: list[tuple[str, Call, str, object]] = [
    ("start-option", lambda e: e.containers.start("--rm"), "container", "--rm"),
    ("stop-negative", lambda e: e.containers.stop("c1", timeout=-1), "timeout", -1),
    ("stop-text", lambda e: e.containers.stop("c1", timeout="x"), "timeout", "x"),  # type: ignore[arg-type]
    ("restart-huge", lambda e: e.containers.restart("c1", timeout=2**40), "timeout", 2**40),
    ("kill-option", lambda e: e.containers.kill("c1", signal="-9"), "signal", "-9"),
    ("kill-bad-number", lambda e: e.containers.kill("c1", signal=0), "signal", 0),
    ("wait-zero-timeout", lambda e: e.containers.wait("c1", timeout=0), "timeout", 0),
    (
        "exec-relative-dir",
        lambda e: e.containers.exec("c1", ["ls"], working_dir="tmp"),
        "working_dir",
        "tmp",
    ),
    ("exec-empty", lambda e: e.containers.exec("c1", []), "command", []),
    ("exec-string", lambda e: e.containers.exec("c1", "ls -l"), "command", "ls -l"),  # type: ignore[arg-type]
    ("logs-since-option", lambda e: e.containers.logs("c1", since="-1s"), "since", "-1s"),
    ("run-not-config", lambda e: e.containers.run("busybox"), "config", "str"),  # type: ignore[arg-type]
    ("list-filter-dash", lambda e: e.containers.list(filters={"-a": "x"}), "filters key", "-a"),
    ("list-filter-int", lambda e: e.images.list(filters={"label": 1}), "filters[label]", 1),  # type: ignore[dict-item]
    (
        "prune-filter-nul",
        lambda e: e.volumes.prune(filters={"label": "a\x00"}),
        "filters[label]",
        "a\x00",
    ),
    ("build-not-context", lambda e: e.images.build("FROM x", "ok:1"), "context", "str"),  # type: ignore[arg-type]
    (
        "build-zero-timeout",
        lambda e: e.images.build(BuildContext("FROM x\n"), "ok:1", timeout=0),
        "timeout",
        0,
    ),
    ("image-remove-option", lambda e: e.images.remove("-f"), "image", "-f"),
    (
        "build-arg-cli-setting",
        lambda e: e.images.build(BuildContext("FROM x\n", build_args={"DOCKER_HOST": "x"}), "ok:1"),
        "BuildContext.build_args key",
        "DOCKER_HOST",
    ),
    ("volume-label-eq", lambda e: e.volumes.create("v1", labels={"a=b": "c"}), "labels key", "a=b"),
    (
        "network-alias-space",
        lambda e: e.networks.connect("n1", "c1", aliases=["a b"]),
        "aliases",
        "a b",
    ),
    ("network-disconnect-dash", lambda e: e.networks.disconnect("-n", "c1"), "network", "-n"),
    ("temporary-volume-name", lambda e: e.volumes.temporary("a b").__enter__(), "name", "a b"),
    ("stream-logs-tail", lambda e: e.containers.stream_logs("c1", tail=-1), "tail", -1),
    ("stream-logs-option", lambda e: e.containers.stream_logs("-f"), "container", "-f"),
    ("wait-log-regex", lambda e: e.containers.wait_for_log("c1", "(", timeout=1), "pattern", "("),
    ("wait-log-timeout", lambda e: e.containers.wait_for_log("c1", "x", timeout=0), "timeout", 0),
    ("wait-port-zero", lambda e: e.containers.wait_for_port("c1", 0, timeout=1), "port", 0),
    (
        "wait-port-protocol",
        lambda e: e.containers.wait_for_port("c1", 80, timeout=1, protocol="http"),
        "protocol",
        "http",
    ),
    (
        "wait-healthy-timeout",
        lambda e: e.containers.wait_for_healthy("c1", timeout=-1),
        "timeout",
        -1,
    ),
    (
        "build-progress-not-callable",
        lambda e: e.images.build(BuildContext("FROM x\n"), "ok:1", progress="x"),  # type: ignore[arg-type]
        "progress",
        "str",
    ),
    (
        "exec-env-secret",
        lambda e: e.containers.exec("c1", ["true"], environment={"K": SECRET + "\x00"}),
        "environment[K]",
        None,
    ),
]


@pytest.mark.parametrize(
    ("call", "field", "value"),
    [c[1:] for c in BAD_INPUT + ABC_CASES],
    ids=[c[0] for c in BAD_INPUT + ABC_CASES],
)
def test_every_engine_refuses_bad_input_identically(
    subject: Subject, call: Call, field: str, value: object
) -> None:
    """The same InvalidConfigError (field, shown value) from every engine, and no activity:
    no process, no runner call, no hook reached."""
    with pytest.raises(InvalidConfigError) as caught:
        call(subject.engine)
    exc = caught.value
    assert exc.field == field
    if value is None:
        assert exc.value == "<redacted>"
        assert SECRET not in str(exc) and SECRET not in repr(exc)
    else:
        # long values are cut in the message: compare the start of their repr
        shown = value if field in ("config", "context") else repr(value)[:150]
        assert str(shown) in str(exc)
    assert subject.activity() == []


def test_every_engine_reaches_its_hooks_with_valid_input(subject: Subject) -> None:
    """The empty activity above is meaningful: a valid call is seen by every subject."""
    if isinstance(subject.engine, FakeEngine):
        cid = subject.engine.containers.create(RunConfig(IMG, name="c1"))
        subject.engine.clear_calls()
        subject.engine.containers.start(cid)
    elif isinstance(subject.engine, RecordingEngine):
        subject.engine.containers.start("c1")
    elif isinstance(subject.engine.runner, FakeRunner):  # type: ignore[attr-defined]
        subject.engine.runner.queue(result(""))  # type: ignore[attr-defined]
        subject.engine.containers.start("c1")
    else:
        subject.engine.containers.start("c1")
    assert len(subject.activity()) == 1


# --------------------------------------------------------------------------- engines and factory


def test_engines_take_their_runner() -> None:
    """An injected runner carries every call; nothing is resolved on PATH."""
    fake = FakeRunner("docker", recorded("docker", "ps_all"))
    engine = DockerEngine("no-such-cli-anywhere", runner=fake)
    listed = engine.containers.list(all=True)
    assert listed and all(c.id for c in listed)
    assert fake.calls[0].args[0] == "ps"
    assert engine.command == "no-such-cli-anywhere"


def _version_shim(tmp_path: Path, document: dict[str, Any]) -> str:
    shim = tmp_path / "docker"
    shim.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(document)}\nEOF\n")
    shim.chmod(0o755)
    return str(shim)


NO_SERVER = {"Client": {"Version": "28.2.2", "ApiVersion": "1.41", "Os": "linux"}, "Server": None}
WITH_SERVER = {**NO_SERVER, "Server": {"Version": "20.10.24", "ApiVersion": "1.41"}}


@pytest.mark.parametrize(("document", "answers"), [(NO_SERVER, False), (WITH_SERVER, True)])
def test_create_and_is_available_agree(
    tmp_path: Path, document: dict[str, Any], answers: bool
) -> None:
    """A docker whose version has a null Server is refused by create() and by is_available();
    one with a server is accepted by both."""
    shim = _version_shim(tmp_path, document)
    engine = DockerEngine(shim)
    assert engine.is_available() is answers
    if answers:
        assert ContainerEngineFactory.create("docker", shim).runtime is ContainerRuntime.DOCKER
    else:
        with pytest.raises(RuntimeNotAvailableError):
            ContainerEngineFactory.create("docker", shim)


def test_factory_registry_is_typed_to_the_abc() -> None:
    for runtime in ContainerRuntime:
        cls = ContainerEngineFactory.engine_class(runtime)
        assert issubclass(cls, ContainerEngine)
        assert cls.runtime is runtime
    assert ContainerEngineFactory.engine_class("podman") is PodmanEngine


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), "5", True])
def test_factory_refuses_bad_timeouts_before_any_process(timeout: object) -> None:
    with pytest.raises(InvalidConfigError):
        ContainerEngineFactory.create("docker", "/nonexistent/cli", timeout=timeout)  # type: ignore[arg-type]


def test_an_engine_needs_no_cli() -> None:
    engine = RecordingEngine()
    assert engine.command == ""
    assert engine.is_available()
    assert repr(engine) == "RecordingEngine(command='')"


# --------------------------------------------------------------------------- imports


def _imports(path: Path, module: str) -> Iterator[str]:
    """The package modules ``module`` imports (also under TYPE_CHECKING)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                yield f"{target}.{alias.name}"
                yield target
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(SRC.name):
            yield node.module or ""


def test_no_import_cycle_in_src() -> None:
    modules: dict[str, Path] = {}
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    graph = {
        name: {t for t in _imports(path, name) if t in modules and t != name}
        for name, path in modules.items()
    }
    # A package's __init__ re-exporting its own modules is not a cycle of code.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []
    assert graph["dotfiles_container_manager.implementations.cli.errors"]  # the walk works
