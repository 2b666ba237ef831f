"""Peers doing the same work in the same run: python-on-whales and docker-py.

Three tasks: list the 20 containers of a label with their names; inspect one container;
build → run → wait → logs → remove from an in-memory context. The peers are optional (the
``bench`` extra); a peer that is not installed, or cannot reach a runtime, is skipped and
the report says why. docker-py talks to the daemon's socket, so on podman it runs only when
podman's API socket answers.
"""

from __future__ import annotations

import importlib
import io
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotfiles_container_manager import BuildContext, ContainerEngineFactory, RunConfig

from .common import LABELS, PREFIX, Runtime, Shim, interleaved, median, progress
from .overhead import Fixture

DOCKERFILE = 'FROM dcm-test-base:latest\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n'
FILES = {"msg.txt": b"hello from dcm-bench\n"}
TASKS = ("list 20 + names", "inspect 1", "build→run→wait→logs→rm")
PODMAN_SOCKETS = ("/run/podman/podman.sock",)


@dataclass
class Tool:
    """One client doing the three tasks."""

    name: str
    tasks: dict[str, Callable[[], object]] = field(default_factory=dict)
    counted: dict[str, Callable[[], int]] = field(default_factory=dict)
    unit: str = "processes"


@dataclass
class PeerResult:
    """Medians (seconds) and process/request counts per tool and task on one runtime."""

    runtime: str
    times: dict[tuple[str, str], float] = field(default_factory=dict)
    counts: dict[tuple[str, str], str] = field(default_factory=dict)
    tools: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _check_names(names: list[str]) -> None:
    if len(names) != 20 or not all(names):
        raise RuntimeError(f"expected 20 names, got {names!r}")


def _lib(runtime: Runtime, fixture: Fixture, shim: Shim, tag: str) -> Tool:
    def build(command: str | None) -> Any:
        return ContainerEngineFactory.create(runtime.name, command=command)

    def tasks(engine: Any) -> dict[str, Callable[[], object]]:
        def listing() -> None:
            _check_names([c.name for c in engine.containers.list(filters=fixture.group_filter)])

        def workflow() -> None:
            context = BuildContext(DOCKERFILE, files=FILES, labels=LABELS)
            engine.images.build(context, tag)
            cid = engine.containers.run(RunConfig(tag, labels=LABELS))
            engine.containers.wait(cid)
            if "hello" not in engine.containers.logs(cid):
                raise RuntimeError("no output")
            engine.containers.remove(cid)

        return {
            TASKS[0]: listing,
            TASKS[1]: lambda: engine.containers.inspect(fixture.log_container).name,
            TASKS[2]: workflow,
        }

    tool = Tool("dotfiles-container-manager", tasks(build(None)))
    for task, action in tasks(build(str(shim.path))).items():
        tool.counted[task] = lambda action=action: shim.count(action)[0]  # type: ignore[misc]
    return tool


