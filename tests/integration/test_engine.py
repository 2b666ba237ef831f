"""The factory and the engine on real docker and podman."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    CommandTimeoutError,
    ContainerEngine,
    ContainerEngineFactory,
    ContainerRuntime,
    EngineInfo,
    InvalidConfigError,
    RuntimeNotAvailableError,
)
from dotfiles_container_manager.implementations.docker import DockerEngine
from dotfiles_container_manager.implementations.podman import PodmanEngine

from .conftest import Resources, get_engine

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.real_only("the factory probing the real CLI")
def test_create_by_enum_and_string(engine: ContainerEngine, runtime: str) -> None:
    by_enum = ContainerEngineFactory.create(ContainerRuntime(runtime))
    by_name = ContainerEngineFactory.create(runtime)
    expected = DockerEngine if runtime == "docker" else PodmanEngine
    assert type(by_enum) is type(by_name) is expected
    assert by_enum.runtime is ContainerRuntime(runtime)
    assert by_name.command == runtime
    assert ContainerEngineFactory.is_available(runtime)
    assert ContainerRuntime(runtime) in ContainerEngineFactory.available_runtimes()


def test_version_info_is_available(engine: ContainerEngine) -> None:
    version = engine.version()
    assert version and version[0].isdigit()
    assert engine.is_available()
    info = engine.info()
    assert isinstance(info, EngineInfo)
    assert info.runtime == engine.runtime.value and info.version == version
    assert info.storage_driver and info.os == "linux"


@pytest.mark.real_only("the factory probing the real CLI")
def test_environment_variable_selects_runtime(
    engine: ContainerEngine, runtime: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOTFILES_CONTAINER_RUNTIME", runtime)
    assert ContainerEngineFactory.create().runtime is ContainerRuntime(runtime)
    assert ContainerEngineFactory.detect() is ContainerRuntime(runtime)


def test_detect_prefers_docker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOTFILES_CONTAINER_RUNTIME", raising=False)
    get_engine("docker")  # skips (or fails under CI) when docker does not answer
    assert ContainerEngineFactory.detect() is ContainerRuntime.DOCKER


def test_unknown_runtime_is_invalid() -> None:
    with pytest.raises(InvalidConfigError):
        ContainerEngineFactory.create("lxc")


def test_missing_cli(tmp_path: Path) -> None:
    with pytest.raises(RuntimeNotAvailableError) as info:
        ContainerEngineFactory.create("docker", command=str(tmp_path / "no-such-docker"))
    assert info.value.runtime == "docker"


@pytest.mark.real_only("the real CLI and its daemon")
def test_unreachable_daemon(engine: ContainerEngine, runtime: str) -> None:
    env = (
        {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}
        if runtime == "docker"
        else {"CONTAINER_HOST": "unix:///nonexistent/podman.sock"}
    )
    args = [] if runtime == "docker" else ["--remote"]
    with pytest.raises(RuntimeNotAvailableError) as info:
        ContainerEngineFactory.create(runtime, global_args=args, env=env)
    assert info.value.runtime == runtime
    assert info.value.stderr


def test_podman_behind_a_docker_name_is_podman(tmp_path: Path) -> None:
    get_engine("podman")  # skips (or fails under CI) when podman does not answer
    podman = shutil.which("podman")
    assert podman is not None
    shim = tmp_path / "docker"
    shim.write_text(f'#!/bin/sh\nexec {podman} "$@"\n')
    shim.chmod(0o755)
    engine = ContainerEngineFactory.create("docker", command=str(shim))
    assert isinstance(engine, PodmanEngine)
    assert engine.runtime is ContainerRuntime.PODMAN
    assert engine.command == str(shim)
    assert engine.images.exists("dcm-test-base:latest")


def test_call_past_timeout_is_killed(engine: ContainerEngine, res: Resources) -> None:
    with engine.containers.running(res.config()) as cid:
        with pytest.raises(CommandTimeoutError) as info:
            engine.containers.wait(cid, timeout=1)
        assert info.value.timeout == 1
        assert "wait" in info.value.command


@pytest.mark.real_only("the examples drive the real CLI")
@pytest.mark.parametrize("script", ["contract_tour.py", "quickstart.py"])
def test_examples_run_unchanged(engine: ContainerEngine, runtime: str, script: str) -> None:
    path = ROOT / "examples" / script
    if not path.exists():
        pytest.fail(f"{path} is missing")
    result = subprocess.run(
        [sys.executable, str(path), runtime],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DOTFILES_CONTAINER_RUNTIME": runtime},
    )
    assert result.returncode == 0, result.stdout + result.stderr
