"""Overhead per operation (library vs the same raw argv) and processes per public call."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from dotfiles_container_manager import BuildContext, ContainerEngineFactory, RunConfig
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.docker.engine import DockerEngine

from .common import (
    BASE_IMAGE,
    LABELS,
    PREFIX,
    RUN_FILTER,
    Runtime,
    Shim,
    interleaved,
    median,
    now,
    parallel,
    progress,
    quartiles,
)

#: How many containers the fixture runs (the issue: ``list()`` with 50 containers).
CONTAINERS = 50
#: How many of them carry the ``dcm-bench-group=20`` label (the peers list those).
GROUP = 20
LOG_LINES = 200


# --------------------------------------------------------------------------- fixture


@dataclass
class Fixture:
    """What the read benchmarks read: 50 running containers, an exited one, volumes, a
    network, all labelled with this run."""

    runtime: Runtime
    containers: list[str] = field(default_factory=list)
    log_container: str = ""
    exited_container: str = ""
    volumes: list[str] = field(default_factory=list)
    network: str = ""

    @property
    def group_filter(self) -> dict[str, str]:
        return {"label": f"dcm-bench-group={PREFIX}"}


def _label_args(extra: Mapping[str, str] | None = None) -> list[str]:
    args: list[str] = []
    for key, value in {**LABELS, **(extra or {})}.items():
        args += ["--label", f"{key}={value}"]
    return args


def setup_fixture(runtime: Runtime, count: int = CONTAINERS) -> Fixture:
    """Start ``count`` labelled containers (in parallel), plus volumes and a network."""
    fixture = Fixture(runtime)
    script = f"seq 1 {LOG_LINES} | sed 's/^/log line /'; exec sleep 900"
    ids: dict[int, str] = {}

    def start(index: int) -> None:
        extra = {"dcm-bench-group": PREFIX} if index < GROUP else {}
        command = ["sh", "-c", script] if index == 0 else ["sleep", "900"]
        result = runtime.cmd(
            "run",
            "-d",
            "--name",
            f"{PREFIX}-c{index:02d}",
            *_label_args(extra),
            BASE_IMAGE,
            *command,
        )
        ids[index] = result.stdout.strip().splitlines()[-1]

    parallel([lambda i=i: start(i) for i in range(count)])  # type: ignore[misc]
    fixture.containers = [ids[i] for i in range(count)]
    fixture.log_container = fixture.containers[0]
    exited = runtime.cmd(
        "run", "-d", "--name", f"{PREFIX}-exited", *_label_args(), BASE_IMAGE, "true"
    )
    fixture.exited_container = exited.stdout.strip().splitlines()[-1]
    runtime.cmd("wait", fixture.exited_container)
    for index in range(2):
        name = f"{PREFIX}-v{index}"
        runtime.cmd("volume", "create", *_label_args(), name)
        fixture.volumes.append(name)
    fixture.network = f"{PREFIX}-net"
    runtime.cmd("network", "create", *_label_args(), fixture.network)
    for _ in range(100):  # the log container has printed everything
        if len(runtime.lines("logs", fixture.log_container)) >= LOG_LINES:
            break
    return fixture


# --------------------------------------------------------------------------- recording


@dataclass(frozen=True)
class Call:
    """One CLI call the library made: its arguments and how its output was collected."""

    args: tuple[str, ...]
    argv: tuple[str, ...]
    merge_stderr: bool


def as_docker(engine: object) -> DockerEngine:
    """The engine as the CLI engine class (docker's and podman's both are)."""
    if not isinstance(engine, DockerEngine):
        raise TypeError(f"not a CLI engine: {engine!r}")
    return engine


def record(
    engine: DockerEngine, action: Callable[[], object]
) -> tuple[list[Call], list[CommandResult]]:
    """Run ``action`` once; return the calls it made through the engine's runner."""
    runner = engine.runner
    original = runner.run
    calls: list[Call] = []
    results: list[CommandResult] = []

    def recording(args: Any, **kwargs: Any) -> CommandResult:
        result = original(args, **kwargs)
        calls.append(Call(tuple(args), tuple(runner.argv(args)), bool(kwargs.get("merge_stderr"))))
        results.append(result)
        return result

    vars(runner)["run"] = recording
    try:
        action()
    finally:
        del vars(runner)["run"]
    return calls, results


def cpu_cost(
    engine: DockerEngine, action: Callable[[], object], results: list[CommandResult]
) -> float:
    """Seconds of library work per call with every CLI answer served from memory: argument
    checks, argv building, JSON parsing, records. No process is started."""
    runner = engine.runner
    position = [0]

    def replay(args: Any, **kwargs: Any) -> CommandResult:
        result = results[position[0] % len(results)]
        position[0] += 1
        return result

    vars(runner)["run"] = replay
    try:
        action()
        loops, started, cpu_started = 0, now(), time.process_time()
        while loops < 20 or (now() - started < 0.15 and loops < 2000):
            action()
            loops += 1
        return (time.process_time() - cpu_started) / loops
    finally:
        del vars(runner)["run"]


