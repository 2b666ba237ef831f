"""Remote engines without one: addresses, hints, what the probe learns, ulimits, and the
relative bind sources a remote engine refuses. (The real second engines are in
tests/integration/test_remote.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    InvalidConfigError,
    PortMapping,
    RunConfig,
    RuntimeNotAvailableError,
    VolumeMount,
)
from dotfiles_container_manager.core import endpoint
from dotfiles_container_manager.implementations.docker import DockerEngine
from dotfiles_container_manager.implementations.docker.utils import run_args
from dotfiles_container_manager.implementations.podman import PodmanEngine

from .conftest import ENGINES, FakeRunner, result

DOCKER_DOC = {
    "Client": {"Version": "28.2.2", "ApiVersion": "1.41", "Os": "linux", "Context": "default"},
    "Server": {"Version": "20.10.24", "ApiVersion": "1.41"},
}
PODMAN_LOCAL = {"Client": {"APIVersion": "4.3.1", "Version": "4.3.1", "OsArch": "linux/amd64"}}
PODMAN_REMOTE = {**PODMAN_LOCAL, "Server": PODMAN_LOCAL["Client"]}


# --------------------------------------------------------------------------- ulimits


def test_ulimits_are_normalised_to_soft_hard_pairs() -> None:
    limits = {"nofile": (10000, 20000), "nproc": 1000, "core": [0, 0]}  # a list is a pair too
    config = RunConfig("img", ulimits=limits)  # type: ignore[arg-type]
    assert config.ulimits == {"nofile": (10000, 20000), "nproc": (1000, 1000), "core": (0, 0)}
    args = run_args(config)
    assert [args[i + 1] for i, a in enumerate(args) if a == "--ulimit"] == [
        "nofile=10000:20000",
        "nproc=1000:1000",
        "core=0:0",
    ]
    assert "--ulimit" not in run_args(RunConfig("img"))


@pytest.mark.parametrize(
    ("ulimits", "field"),
    [
        ({"files": 10}, "RunConfig.ulimits key"),
        ({"nofile": -1}, "RunConfig.ulimits[nofile]"),
        ({"nofile": (20, 10)}, "RunConfig.ulimits[nofile]"),
        ({"nofile": True}, "RunConfig.ulimits[nofile]"),
        ({"nofile": "1024"}, "RunConfig.ulimits[nofile]"),
        ({"nofile": (1, 2, 3)}, "RunConfig.ulimits[nofile]"),
        ({"nofile": 2**63}, "RunConfig.ulimits[nofile]"),
        ([("nofile", 1)], "RunConfig.ulimits"),
    ],
)
def test_bad_ulimits_are_refused(ulimits: object, field: str) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        RunConfig("img", ulimits=ulimits)  # type: ignore[arg-type]
    assert caught.value.field == field


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("url", "remote", "address"),
    [
        (None, False, "127.0.0.1"),
        ("unix:///var/run/docker.sock", False, "127.0.0.1"),
        ("npipe:////./pipe/docker_engine", False, "127.0.0.1"),
        ("tcp://build.example:2376", True, "build.example"),
        ("TCP://10.1.2.3:2375", True, "10.1.2.3"),
        ("ssh://me@build.example:2222", True, "build.example"),
        ("ssh://buildbox", True, "buildbox"),
        ("ssh://root@[::1]:22/run/podman/podman.sock", True, "::1"),
    ],
)
def test_host_address_by_url(url: str | None, remote: bool, address: str) -> None:
    assert endpoint.is_remote(url) is remote
    assert endpoint.host_address(url) == address


def _engine(host: str | None) -> DockerEngine:
    return DockerEngine(host=host, runner=FakeRunner("docker"))


def test_address_for_a_published_port() -> None:
    local = _engine(None)
    remote = _engine("tcp://build.example:2376")
    any_ip = PortMapping(80, 32768, host_ip="0.0.0.0")  # noqa: S104  (as inspect reports it)
    loop = PortMapping(80, 32768, host_ip="127.0.0.1")
    one = PortMapping(80, 32768, host_ip="10.0.0.5")
    assert local.address_for(any_ip) == local.address_for(loop) == "127.0.0.1"
    assert local.address_for(PortMapping(80, 32768, host_ip="::1")) == "::1"
    assert local.address_for(one) == "10.0.0.5"
    assert remote.address_for(any_ip) == remote.address_for(loop) == "build.example"
    assert remote.address_for(PortMapping(80, 32768)) == "build.example"
    assert remote.address_for(one) == "10.0.0.5"
    assert remote.is_remote and not local.is_remote


def test_wait_for_port_probes_the_engines_address() -> None:
    remote = _engine("tcp://build.example:2376")
    local = _engine(None)
    published = PortMapping(80, 32768, host_ip="0.0.0.0")  # noqa: S104  (as inspect reports it)
    assert remote.containers._connect_address(published) == ("build.example", 32768)
    assert local.containers._connect_address(published) == ("127.0.0.1", 32768)


def test_ssh_alias_resolves_through_ssh_config(tmp_path: Path) -> None:
    """``ssh -G`` reads the configuration (no connection): an alias gives its HostName."""
    config = tmp_path / "config"
    config.write_text("Host dcm-alias\n  HostName 127.0.0.9\n")
    shim = tmp_path / "ssh"
    shim.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {config} "$@"\n')
    shim.chmod(0o755)
    if not Path("/usr/bin/ssh").exists():
        pytest.skip("no ssh client")
    import os

    path = f"{tmp_path}:{os.environ['PATH']}"
    engine = DockerEngine(host="ssh://dcm-alias", env={"PATH": path}, runner=FakeRunner())
    assert engine.host_address == "127.0.0.9"


# --------------------------------------------------------------------------- what the probe saw


def test_docker_reports_docker_host_from_its_environment() -> None:
    fake = FakeRunner("docker", result(json.dumps(DOCKER_DOC)))
    engine = DockerEngine(env={"DOCKER_HOST": "ssh://me@build"}, runner=fake)
    assert (engine.host, engine.context) == (None, None)  # not probed yet
    engine.probe()
    assert (engine.host, engine.context) == ("ssh://me@build", "default")
    assert engine.is_remote and len(fake.calls) == 1  # no extra call for the default context


def test_docker_reads_a_named_contexts_address_once() -> None:
    doc = {**DOCKER_DOC, "Client": {**DOCKER_DOC["Client"], "Context": "build"}}
    fake = FakeRunner(
        "docker",
        result(json.dumps(doc)),
        result('"tcp://build.example:2376"\n'),
        result(json.dumps(doc)),
    )
    engine = DockerEngine(runner=fake)
    engine.probe()
    assert (engine.host, engine.context) == ("tcp://build.example:2376", "build")
    assert fake.calls[1].args[:2] == ("context", "inspect") and fake.calls[1].args[-1] == "build"
    engine.probe()
    assert len(fake.calls) == 3  # learnt once
    assert engine.containers.engine is engine and engine.is_remote


@pytest.mark.parametrize("engine_class", [DockerEngine, PodmanEngine])
def test_host_and_context_together_are_refused(engine_class: type[DockerEngine]) -> None:
    with pytest.raises(InvalidConfigError) as caught:
        engine_class(host="unix:///tmp/x.sock", context="build", runner=FakeRunner())
    assert caught.value.field == "context"


def test_an_unreadable_context_address_does_not_fail_the_probe() -> None:
    doc = {**DOCKER_DOC, "Client": {**DOCKER_DOC["Client"], "Context": "build"}}
    fake = FakeRunner("docker", result(json.dumps(doc)), result("not json"))
    engine = DockerEngine(runner=fake)
    assert engine.probe() is engine.runtime
    assert engine.host is None


def test_given_host_is_kept() -> None:
    fake = FakeRunner("docker", result(json.dumps(DOCKER_DOC)))
    engine = DockerEngine(host="unix:///tmp/other.sock", runner=fake)
    engine.probe()
    assert (engine.host, engine.context) == ("unix:///tmp/other.sock", None)


def test_local_podman_has_no_address() -> None:
    fake = FakeRunner("podman", result(json.dumps(PODMAN_LOCAL)))
    engine = PodmanEngine(runner=fake)
    engine.probe()
    assert (engine.host, engine.context) == (None, None)
    assert engine.host_address == "127.0.0.1" and not engine.is_remote


def test_podman_connection_address_from_the_connection_list() -> None:
    rows = [
        {"Name": "a", "URI": "unix:///run/a.sock", "Default": True},
        {"Name": "b", "URI": "ssh://core@127.0.0.1:40000/run/b.sock", "Default": False},
    ]
    fake = FakeRunner("podman", result(json.dumps(PODMAN_REMOTE)), result(json.dumps(rows)))
    engine = PodmanEngine(context="b", runner=fake)
    engine.probe()
    assert (engine.host, engine.context) == ("ssh://core@127.0.0.1:40000/run/b.sock", "b")
    fake = FakeRunner("podman", result(json.dumps(PODMAN_REMOTE)), result(json.dumps(rows)))
    engine = PodmanEngine(runner=fake, global_args=["--remote"])
    engine.probe()
    assert (engine.host, engine.context) == ("unix:///run/a.sock", "a")  # the default


def test_podman_container_host_variable() -> None:
    fake = FakeRunner("podman", result(json.dumps(PODMAN_REMOTE)))
    engine = PodmanEngine(env={"CONTAINER_HOST": "unix:///run/p.sock"}, runner=fake)
    engine.probe()
    assert (engine.host, engine.context) == ("unix:///run/p.sock", None)


# --------------------------------------------------------------------------- bind sources


def test_a_remote_engine_refuses_relative_bind_sources() -> None:
    fake = FakeRunner("docker")
    engine = DockerEngine(host="ssh://me@build", runner=fake)
    relative = RunConfig("img", volumes=[VolumeMount("./data", "/data")])
    with pytest.raises(InvalidConfigError) as caught:
        engine.containers.run(relative)
    assert caught.value.field == "VolumeMount.source"
    assert "ssh://me@build" in caught.value.message
    assert fake.calls == []  # refused before any process
    absolute = RunConfig(
        "img", volumes=[VolumeMount("/srv/data", "/data"), VolumeMount("vol", "/v")]
    )
    fake.queue(result("a" * 64 + "\n"))
    engine.containers.run(absolute)
    assert fake.calls[0].values("--mount")[0].startswith("type=bind,source=/srv/data")


def test_a_local_engine_makes_relative_bind_sources_absolute() -> None:
    mount = VolumeMount("./data", "/data")
    assert mount.relative_source and mount.source.startswith("/")
    assert not VolumeMount("/data", "/data").relative_source
    assert not VolumeMount("vol", "/data").relative_source
    fake = FakeRunner("docker", result("b" * 64 + "\n"))
    DockerEngine(host="unix:///tmp/other.sock", runner=fake).containers.run(
        RunConfig("img", volumes=[mount])
    )
    assert len(fake.calls) == 1


# --------------------------------------------------------------------------- hints


SSH_FAIL = (
    'error during connect: Get "http://docker.example.com/v1.50/version": command [ssh -o '
    "ConnectTimeout=30 -T -l root -p 2223 -- 127.0.0.1 docker system dial-stdio] has exited "
    "with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed "
    "on the remote host: stderr={}"
)


@pytest.mark.parametrize(
    ("runtime", "stderr", "host", "context", "expected"),
    [
        (
            "docker",
            SSH_FAIL.format("ssh: connect to host 127.0.0.1 port 2223: Connection refused"),
            "ssh://root@127.0.0.1:2223",
            None,
            "port",
        ),
        (
            "docker",
            SSH_FAIL.format("root@127.0.0.1: Permission denied (publickey)."),
            "ssh://root@127.0.0.1:2223",
            None,
            "ssh-add",
        ),
        (
            "docker",
            'Failed to initialize: unable to resolve docker endpoint: context "nope": context '
            "not found: open /root/.docker/contexts/meta/x/meta.json: no such file or directory",
            None,
            "nope",
            "docker context create nope",
        ),
        (
            "podman",
            'Error: failed to resolve active destination: "nope" service destination not found',
            None,
            "nope",
            "podman system connection add nope",
        ),
        (
            "docker",
            "Cannot connect to the Docker daemon at unix:///tmp/d2/docker.sock. Is the docker "
            "daemon running?",
            "unix:///tmp/d2/docker.sock",
            None,
            "unix:///tmp/d2/docker.sock",
        ),
    ],
)
def test_an_unreachable_engine_says_what_to_do(
    runtime: str, stderr: str, host: str | None, context: str | None, expected: str
) -> None:
    """The probe's failure carries the CLI's message and the shared diagnosis' hint (the
    classifier puts it there; the factory fills it for what the classifier did not)."""
    fake = FakeRunner(runtime, result(stderr=stderr, returncode=125))
    engine = ENGINES[runtime](host=host, context=context, runner=fake)
    with pytest.raises(RuntimeNotAvailableError) as caught:
        engine.probe()
    assert caught.value.hint and expected in caught.value.hint
    assert f"hint: {caught.value.hint}" in str(caught.value)
    assert caught.value.stderr == stderr
