"""Configuration is checked when it is built, before any process starts."""

from __future__ import annotations

import os
from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerError,
    InvalidConfigError,
    PortMapping,
    PullPolicy,
    RestartPolicy,
    RunConfig,
    VolumeMount,
)
from dotfiles_container_manager.core import validation as v
from dotfiles_container_manager.implementations.docker.utils import mount_spec, port_spec

IMAGE = "dcm-test-base:latest"
SENSITIVE = "s3cr3t-value-do-not-leak"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def rejects(field: str, build: Any, *args: Any, **kwargs: Any) -> InvalidConfigError:
    with pytest.raises(InvalidConfigError) as caught:
        build(*args, **kwargs)
    exc = caught.value
    assert isinstance(exc, ValueError)
    assert isinstance(exc, ContainerError)
    assert exc.field == field
    assert str(exc).startswith(f"invalid {field} ")
    assert exc.command == []  # nothing ran
    return exc


# --------------------------------------------------------------------------- validators


@pytest.mark.parametrize(
    "value", ["-x", "--rm", "a b", "a\tb", "a\nb", "", "a\x00b", 5, None, b"ab"]
)
def test_check_reference_rejects(value: Any) -> None:
    rejects("container", v.check_reference, "container", value)


@pytest.mark.parametrize("value", ["web", "c40f859d1ff4", "a-b_c.d", "ns/x:1", "x@sha256:ab"])
def test_check_reference_accepts(value: str) -> None:
    assert v.check_reference("container", value) == value


@pytest.mark.parametrize("value", ["a", "-ab", "_ab", ".ab", "a/b", "a b", "ab\x00", "été", "a:b"])
def test_check_name_rejects(value: str) -> None:
    rejects("name", v.check_name, "name", value)


@pytest.mark.parametrize("value", ["ab", "web-1", "A.b_c-d", "0x"])
def test_check_name_accepts(value: str) -> None:
    assert v.check_name("name", value) == value


@pytest.mark.parametrize(
    "value",
    [
        "Alpine:3",
        "alpine:",
        ":tag",
        "-alpine",
        "alpine:-x",
        "alpine latest",
        "alpine/",
        "/alpine",
        "alpine//x",
        "alpine:é",
        "alpine:" + "t" * 129,
        "alpine@sha256:short",
        "ALPINE",
        "",
    ],
)
def test_check_image_ref_rejects(value: str) -> None:
    rejects("image", v.check_image_ref, "image", value)


def test_uppercase_repository_is_explained() -> None:
    exc = rejects("image", v.check_image_ref, "image", "MyApp:1")
    assert "lowercase" in str(exc)


@pytest.mark.parametrize(
    "value",
    [
        "alpine",
        "alpine:3.19",
        "alpine:Tag_1",
        "docker.io/library/alpine:latest",
        "localhost:5000/my/app:v1",
        "my-registry.example.com/a__b/c--d:1",
        f"alpine@{DIGEST}",
        f"alpine:3@{DIGEST}",
    ],
)
def test_check_image_ref_accepts(value: str) -> None:
    assert v.check_image_ref("image", value) == value


def test_check_image_takes_ids() -> None:
    assert v.check_image("image", DIGEST) == DIGEST
    assert v.check_image("image", "0123456789ab") == "0123456789ab"
    assert v.is_image_id(DIGEST)
    assert v.is_image_id("0123456789ab")
    assert not v.is_image_id("abcd")  # too short to be taken for an id: a name
    assert not v.is_image_id("alpine")
    rejects("image", v.check_image, "image", "-0123456789ab")


@pytest.mark.parametrize("value", [0, 65536, -1, True, "80", 80.0, None])
def test_check_port_rejects(value: Any) -> None:
    rejects("port", v.check_port, "port", value)


@pytest.mark.parametrize(
    "path",
    ["/abs", "\\x", "a\\b", "../x", "a/../../x", "a/../b", "..", ".", "", "./", "a\x00b", 3],
)
def test_context_paths_rejected(path: Any) -> None:
    rejects("path", v.normalize_context_path, "path", path)