def raw_call(calls: list[Call]) -> Callable[[], object]:
    """The same argv through plain ``subprocess.run`` (output captured the same way)."""

    def run() -> None:
        for call in calls:
            subprocess.run(
                call.argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT if call.merge_stderr else subprocess.PIPE,
                check=False,
            )

    return run


def runner_call(engine: DockerEngine, calls: list[Call]) -> Callable[[], object]:
    """The same calls through the library's runner only (no parsing)."""

    def run() -> None:
        for call in calls:
            engine.runner.run(call.args, check=False, merge_stderr=call.merge_stderr)

    return run


# --------------------------------------------------------------------------- overhead


def operations(engine: DockerEngine, fixture: Fixture) -> list[tuple[str, Callable[[], object]]]:
    """The eight reads of the issue, on this run's resources."""
    mine = {"label": RUN_FILTER}
    c = fixture.log_container
    return [
        ("containers.list", lambda: engine.containers.list(filters=mine)),
        ("containers.inspect", lambda: engine.containers.inspect(c)),
        ("images.inspect", lambda: engine.images.inspect(BASE_IMAGE)),
        ("images.list", lambda: engine.images.list(filters={"reference": "dcm-test-base"})),
        ("containers.exec", lambda: engine.containers.exec(c, ["echo", "hello"])),
        ("containers.logs", lambda: engine.containers.logs(c)),
        ("volumes.list", lambda: engine.volumes.list(filters=mine)),
        ("networks.list", lambda: engine.networks.list(filters=mine)),
    ]


@dataclass
class OpResult:
    """One operation's numbers on one runtime."""

    name: str
    raw: float
    runner: float
    lib: float
    cpu: float
    processes: int
    argv: list[str]
    samples: int
    #: Median over rounds of lib/raw (and runner/raw) measured back to back in one round:
    #: pairs see the same machine load, so the ratio is steadier than one of the medians.
    ratio: float
    runner_ratio: float
    #: Quartiles of the per-round lib/raw ratios (the spread the machine's load gave).
    ratio_q: tuple[float, float]
    #: Median CPU seconds this process spent per call (spawning and reading included).
    raw_cpu: float
    lib_cpu: float

    @property
    def floor(self) -> float:
        """lib/raw predicted from CPU alone: (raw + the library's extra CPU) / raw. Other
        load hardly changes CPU time, so this is the steady estimate on a busy machine."""
        return (self.raw + max(self.lib_cpu - self.raw_cpu, 0.0)) / self.raw


def measure_overhead(
    runtime: Runtime, fixture: Fixture, rounds: int, deadline: float
) -> list[OpResult]:
    """Library vs runner-only vs raw ``subprocess.run``, interleaved, medians."""
    engine = as_docker(ContainerEngineFactory.create(runtime.name, host=runtime.host))
    groups: list[list[tuple[str, Callable[[], object]]]] = []
    recorded: dict[str, tuple[list[Call], list[CommandResult]]] = {}
    ops = operations(engine, fixture)
    for name, action in ops:
        calls, results = record(engine, action)
        recorded[name] = (calls, results)
        groups.append(
            [
                (f"{name}/raw", raw_call(calls)),
                (f"{name}/runner", runner_call(engine, calls)),
                (f"{name}/lib", action),
            ]
        )
    cpu: dict[str, list[float]] = {}
    samples = interleaved(groups, rounds, warmup=2, deadline=deadline, cpu=cpu)
    out = []
    for name, action in ops:
        calls, results = recorded[name]
        raw, runner, lib = (samples[f"{name}/{v}"] for v in ("raw", "runner", "lib"))
        out.append(
            OpResult(
                name=name,
                raw=median(samples[f"{name}/raw"]),
                runner=median(samples[f"{name}/runner"]),
                lib=median(samples[f"{name}/lib"]),
                cpu=cpu_cost(engine, action, results),
                processes=len(calls),
                argv=[" ".join(c.args) for c in calls],
                samples=len(lib),
                ratio=median(ratios := [x / y for x, y in zip(lib, raw, strict=True)]),
                runner_ratio=median([x / y for x, y in zip(runner, raw, strict=True)]),
                ratio_q=quartiles(ratios),
                raw_cpu=median(cpu[f"{name}/raw"]),
                lib_cpu=median(cpu[f"{name}/lib"]),
            )
        )
    return out


# --------------------------------------------------------------------------- spawn


@dataclass
class SpawnResult:
    """The runner against ``subprocess.run`` on a process that does nothing (``true``):
    the cost of starting, reading and reaping, without any CLI's own noise."""

    rounds: int
    raw: float
    raw_timeout: float
    runner: float


def measure_spawn(rounds: int) -> SpawnResult:
    """Median microseconds per call, interleaved."""
    from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier
    from dotfiles_container_manager.implementations.cli.runner import CommandRunner

    runner = CommandRunner("true", runtime="docker", classifier=ErrorClassifier("docker"))
    argv = [runner.executable]
    pipes: dict[str, Any] = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.PIPE,
    }
    group: list[tuple[str, Callable[[], object]]] = [
        ("raw", lambda: subprocess.run(argv, check=False, **pipes)),
        ("raw_timeout", lambda: subprocess.run(argv, check=False, timeout=120, **pipes)),
        ("runner", lambda: runner.run([], check=False)),
    ]
    samples = interleaved([group], rounds, warmup=5)
    return SpawnResult(
        rounds, median(samples["raw"]), median(samples["raw_timeout"]), median(samples["runner"])
    )