def _whales(runtime: Runtime, fixture: Fixture, shim: Shim, tag: str, work: Path) -> Tool:
    whales: Any = importlib.import_module("python_on_whales")
    kind = "podman" if runtime.name == "podman" else "docker"

    def tasks(client: Any) -> dict[str, Callable[[], object]]:
        selector = [("label", f"dcm-bench-group={PREFIX}")]

        def listing() -> None:
            _check_names([c.name for c in client.container.list(filters=selector)])

        def workflow() -> None:
            # python-on-whales builds from a directory only: the in-memory context is
            # written to a temporary one first (part of the measured work).
            directory = Path(tempfile.mkdtemp(dir=work))
            try:
                (directory / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
                for name, data in FILES.items():
                    (directory / name).write_bytes(data)
                client.legacy_build(directory, tags=tag, labels=LABELS)
            finally:
                shutil.rmtree(directory, ignore_errors=True)
            container = client.run(tag, detach=True, labels=LABELS)
            client.wait(container)
            if "hello" not in client.logs(container):
                raise RuntimeError("no output")
            client.remove(container)

        return {
            TASKS[0]: listing,
            TASKS[1]: lambda: client.container.inspect(fixture.log_container).name,
            TASKS[2]: workflow,
        }

    tool = Tool(
        "python-on-whales", tasks(whales.DockerClient(client_call=[runtime.cli], client_type=kind))
    )
    counted = tasks(whales.DockerClient(client_call=[str(shim.path)], client_type=kind))
    for task, action in counted.items():
        tool.counted[task] = lambda action=action: shim.count(action)[0]  # type: ignore[misc]
    return tool


def _podman_socket() -> str | None:
    for path in PODMAN_SOCKETS:
        if os.path.exists(path):
            return f"unix://{path}"
    return None


def _dockerpy(runtime: Runtime, fixture: Fixture, tag: str, base_url: str | None) -> Tool:
    docker: Any = importlib.import_module("docker")
    client = docker.DockerClient(base_url=base_url) if base_url else docker.from_env()
    client.ping()
    requests = [0]
    original = client.api.send

    def counting_send(*args: Any, **kwargs: Any) -> Any:
        requests[0] += 1
        return original(*args, **kwargs)

    client.api.send = counting_send

    def listing() -> None:
        found = client.containers.list(filters={"label": f"dcm-bench-group={PREFIX}"})
        _check_names([c.name for c in found])

    def workflow() -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in {"Dockerfile": DOCKERFILE.encode(), **FILES}.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        buffer.seek(0)
        client.images.build(fileobj=buffer, custom_context=True, tag=tag, labels=LABELS, rm=True)
        container = client.containers.run(tag, detach=True, labels=LABELS)
        container.wait()
        if b"hello" not in container.logs():
            raise RuntimeError("no output")
        container.remove()

    tool = Tool("docker-py", unit="HTTP requests")
    tool.tasks = {
        TASKS[0]: listing,
        TASKS[1]: lambda: client.containers.get(fixture.log_container).name,
        TASKS[2]: workflow,
    }

    def counter(action: Callable[[], object]) -> Callable[[], int]:
        def count() -> int:
            before = requests[0]
            action()
            return requests[0] - before

        return count

    tool.counted = {task: counter(action) for task, action in tool.tasks.items()}
    return tool


def measure_peers(
    runtime: Runtime, fixture: Fixture, shim: Shim, work: Path, rounds: int, deadline: float
) -> PeerResult:
    """The three tasks for every available tool, interleaved; medians and counts."""
    result = PeerResult(runtime.name)
    tools = [_lib(runtime, fixture, shim, f"{PREFIX}-peer-lib:1")]
    try:
        tools.append(_whales(runtime, fixture, shim, f"{PREFIX}-peer-pow:1", work))
    except ImportError:
        result.skipped["python-on-whales"] = "not installed (pip install -e '.[bench]')"
    base_url = None
    if runtime.name == "podman":
        base_url = _podman_socket()
    if runtime.name == "podman" and base_url is None:
        result.skipped["docker-py"] = (
            "needs a Docker-API socket; podman's (podman system service) is not running"
        )
    else:
        try:
            tools.append(_dockerpy(runtime, fixture, f"{PREFIX}-peer-dpy:1", base_url))
        except ImportError:
            result.skipped["docker-py"] = "not installed (pip install -e '.[bench]')"
        except Exception as exc:
            result.skipped["docker-py"] = f"cannot connect: {exc}"
    result.tools = [t.name for t in tools]
    for tool in tools:
        for task in TASKS:
            result.counts[(tool.name, task)] = f"{tool.counted[task]()} {tool.unit}"
    quick = [[(f"{t.name}|{task}", t.tasks[task]) for t in tools] for task in TASKS[:2]]
    samples = interleaved(quick, rounds * 2, warmup=1, deadline=deadline)
    slow = [[(f"{t.name}|{TASKS[2]}", t.tasks[TASKS[2]]) for t in tools]]
    samples.update(interleaved(slow, rounds, warmup=1, deadline=deadline))
    for key, values in samples.items():
        tool_name, task = key.split("|")
        result.times[(tool_name, task)] = median(values)
    progress(f"{runtime.name}: peers done ({', '.join(result.tools)})")
    return result