@pytest.mark.parametrize(
    ("path", "norm"), [("a", "a"), ("./a", "a"), ("a//b/", "a/b"), ("a/./b", "a/b"), (".a", ".a")]
)
def test_context_paths_normalised(path: str, norm: str) -> None:
    assert v.normalize_context_path("path", path) == norm


def test_check_args_refuses_a_bare_string() -> None:
    rejects("cmd", v.check_args, "cmd", "ls -l")
    rejects("cmd item", v.check_args, "cmd", ["ls", None])
    assert v.check_args("cmd", ["ls", "", "-l"]) == ("ls", "", "-l")


# --------------------------------------------------------------------------- ports, mounts


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"container_port": 0}, "PortMapping.container_port"),
        ({"container_port": 65536}, "PortMapping.container_port"),
        ({"container_port": 80, "host_port": 0}, "PortMapping.host_port"),
        ({"container_port": 80, "host_port": 70000}, "PortMapping.host_port"),
        ({"container_port": 80, "protocol": "icmp"}, "PortMapping.protocol"),
        ({"container_port": 80, "protocol": "TCP"}, "PortMapping.protocol"),
        ({"container_port": 80, "host_ip": "localhost"}, "PortMapping.host_ip"),
        ({"container_port": 80, "host_ip": "1.2.3"}, "PortMapping.host_ip"),
    ],
)
def test_port_mapping_rejects(kwargs: dict[str, Any], field: str) -> None:
    rejects(field, PortMapping, **kwargs)


@pytest.mark.parametrize(
    ("mapping", "arg"),
    [
        (PortMapping(1), "1/tcp"),
        (PortMapping(65535, 65535, "sctp"), "65535:65535/sctp"),
        (PortMapping(80, 8080, host_ip="0.0.0.0"), "0.0.0.0:8080:80/tcp"),  # noqa: S104
        (PortMapping(80, host_ip="::"), "[::]::80/tcp"),
    ],
)
def test_port_mapping_arg(mapping: PortMapping, arg: str) -> None:
    assert port_spec(mapping) == arg


@pytest.mark.parametrize(
    ("source", "target", "field"),
    [
        ("data", "data", "VolumeMount.target"),
        ("data", "", "VolumeMount.target"),
        # ',', ':' and '"' are quoted in --mount now (test_validation_round2); a newline is not
        ("data", "/a\nb", "VolumeMount.target"),
        ("/x\ny", "/data", "VolumeMount.source"),
        ("my vol", "/data", "VolumeMount.source"),
        ("-vol", "/data", "VolumeMount.source"),
        ("", "/data", "VolumeMount.source"),
        ("/x\x00", "/data", "VolumeMount.source"),
    ],
)
def test_volume_mount_rejects(source: str, target: str, field: str) -> None:
    rejects(field, VolumeMount, source, target)


def test_volume_mount_bind_and_named() -> None:
    bind = VolumeMount("./conf", "/etc/app", read_only=True)
    assert bind.is_bind
    assert bind.source == os.path.join(os.getcwd(), "conf")
    assert mount_spec(bind) == f"type=bind,source={bind.source},target=/etc/app,ro"
    named = VolumeMount("data", "/data")
    assert not named.is_bind
    assert mount_spec(named) == "type=volume,source=data,target=/data"