# --------------------------------------------------------------------------- processes


@dataclass
class CountResult:
    """How many CLI processes one public call started."""

    name: str
    kind: str  # "read" or "write"
    processes: int
    argv: list[str]
    note: str = ""


def count_processes(runtime: Runtime, fixture: Fixture, shim: Shim) -> list[CountResult]:
    """Every public read (and, for information, the common writes) through a counting shim
    passed as ``command=`` to :meth:`ContainerEngineFactory.create`."""
    out: list[CountResult] = []
    n, argv = shim.count(
        lambda: ContainerEngineFactory.create(runtime.name, command=str(shim.path))
    )
    out.append(CountResult("ContainerEngineFactory.create", "setup", n, argv))
    engine = as_docker(ContainerEngineFactory.create(runtime.name, command=str(shim.path)))
    mine = {"label": RUN_FILTER}
    c = fixture.log_container
    listed: list[Any] = []

    def list_full() -> None:
        listed[:] = engine.containers.list(filters=mine)

    reads: list[tuple[str, Callable[[], object]]] = [
        (f"containers.list() — {len(fixture.containers)} containers", list_full),
        ("containers.list(all=True)", lambda: engine.containers.list(all=True, filters=mine)),
        ("containers.list() unfiltered", lambda: engine.containers.list()),
        ("containers.inspect", lambda: engine.containers.inspect(c)),
        ("containers.exists", lambda: engine.containers.exists(c)),
        ("containers.logs", lambda: engine.containers.logs(c)),
        ("containers.logs_bytes", lambda: engine.containers.logs_bytes(c)),
        ("containers.exec", lambda: engine.containers.exec(c, ["echo", "hello"])),
        ("containers.wait (exited)", lambda: engine.containers.wait(fixture.exited_container)),
        (
            "images.list (1 image)",
            lambda: engine.images.list(filters={"reference": "dcm-test-base"}),
        ),
        ("images.list() all", lambda: engine.images.list()),
        ("images.inspect", lambda: engine.images.inspect(BASE_IMAGE)),
        ("images.exists", lambda: engine.images.exists(BASE_IMAGE)),
        ("volumes.list", lambda: engine.volumes.list(filters=mine)),
        ("volumes.inspect", lambda: engine.volumes.inspect(fixture.volumes[0])),
        ("volumes.exists", lambda: engine.volumes.exists(fixture.volumes[0])),
        ("networks.list", lambda: engine.networks.list(filters=mine)),
        ("networks.inspect", lambda: engine.networks.inspect(fixture.network)),
        ("networks.exists", lambda: engine.networks.exists(fixture.network)),
        ("engine.version()", engine.version),
        ("engine.info()", engine.info),
        ("engine.is_available()", engine.is_available),
    ]
    for name, action in reads:
        n, argv = shim.count(action)
        note = ""
        if action is list_full:
            complete = [
                r
                for r in listed
                if len(r.id) == 64
                and r.name
                and r.image
                and r.state
                and r.created
                and r.labels.get("dcm-bench") == "1"
            ]
            note = f"{len(complete)}/{len(listed)} complete records"
        out.append(CountResult(name, "read", n, argv, note))

    # Writes: for information (the target is for reads).
    state: dict[str, str] = {}
    config = RunConfig(BASE_IMAGE, name=f"{PREFIX}-w", command=["sleep", "900"], labels=LABELS)
    context = BuildContext(
        "FROM dcm-test-base:latest\nCOPY a /a\n", files={"a": b"a\n"}, labels=LABELS
    )
    writes: list[tuple[str, Callable[[], object]]] = [
        ("containers.run (detached)", lambda: state.update(cid=engine.containers.run(config))),
        ("containers.stop", lambda: engine.containers.stop(state["cid"], timeout=0)),
        (
            "containers.remove(force=True)",
            lambda: engine.containers.remove(state["cid"], force=True),
        ),
        ("volumes.create(name)", lambda: engine.volumes.create(f"{PREFIX}-wv", labels=LABELS)),
        ("volumes.remove", lambda: engine.volumes.remove(f"{PREFIX}-wv")),
        ("networks.create", lambda: engine.networks.create(f"{PREFIX}-wn", labels=LABELS)),
        ("networks.remove", lambda: engine.networks.remove(f"{PREFIX}-wn")),
        ("images.build", lambda: engine.images.build(context, f"{PREFIX}-wb:1")),
        ("images.tag", lambda: engine.images.tag(f"{PREFIX}-wb:1", f"{PREFIX}-wt:1")),
        ("images.remove", lambda: engine.images.remove(f"{PREFIX}-wt:1")),
    ]
    for name, action in writes:
        n, argv = shim.count(action)
        out.append(CountResult(name, "write", n, argv))
    progress(f"{runtime.name}: process counts done")
    return out
