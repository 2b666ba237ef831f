"""Importing the package is cheap and needs nothing outside the standard library; the public
names of the contract are all there."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dotfiles_container_manager as dcm

# The project's design notes sit beside the repository (../shared), as on every machine and
# in CI; found relative to the project root, never through a machine's absolute path.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONTRACT = PROJECT_ROOT.parent / "shared" / "design" / "contract.md"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# What the contract (shared/design/contract.md) names, importable from the package root.
CONTRACT_NAMES = {
    "ContainerEngineFactory",
    "ContainerEngine",
    "ImageManager",
    "ContainerManager",
    "VolumeManager",
    "NetworkManager",
    "BuildContext",
    "RunConfig",
    "VolumeMount",
    "PortMapping",
    "ExecResult",
    "ImageInfo",
    "ContainerInfo",
    "VolumeInfo",
    "NetworkInfo",
    "ContainerRuntime",
    "ContainerState",
    "RestartPolicy",
    "ContainerError",
    "RuntimeNotAvailableError",
    "ImageError",
    "ImageNotFoundError",
    "ImageBuildError",
    "ContainerNotFoundError",
    "VolumeError",
    "VolumeNotFoundError",
    "NetworkError",
    "NetworkNotFoundError",
    "CommandTimeoutError",
    # "Streaming, progress and readiness"
    "HealthCheck",
    "ProgressEvent",
    "LogLine",
    "LogStream",
    "ContainerNotReadyError",
}
# The contract's module paths.
MODULE_PATHS = [
    ("dotfiles_container_manager.core.base", "ContainerEngine"),
    ("dotfiles_container_manager.core.managers.image", "ImageManager"),
    ("dotfiles_container_manager.core.managers.container", "ContainerManager"),
    ("dotfiles_container_manager.core.managers.volume", "VolumeManager"),
    ("dotfiles_container_manager.core.managers.network", "NetworkManager"),
    ("dotfiles_container_manager.implementations.docker", "DockerEngine"),
    ("dotfiles_container_manager.implementations.docker", "DockerImageManager"),
    ("dotfiles_container_manager.implementations.docker", "DockerContainerManager"),
    ("dotfiles_container_manager.implementations.docker", "DockerVolumeManager"),
    ("dotfiles_container_manager.implementations.docker", "DockerNetworkManager"),
    ("dotfiles_container_manager.implementations.podman", "PodmanEngine"),
]

PROBE = """
import json, sys
before = set(sys.modules)
import dotfiles_container_manager
after = set(sys.modules)
print(json.dumps({"new": sorted(after - before), "stdlib": sorted(sys.stdlib_module_names)}))
"""


def fresh_import() -> tuple[list[str], set[str]]:
    """Modules a fresh interpreter loads to import the package, and the stdlib's names."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=30
    )
    data = json.loads(proc.stdout)
    return data["new"], set(data["stdlib"])


def test_import_loads_only_the_stdlib_and_little_of_it() -> None:
    new, stdlib = fresh_import()
    ours = [m for m in new if m.split(".")[0] == "dotfiles_container_manager"]
    # The package root and its lazy-export helper only: the rest is loaded on first use.
    assert ours == [
        "dotfiles_container_manager",
        "dotfiles_container_manager.core",
        "dotfiles_container_manager.core.lazy",
    ]
    foreign = [m for m in new if m.split(".")[0] not in stdlib and m not in ours]
    assert foreign == []
    for heavy in ("subprocess", "json", "dataclasses", "tarfile", "threading", "ipaddress"):
        assert heavy not in new


def test_first_use_loads_the_rest() -> None:
    probe = (
        "import sys, dotfiles_container_manager as d\n"
        "d.RunConfig\n"
        "print('dataclasses' in sys.modules, 'subprocess' in sys.modules)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=30
    )
    # Records are no dataclasses (core/record.py) and need no process machinery.
    assert proc.stdout.split() == ["False", "False"]


ENGINE_PROBE = """
import json, sys
before = set(sys.modules)
from dotfiles_container_manager.implementations.{runtime}.engine import {engine}
engine = {engine}(runner=object())
engine.containers
made = set(sys.modules)
engine.images, engine.volumes, engine.networks
print(json.dumps({{"made": sorted(made - before), "used": sorted(set(sys.modules) - made)}}))
"""