# --------------------------------------------------------------------------- RunConfig


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"image": "Upper:1"}, "RunConfig.image"),
        ({"image": "-it"}, "RunConfig.image"),
        ({"name": "-x"}, "RunConfig.name"),
        ({"name": "a b"}, "RunConfig.name"),
        ({"command": "echo hi"}, "RunConfig.command"),
        ({"entrypoint": "sh"}, "RunConfig.entrypoint"),
        ({"restart_max_retries": 3}, "RunConfig.restart_max_retries"),
        (
            {"restart_policy": RestartPolicy.ALWAYS, "restart_max_retries": 3},
            "RunConfig.restart_max_retries",
        ),
        (
            {"restart_policy": RestartPolicy.ON_FAILURE, "restart_max_retries": -1},
            "RunConfig.restart_max_retries",
        ),
        ({"restart_policy": "sometimes"}, "RunConfig.restart_policy"),
        ({"remove": True, "restart_policy": RestartPolicy.ALWAYS}, "RunConfig.remove"),
        ({"network": "-net"}, "RunConfig.network"),
        ({"volumes": ["data:/data"]}, "RunConfig.volumes"),
        ({"ports": [80]}, "RunConfig.ports"),
        ({"labels": {"a=b": "1"}}, "RunConfig.labels key"),
        ({"labels": {"": "1"}}, "RunConfig.labels key"),
        ({"labels": {"a": "\x00"}}, "RunConfig.labels[a]"),
        ({"working_dir": "rel"}, "RunConfig.working_dir"),
        ({"user": "a b"}, "RunConfig.user"),
        ({"tmpfs": ["tmp"]}, "RunConfig.tmpfs"),
        ({"extra_hosts": {"db": "not-an-ip"}}, "RunConfig.extra_hosts[db]"),
        ({"extra_hosts": {"-db": "10.0.0.1"}}, "RunConfig.extra_hosts key"),
        ({"cap_add": ["-x"]}, "RunConfig.cap_add"),
        ({"network_aliases": "db"}, "RunConfig.network_aliases"),
        ({"cpus": 0}, "RunConfig.cpus"),
        ({"cpus": -1.5}, "RunConfig.cpus"),
        ({"stop_timeout": -1}, "RunConfig.stop_timeout"),
        ({"environment": {"": "x"}}, "RunConfig.environment key"),
        ({"environment": {"A=B": "x"}}, "RunConfig.environment key"),
        ({"environment": {"A\nB": "x"}}, "RunConfig.environment key"),
        ({"environment": {"A\x00": "x"}}, "RunConfig.environment key"),
    ],
)
def test_run_config_rejects(kwargs: dict[str, Any], field: str) -> None:
    rejects(field, RunConfig, **{"image": IMAGE, **kwargs})


def test_pull_policy_must_be_a_member() -> None:
    assert RunConfig(IMAGE, pull="never").pull is PullPolicy.NEVER  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RunConfig(IMAGE, pull="sometimes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("environment", "env_file", "field"),
    [
        ({"TOKEN": 5}, False, "RunConfig.environment[TOKEN]"),
        ({"TOKEN": f"{SENSITIVE}\x00"}, False, "RunConfig.environment[TOKEN]"),
        ({"TOKEN": f"{SENSITIVE}\nX=1"}, True, "RunConfig.environment[TOKEN]"),
    ],
)
def test_environment_values_never_shown(
    environment: dict[str, Any], env_file: bool, field: str
) -> None:
    exc = rejects(field, RunConfig, IMAGE, environment=environment, env_file=env_file)
    assert exc.value == "<redacted>"
    for text in (str(exc), repr(exc), exc.message, exc.value):
        assert SENSITIVE not in text
    assert "<redacted>" in str(exc)


def test_run_config_repr_shows_keys_only() -> None:
    config = RunConfig(IMAGE, name="web", environment={"TOKEN": SENSITIVE, "A": "1"})
    for text in (repr(config), str(config), f"{config}", f"{config!r}"):
        assert SENSITIVE not in text
    assert (
        repr(config)
        == "RunConfig(image='dcm-test-base:latest', name='web', environment keys=[A, TOKEN])"
    )


def test_build_args_never_shown() -> None:
    context = BuildContext("FROM scratch\n", build_args={"TOKEN": SENSITIVE})
    assert SENSITIVE not in repr(context)
    exc = rejects(
        "BuildContext.build_args[TOKEN]", BuildContext, "FROM scratch\n", build_args={"TOKEN": 1}
    )
    assert exc.value == "<redacted>"


