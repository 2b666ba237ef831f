"""Integration fixtures: real docker and podman, a base image made locally, and a leak check.

Every test that takes ``engine`` runs once per runtime. Everything a test creates carries
the label ``dcm-test=<run id>`` (use ``res.labels`` / ``res.config(...)``) and a unique name
(``res.name("x")``); at the end of the session any labelled container, volume, network or
image still present fails the run, after being removed.

Under CI (``CI=true``) a runtime that does not answer fails the tests instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    ContainerEngine,
    ContainerEngineFactory,
    ContainerError,
    RunConfig,
)

RUNTIMES = ("docker", "podman")
BASE_IMAGE = "dcm-test-base:latest"
RUN_ID = uuid.uuid4().hex[:8]
LABEL = "dcm-test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_engines: dict[str, ContainerEngine] = {}
_failures: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def _make_rootfs_tar(directory: Path) -> Path:
    """A busybox-static root filesystem (see shared/notes/runtimes.md for the two traps)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    root = directory / "root"
    for sub in ("bin", "etc", "tmp", "root"):
        (root / sub).mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True, timeout=30
    )
    for applet in applets.stdout.split():
        if applet != "busybox":  # a link over the binary itself makes a self-loop
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    tar = directory / "base.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tar), "."], check=True, timeout=60)
    return tar


def _ensure_base_image(engine: ContainerEngine) -> None:
    if engine.images.exists(BASE_IMAGE):
        return
    with tempfile.TemporaryDirectory() as tmp:
        tar = _make_rootfs_tar(Path(tmp))
        engine.images.import_(
            tar,
            BASE_IMAGE,
            changes=["ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["/bin/sh"]'],
            timeout=120,
        )


def get_engine(runtime: str) -> ContainerEngine:
    """The session's engine for ``runtime`` (skipped, or failed under CI, if unavailable)."""
    if runtime not in _engines and runtime not in _failures:
        try:
            engine = ContainerEngineFactory.create(runtime)
            _ensure_base_image(engine)
            _engines[runtime] = engine
        except (ContainerError, OSError, subprocess.SubprocessError) as exc:
            _failures[runtime] = f"{runtime} is not usable here: {exc}"
    if runtime in _failures:
        if IN_CI:
            pytest.fail(_failures[runtime], pytrace=False)
        pytest.skip(_failures[runtime])
    return _engines[runtime]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Each runtime in turn."""
    return str(request.param)


@pytest.fixture
def engine(runtime: str) -> ContainerEngine:
    """The engine for the current runtime."""
    return get_engine(runtime)


@dataclass
class Resources:
    """Unique names and the run label for what a test creates."""

    engine: ContainerEngine
    prefix: str = field(default_factory=lambda: f"dcm-t-{RUN_ID}-{uuid.uuid4().hex[:6]}")

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL: RUN_ID}

    @property
    def image(self) -> str:
        return BASE_IMAGE

    def name(self, what: str = "r") -> str:
        return f"{self.prefix}-{what}"

    def image_name(self, what: str = "img") -> str:
        return f"{self.prefix}-{what}:1"

    def config(self, *, command: list[str] | None = None, **kwargs: Any) -> RunConfig:
        """A RunConfig on the base image carrying the run label (sleeps by default)."""
        labels = {**self.labels, **kwargs.pop("labels", {})}
        kwargs.setdefault("image", BASE_IMAGE)
        return RunConfig(
            command=command if command is not None else ["sleep", "300"],
            labels=labels,
            **kwargs,
        )


@pytest.fixture
def res(engine: ContainerEngine) -> Iterator[Resources]:
    """Names/labels for this test. A test must remove what it creates: anything of its own
    still present afterwards is removed and the test errors."""
    resources = Resources(engine)
    yield resources
    leftovers = _remove_labelled(engine, only_prefix=resources.prefix)
    if leftovers:
        pytest.fail("test left behind: " + ", ".join(leftovers), pytrace=False)


def _remove_labelled(engine: ContainerEngine, *, only_prefix: str | None = None) -> list[str]:
    """Remove what carries this run's label; return a description of each thing removed."""
    found: list[str] = []
    selector = {"label": f"{LABEL}={RUN_ID}"}

    def wanted(name: str) -> bool:
        return only_prefix is None or name.startswith(only_prefix)

    for container in engine.containers.list(all=True, filters=selector):
        if wanted(container.name):
            found.append(f"container {container.name}")
            engine.containers.remove(container.id, force=True, volumes=True)
    for network in engine.networks.list(filters=selector):
        if wanted(network.name):
            found.append(f"network {network.name}")
            engine.networks.remove(network.id)
    for volume in engine.volumes.list(filters=selector):
        if wanted(volume.name):
            found.append(f"volume {volume.name}")
            engine.volumes.remove(volume.name, force=True)
    for image in engine.images.list(filters=selector):
        if only_prefix is None or any(t.startswith(only_prefix) for t in image.tags):
            found.append(f"image {image.tags or image.id}")
            subprocess.run([engine.command, "rmi", "-f", image.id], capture_output=True, timeout=60)
    return found


@pytest.fixture(scope="session", autouse=True)
def _no_leftovers() -> Iterator[None]:
    """Fail the session if anything labelled with this run survives it."""
    yield
    leftovers = []
    for runtime, engine in _engines.items():
        leftovers += [f"{runtime}: {item}" for item in _remove_labelled(engine)]
    if leftovers:
        pytest.fail("tests left resources behind:\n" + "\n".join(leftovers), pytrace=False)
