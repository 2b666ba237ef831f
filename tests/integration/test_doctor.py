"""The doctor and the errors' hints against the real docker and podman.

The doctor runs as a user runs it (``python -m dotfiles_container_manager doctor``) in a
subprocess; failures are provoked for real: a daemon address nothing listens on, a
containers.conf naming an OCI runtime that does not exist, rlimits above the machine's hard
limits (podman's rc 126), a container name taken twice.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    ContainerConflictError,
    ContainerEngine,
    ContainerEngineFactory,
    RuntimeNotAvailableError,
)
from dotfiles_container_manager.diagnosis import diagnose_error

from .conftest import IN_CI, Resources, get_engine

SRC = Path(__file__).resolve().parents[2] / "src"


def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, Any]:
    environ = dict(os.environ, **(env or {}))
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "dotfiles_container_manager", "doctor", "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
        check=False,
    )
    return proc.returncode, json.loads(proc.stdout)  # one JSON object, whatever happened


def by_runtime(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["runtime"]: entry for entry in data["runtimes"]}


def leftovers(engine: ContainerEngine) -> list[str]:
    images = [t for i in engine.images.list() for t in i.tags if t.startswith("dcm-doctor-")]
    containers = [c.name for c in engine.containers.list(all=True) if c.name.startswith("dcm-doc")]
    return images + containers


def test_doctor_agrees_with_create() -> None:
    for runtime in ("docker", "podman"):
        get_engine(runtime)  # skipped (failed under CI) when a runtime does not answer
    status, data = doctor()
    assert status == 0
    assert data["selected"] == ContainerEngineFactory.create().runtime.value
    for runtime, entry in by_runtime(data).items():
        assert entry["available"] is ContainerEngineFactory.is_available(runtime)
        assert entry["available"]
        assert entry["command"]
        assert entry["version"] == get_engine(runtime).version()
        assert entry["client_version"]
        assert entry["storage_driver"]
        assert entry["rootless"] in (True, False)
        assert entry["problem"] is None
    assert data["environment"]["CONTAINERS_CONF"] == os.environ.get("CONTAINERS_CONF")


def test_doctor_run_starts_a_container_on_each_runtime() -> None:
    engines = [get_engine(runtime) for runtime in ("docker", "podman")]
    status, data = doctor("--run")
    assert status == 0, data
    for entry in data["runtimes"]:
        assert entry["run"]["ok"] is True, entry
    for engine in engines:
        assert leftovers(engine) == []


def _hard_nofile() -> int:
    return resource.getrlimit(resource.RLIMIT_NOFILE)[1]


def test_doctor_run_catches_podmans_rc_126(tmp_path: Path) -> None:
    engine = get_engine("podman")
    hard = _hard_nofile()
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard nofile limit here to exceed")
    # podman's defaults exceed the hard limit on machines like CI's: provoke that for real.
    conf = tmp_path / "containers.conf"
    conf.write_text(
        f'[containers]\ndefault_ulimits = ["nofile={hard * 2}:{hard * 2}"]\n\n'
        '[engine]\nruntime = "runc"\n'
    )
    env = {"CONTAINERS_CONF": str(conf), "DOTFILES_CONTAINER_RUNTIME": "podman"}
    status, data = doctor("--run", env=env)
    podman = by_runtime(data)["podman"]
    if podman["run"]["ok"]:
        assert not IN_CI, "podman raised its rlimits above the hard limit: cannot provoke"
        pytest.skip("podman may raise rlimits above the hard limit here (CAP_SYS_RESOURCE)")
    assert podman["available"] is True  # podman version and info answer...
    assert podman["run"]["ok"] is False  # ...but no container starts
    assert podman["cause"] == "oci-runtime"
    assert "default_ulimits" in podman["hint"]
    assert "CONTAINERS_CONF" in podman["hint"]
    assert data["selected"] == "podman"
    assert status == 1  # the runtime create() picks cannot start containers
    assert leftovers(engine) == []


def test_factory_hint_for_a_missing_oci_runtime(tmp_path: Path) -> None:
    get_engine("podman")
    conf = tmp_path / "containers.conf"
    conf.write_text('[engine]\nruntime = "dcm-no-such-runtime"\n')
    with pytest.raises(RuntimeNotAvailableError) as caught:
        ContainerEngineFactory.create("podman", env={"CONTAINERS_CONF": str(conf)})
    found = diagnose_error(caught.value)
    assert found is not None
    assert found.cause == "oci-runtime-missing"
    assert caught.value.hint == found.hint
    assert f"hint: {found.hint}" in str(caught.value)


@pytest.mark.parametrize(
    ("runtime", "host"),
    [("docker", "unix:///nonexistent/dcm.sock"), ("podman", "unix:///nonexistent/dcm.sock")],
)
def test_factory_hint_for_a_daemon_that_does_not_answer(runtime: str, host: str) -> None:
    get_engine(runtime)
    with pytest.raises(RuntimeNotAvailableError) as caught:
        ContainerEngineFactory.create(runtime, host=host)
    found = diagnose_error(caught.value)
    assert found is not None
    assert found.cause == "daemon-down"
    assert host in found.problem
    assert caught.value.hint == found.hint


def test_doctor_reports_a_daemon_that_does_not_answer() -> None:
    get_engine("podman")
    status, data = doctor(env={"DOCKER_HOST": "unix:///nonexistent/dcm.sock"})
    docker = by_runtime(data)["docker"]
    assert docker["available"] is False
    assert docker["cause"] == "daemon-down"
    assert "unset DOCKER_HOST" in docker["hint"]
    assert docker["client_version"]  # the CLI answers `--version` without a daemon
    assert data["environment"]["DOCKER_HOST"] == "unix:///nonexistent/dcm.sock"
    assert data["selected"] == "podman"
    assert status == 0


def test_name_conflict_says_what_to_do(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("taken")
    first = engine.containers.run(res.config(name=name))
    try:
        with pytest.raises(ContainerConflictError) as caught:
            engine.containers.run(res.config(name=name))
        assert caught.value.hint is not None
        assert f"{engine.runtime.value} rm -f {name}" in caught.value.hint
    finally:
        engine.containers.remove(first, force=True)