def test_run_config_copies_its_inputs() -> None:
    env, labels, command = {"A": "1"}, {"l": "1"}, ["sleep", "1"]
    config = RunConfig(IMAGE, environment=env, labels=labels, command=command)
    env["A"], labels["l"] = "changed", "changed"
    command.append("more")
    assert config.environment == {"A": "1"}
    assert config.labels == {"l": "1"}
    assert config.command == ("sleep", "1")
    with pytest.raises(AttributeError):
        config.image = "other"  # type: ignore[misc]


def test_run_config_accepts_the_common_cases() -> None:
    config = RunConfig(
        IMAGE,
        restart_policy="on-failure",  # type: ignore[arg-type]
        restart_max_retries=0,
        working_dir="/w",
        tmpfs=["/run"],
        extra_hosts={"db": "::1"},
        stop_timeout=0,
        cpus=0.5,
        environment={"EMPTY": "", "MULTI": "line1\nline2"},
    )
    assert config.restart_policy is RestartPolicy.ON_FAILURE
    assert config.environment["MULTI"] == "line1\nline2"  # fine without env_file
    assert config.tmpfs == ("/run",)


# --------------------------------------------------------------------------- BuildContext


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"files": {"/etc/passwd": b""}}, "BuildContext.files key"),
        ({"files": {"../up": b""}}, "BuildContext.files key"),
        ({"files": {"a/../../up": b""}}, "BuildContext.files key"),
        ({"files": {"a\x00": b""}}, "BuildContext.files key"),
        ({"files": {"": b""}}, "BuildContext.files key"),
        ({"files": {"a": b"1", "./a": b"2"}}, "BuildContext.files key"),
        ({"files": {"x//y": b"1", "x/y": b"2"}}, "BuildContext.files key"),
        ({"files": {"./Dockerfile": b""}}, "BuildContext.files key"),
        ({"files": {"a": 5}}, "BuildContext.files[a]"),
        ({"files": {"a": b"12345"}, "max_size": 4}, "BuildContext.files"),
        ({"files": {"a": b"123", "b": "45"}, "max_size": 4}, "BuildContext.files"),
        ({"dockerfile_path": "/Dockerfile"}, "BuildContext.dockerfile_path"),
        ({"dockerfile_path": "../Dockerfile"}, "BuildContext.dockerfile_path"),
        ({"executable": ["missing.sh"]}, "BuildContext.executable"),
        ({"executable": ["../x"]}, "BuildContext.executable"),
        ({"tags": ["Bad:1"]}, "BuildContext.tags"),
        ({"target": "-x"}, "BuildContext.target"),
        ({"labels": {"a=b": "1"}}, "BuildContext.labels key"),
        ({"build_args": {"A=B": "1"}}, "BuildContext.build_args key"),
    ],
)
def test_build_context_rejects(kwargs: dict[str, Any], field: str) -> None:
    rejects(field, BuildContext, "FROM scratch\n", **kwargs)


def test_build_context_dockerfile_must_be_text() -> None:
    rejects("BuildContext.dockerfile", BuildContext, "")
    rejects("BuildContext.dockerfile", BuildContext, b"FROM scratch")
    rejects("BuildContext.dockerfile", BuildContext, "FROM scratch\x00")


def test_build_context_normalises() -> None:
    data = bytearray(b"abc")
    context = BuildContext(
        "FROM scratch\n",
        files={"./a//b.txt": "é", "c": data, "d": memoryview(b"mv")},  # type: ignore[dict-item]
        executable=["./c"],
        max_size=7,
    )
    assert context.files == {"a/b.txt": "é".encode(), "c": b"abc", "d": b"mv"}
    assert all(type(d) is bytes for d in context.files.values())
    data[0] = ord("X")
    assert context.files["c"] == b"abc"  # copied
    assert context.executable == ("c",)
    assert context.size == len(b"FROM scratch\n") + 7