@pytest.mark.parametrize(
    ("runtime", "engine"), [("docker", "DockerEngine"), ("podman", "PodmanEngine")]
)
def test_an_engine_loads_what_a_cold_script_needs_only(runtime: str, engine: str) -> None:
    """The cold script (create(), then containers.list()) loads no module of the stdlib it
    can do without, nor the image/volume/network code; using those loads them."""
    probe = ENGINE_PROBE.format(runtime=runtime, engine=engine)
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=30
    )
    data = json.loads(proc.stdout)
    made, used = set(data["made"]), set(data["used"])
    stdlib = {"typing", "subprocess", "threading", "dataclasses", "socket", "inspect", "shutil"}
    assert made & stdlib == set()
    package = "dotfiles_container_manager"
    later = {
        f"{package}.core.readiness",
        f"{package}.core.streams",
        f"{package}.implementations.cli.connection",
        f"{package}.implementations.cli.tarread",
        f"{package}.implementations.cli.tarstream",
        f"{package}.implementations.cli.progress",
        f"{package}.implementations.docker.image",
        f"{package}.implementations.docker.volume",
        f"{package}.implementations.docker.network",
    }
    assert made & later == set()
    assert f"{package}.implementations.{runtime}.image" in used  # the control: they do load
    assert f"{package}.implementations.{runtime}.network" in used


def test_every_exported_name_resolves() -> None:
    assert len(dcm.__all__) == len(set(dcm.__all__))
    for name in dcm.__all__:
        assert getattr(dcm, name) is not None, name
    assert set(dir(dcm)) >= set(dcm.__all__)
    with pytest.raises(AttributeError):
        _ = dcm.NoSuchThing


def test_contract_names_are_exported() -> None:
    assert set(dcm.__all__) >= CONTRACT_NAMES
    exceptions = {
        name
        for name in dcm.__all__
        if isinstance(getattr(dcm, name), type)
        and issubclass(getattr(dcm, name), dcm.ContainerError)
    }
    # "ContainerError and every subclass" defined by the package.
    from dotfiles_container_manager.core import exceptions as module

    defined = {
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, dcm.ContainerError)
    }
    assert exceptions == defined


def test_contract_document_names_are_exported() -> None:
    if not CONTRACT.exists():
        if IN_CI:
            pytest.fail(f"the contract is missing: {CONTRACT}", pytrace=False)
        pytest.skip("the shared design notes are not here")
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split("## Imports", 1)[1].split("\n## ", 1)[0]
    bullets = " ".join(p for p in section.split("\n\n") if p.lstrip().startswith("- "))
    named = {
        word.strip("`,")
        for word in bullets.split()
        if word.startswith("`") and word.strip("`,")[:1].isupper()
    }
    assert named
    assert named <= set(dcm.__all__)


@pytest.mark.parametrize(("module", "name"), MODULE_PATHS)
def test_module_paths(module: str, name: str) -> None:
    assert isinstance(getattr(importlib.import_module(module), name), type)


def test_same_objects_everywhere() -> None:
    from dotfiles_container_manager.core.managers.image import ImageManager
    from dotfiles_container_manager.core.types import RunConfig

    assert dcm.ImageManager is ImageManager
    assert dcm.RunConfig is RunConfig


def test_enums() -> None:
    assert {r.value for r in dcm.ContainerRuntime} == {"docker", "podman"}
    assert {s.value for s in dcm.ContainerState} >= {
        "created",
        "running",
        "paused",
        "restarting",
        "removing",
        "exited",
        "dead",
    }
    assert {p.value for p in dcm.RestartPolicy} == {"no", "always", "unless-stopped", "on-failure"}
    assert dcm.ContainerState.parse("Stopped") is dcm.ContainerState.EXITED
    assert dcm.ContainerState.parse("configured") is dcm.ContainerState.CREATED
    assert dcm.ContainerState.parse("whatever") is dcm.ContainerState.UNKNOWN
    assert dcm.ContainerState.parse(None) is dcm.ContainerState.UNKNOWN
    assert str(dcm.RestartPolicy.ON_FAILURE) == "on-failure"


def test_typed_package() -> None:
    assert (Path(dcm.__file__).parent / "py.typed").exists()
