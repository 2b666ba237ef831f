"""Reliability round 2: inputs the library accepted and a CLI then refused or misread.

Each case here failed before the round-2 checks (the value was accepted at build time, then
a CLI refused it after a process started, or silently did something else).
"""

from __future__ import annotations

import csv
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dotfiles_container_manager import (
    BuildContext,
    InvalidConfigError,
    RestartPolicy,
    RunConfig,
    VolumeMount,
)
from dotfiles_container_manager.core import validation as v
from dotfiles_container_manager.implementations.docker.utils import (
    cli_sensitive,
    csv_field,
    filter_args,
    label_args,
    mount_spec,
    run_args,
)

IMAGE = "dcm-test-base:latest"
SECRET = "S3cr3t-do-not-leak"  # noqa: S105 - a stand-in


def refused(field: str, call: Any, *args: Any, **kwargs: Any) -> InvalidConfigError:
    with pytest.raises(InvalidConfigError) as caught:
        call(*args, **kwargs)
    exc = caught.value
    assert exc.field == field, exc
    assert exc.command == []
    return exc


def assert_no_secret(exc: BaseException) -> None:
    """Nothing reachable from the exception holds the secret, nor anything it chains to."""
    seen: BaseException | None = exc
    while seen is not None:
        texts = [repr(seen), str(seen), repr(seen.args), repr(getattr(seen, "value", ""))]
        for text in texts:
            assert SECRET not in text, text
        assert seen.__cause__ is None or seen.__cause__ is not seen
        seen = seen.__cause__ or seen.__context__


# --------------------------------------------------------------------------- environment keys


@pytest.mark.parametrize(
    "key", ["RT_*", "*", "A?", "A[B]", "]", " RT_A", "RT_A ", "A B", "A\tB", "#A", "A\rB"]
)
def test_env_keys_podman_would_expand_or_rewrite_are_refused(key: str) -> None:
    # podman copies every host variable starting with RT_ for "-e RT_*", and strips the
    # leading whitespace of " RT_A" then reads the host's RT_A.
    refused("RunConfig.environment key", RunConfig, IMAGE, environment={key: "x"})
    refused("e key", v.check_env, "e", {key: "x"})
    refused("BuildContext.build_args key", BuildContext, "FROM x\n", build_args={key: "x"})


@pytest.mark.parametrize("key", ["R_A", "a.b-c", "é", "1A", "-x", "A#"])
def test_env_keys_both_runtimes_keep(key: str) -> None:
    assert v.check_env("e", {key: "x"}) == {key: "x"}


# --------------------------------------------------------------------------- unencodable text


@pytest.mark.parametrize("bad", [chr(0xD800), chr(0xDCFF), chr(0xDC80) + "tail", chr(0xDFFF)])
def test_unencodable_env_value_is_refused_without_showing_it(bad: str) -> None:
    value = SECRET + bad
    exc = refused("RunConfig.environment[T]", RunConfig, IMAGE, environment={"T": value})
    assert exc.value == "<redacted>"
    assert_no_secret(exc)
    assert exc.__context__ is None and exc.__cause__ is None
    exc = refused("environment[T]", v.check_env, "environment", {"T": value})
    assert_no_secret(exc)
    exc = refused("BuildContext.build_args[T]", BuildContext, "FROM x\n", build_args={"T": value})
    assert_no_secret(exc)


def test_unencodable_text_anywhere_on_argv_is_refused() -> None:
    bad = SECRET + "\ud800"
    cases: list[tuple[str, Any]] = [
        ("RunConfig.labels[k]", lambda: RunConfig(IMAGE, labels={"k": bad})),
        ("RunConfig.labels key", lambda: RunConfig(IMAGE, labels={bad: "v"})),
        ("RunConfig.environment key", lambda: RunConfig(IMAGE, environment={bad: "v"})),
        ("RunConfig.command item", lambda: RunConfig(IMAGE, command=["echo", bad])),
        ("RunConfig.healthcheck", lambda: RunConfig(IMAGE, healthcheck=bad)),
        ("RunConfig.working_dir", lambda: RunConfig(IMAGE, working_dir="/" + bad)),
        ("VolumeMount.source", lambda: VolumeMount("/" + bad, "/mnt")),
        ("BuildContext.labels[k]", lambda: BuildContext("FROM x\n", labels={"k": bad})),
        ("BuildContext.dockerfile", lambda: BuildContext("FROM x\n#" + bad)),
        ("BuildContext.files[a]", lambda: BuildContext("FROM x\n", files={"a": bad})),
    ]
    for field, call in cases:
        exc = refused(field, call)
        assert_no_secret(exc)
        assert "UTF-8" in str(exc)


def test_undecodable_environ_bytes_round_trip_is_refused() -> None:
    # What os.environ holds for a variable whose bytes are not UTF-8.
    value = b"S3cr3t-do-not-leak\xff".decode("utf-8", "surrogateescape")
    assert_no_secret(refused("e[T]", v.check_env, "e", {"T": value}))


# --------------------------------------------------------------------------- cli_sensitive


@pytest.mark.parametrize(
    "key",
    [
        "REGISTRIES_CONFIG_PATH",
        "REGISTRY_AUTH_FILE",
        "CONTAINERS_CONF",
        "CONTAINERS_CONF_OVERRIDE",
        "CONTAINERS_REGISTRIES_CONF",
        "CONTAINERS_STORAGE_CONF",
        "CONTAINER_HOST",
        "CONTAINER_SSHKEY",
        "_CONTAINERS_USERNS_CONFIGURED",
        "_CONTAINERS_ROOTLESS_UID",
        "_BUILDAH_STARTED_IN_USERNS",
        "STORAGE_DRIVER",
        "STORAGE_OPTS",
        "XDG_RUNTIME_DIR",
        "XDG_CONFIG_HOME",
        "TMPDIR",
        "BUILDAH_ISOLATION",
        "PODMAN_USERNS",
        "DOCKER_HOST",
        "DOCKER_CONTEXT",
        "BUILDKIT_PROGRESS",
        "BUILDX_BUILDER",
        "NOTARY_ROOT_PASSPHRASE",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "TZ",
        "HOME",
        "PATH",
        "http_proxy",
        "HTTPS_PROXY",
        "no_proxy",
        "SSH_AUTH_SOCK",
        "LD_PRELOAD",
        "GODEBUG",
        "GOMAXPROCS",
        "SSL_CERT_FILE",
        "NOTIFY_SOCKET",
        "LISTEN_FDS",
        "DBUS_SESSION_BUS_ADDRESS",
        "NETAVARK_FW",
        "CNI_PATH",
        "LC_ALL",
        "LANG",
        "GLIBC_TUNABLES",
    ],
)
def test_variables_that_configure_a_cli_are_sensitive(key: str) -> None:
    assert cli_sensitive(key)


@pytest.mark.parametrize("key", ["APP_TOKEN", "DATABASE_URL", "MY_REGISTRY_X", "TZ_NAME_X"])
def test_ordinary_variables_are_not_sensitive(key: str) -> None:
    assert not cli_sensitive(key)


# --------------------------------------------------------------------------- lengths


def test_image_reference_length_follows_the_normalised_name() -> None:
    # docker refuses a one-part name of 238 ("docker.io/library/" + 238 > 255), takes 237.
    assert v.check_image_ref("r", "a" * 237 + ":t")
    refused("r", v.check_image_ref, "r", "a" * 238 + ":t")
    # two parts: "docker.io/" in front
    assert v.check_image_ref("r", "a/" + "b" * 243)
    refused("r", v.check_image_ref, "r", "a/" + "b" * 244)
    # a registry counts as it is
    host = "localhost:5000/"
    assert v.check_image_ref("r", host + "b" * (255 - len(host)))
    refused("r", v.check_image_ref, "r", host + "b" * (256 - len(host)))
    refused("RunConfig.image", RunConfig, "a" * 300)
    # tags: 128 at most
    assert v.check_image_ref("r", "a:" + "t" * 128)
    refused("r", v.check_image_ref, "r", "a:" + "t" * 129)
    # the digest and tag are not part of the name
    digest = "sha256:" + "0" * 64
    assert v.check_image_ref("r", "a" * 237 + ":t@" + digest)


def test_names_fit_every_backend() -> None:
    assert v.check_name("n", "a" * v.NAME_MAX)
    refused("n", v.check_name, "n", "a" * (v.NAME_MAX + 1))
    refused("RunConfig.name", RunConfig, IMAGE, name="a" * 300)


def test_label_keys_with_whitespace_are_refused() -> None:
    for key in ("a b", " a", "a ", "a\tb"):
        refused("RunConfig.labels key", RunConfig, IMAGE, labels={key: "v"})
        refused("l key", v.check_labels, "l", {key: "v"})
    assert v.check_labels("l", {"a,b:c": "x, y\nz"}) == {"a,b:c": "x, y\nz"}


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("cpus", [math.inf, -math.inf, math.nan, 0, -1, 0.001, 2e6, True, "1"])
def test_cpus_must_be_finite_and_sensible(cpus: Any) -> None:
    refused("RunConfig.cpus", RunConfig, IMAGE, cpus=cpus)


def test_cpus_are_written_in_fixed_point() -> None:
    assert run_args(RunConfig(IMAGE, cpus=1.5))[-2:] == ["--cpus", "1.5"]
    assert run_args(RunConfig(IMAGE, cpus=1_000_000))[-2:] == ["--cpus", "1000000"]
    assert run_args(RunConfig(IMAGE, cpus=0.01))[-2:] == ["--cpus", "0.01"]


@pytest.mark.parametrize("value", [-1, 1.5, "5", True, 2**31, 99999999999, None])
def test_check_stop_timeout_refuses(value: Any) -> None:
    refused("t", v.check_stop_timeout, "t", value)


def test_stop_timeout_and_retries_ranges() -> None:
    assert v.check_stop_timeout("t", 0) == 0
    assert v.check_stop_timeout("t", 2**31 - 1) == 2**31 - 1
    refused("RunConfig.stop_timeout", RunConfig, IMAGE, stop_timeout=99999999999)
    refused("RunConfig.stop_timeout", RunConfig, IMAGE, stop_timeout="10")
    on_failure = RestartPolicy.ON_FAILURE
    assert RunConfig(IMAGE, restart_policy=on_failure, restart_max_retries=2**31 - 1)
    for bad in (2**31, -1, "3", 1.0, True):
        refused(
            "RunConfig.restart_max_retries",
            RunConfig,
            IMAGE,
            restart_policy=on_failure,
            restart_max_retries=bad,
        )


@pytest.mark.parametrize("value", [0, -1, math.nan, math.inf, "5", True, None, 3e6, b"5"])
def test_check_timeout_refuses(value: Any) -> None:
    refused("timeout", v.check_timeout, "timeout", value)


@pytest.mark.parametrize("value", [0.001, 1, 120, 3600.5, v.TIMEOUT_MAX])
def test_check_timeout_accepts(value: float) -> None:
    assert v.check_timeout("timeout", value) == value


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("512m", 512 * 1024**2),
        ("512M", 512 * 1024**2),
        ("1g", 1024**3),
        ("1GB", 1024**3),
        ("1GiB", 1024**3),
        ("1.5g", 3 * 1024**3 // 2),
        ("6291456", 6291456),
        ("6291456b", 6291456),
        ("6mb", 6291456),
        ("1t", 1024**4),
    ],
)
def test_memory_sizes_both_clis_take(text: str, size: int) -> None:
    assert v.check_memory("m", text) == size
    assert RunConfig(IMAGE, memory=text).memory == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "max",
        "-1",
        "0",
        "4k",
        "6291455",
        " 6m",
        "6 m",
        "1e9",
        "0x100000",
        "1.2.3g",
        "999999999999999999999",
        "10000000p",
        "6mm",
        512,
    ],
)
def test_memory_sizes_a_cli_refuses_or_misreads(text: Any) -> None:
    refused("RunConfig.memory", RunConfig, IMAGE, memory=text)


def test_extra_host_names_cannot_hold_a_colon() -> None:
    refused("RunConfig.extra_hosts key", RunConfig, IMAGE, extra_hosts={"a:b": "10.0.0.1"})
    refused("RunConfig.extra_hosts[h]", RunConfig, IMAGE, extra_hosts={"h": 5})
    assert RunConfig(IMAGE, extra_hosts={"h6": "::1"}).extra_hosts == {"h6": "::1"}


# --------------------------------------------------------------------------- filters


def test_filters_take_several_values_per_key() -> None:
    filters = {"label": ["a=1", "b"], "name": "web", "status": ("exited", "created")}
    assert v.check_filters("f", filters) == {
        "label": ("a=1", "b"),
        "name": ("web",),
        "status": ("exited", "created"),
    }
    assert filter_args(v.check_filters("f", filters)) == [
        "--filter", "label=a=1", "--filter", "label=b", "--filter", "name=web",
        "--filter", "status=exited", "--filter", "status=created",
    ]  # fmt: skip
    assert filter_args({}) == []
    assert v.check_filters("f", None) == {}


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"": "x"}, "f key"),
        ({"a=b": "x"}, "f key"),
        ({"-a": "x"}, "f key"),
        ({"a\x00": "x"}, "f key"),
        ({"a": "x\x00"}, "f[a]"),
        ({"a": ["x", "y\x00"]}, "f[a]"),
        ({"a": 1}, "f[a]"),
        ({"a": None}, "f[a]"),
        ({"a": {"x": "y"}}, "f[a]"),
        ({"a": {"x"}}, "f[a]"),
        ({"a": [1]}, "f[a]"),
        ({"a": []}, "f[a]"),  # on a prune, "no value" would mean "everything"
        ({"a": b"x"}, "f[a]"),
        ([("a", "b")], "f"),
        ("label=a", "f"),
    ],
)
def test_bad_filters_are_refused(filters: Any, field: str) -> None:
    refused(field, v.check_filters, "f", filters)


def test_filters_are_checked_by_every_manager_before_any_process() -> None:
    # filter_args formats checked filters; the managers' ABCs check them first (test_seams).
    refused("filters[name]", v.check_filters, "filters", {"name": "a\x00"})


# --------------------------------------------------------------------------- mounts


def fields(spec: str) -> list[str]:
    # Both CLIs read --mount as one CSV record (Go's encoding/csv; Python's reads the same).
    return next(csv.reader([spec]))


def test_host_paths_with_colon_comma_and_quote_can_be_mounted() -> None:
    mount = VolumeMount('/tmp/x/proj:2,a"b', "/mnt/a,b", read_only=True)
    spec = mount_spec(mount)
    # verified with docker 20.10 and podman 4.3: `--mount '<spec>'` binds the directory
    assert spec == 'type=bind,"source=/tmp/x/proj:2,a""b","target=/mnt/a,b",ro'
    assert fields(spec) == ["type=bind", 'source=/tmp/x/proj:2,a"b', "target=/mnt/a,b", "ro"]
    assert mount_spec(VolumeMount("/home/me/proj:2", "/w")) == (
        "type=bind,source=/home/me/proj:2,target=/w"
    )
    assert mount_spec(VolumeMount("data", "/d")) == "type=volume,source=data,target=/d"


@pytest.mark.parametrize("path", ["/a\nb", "/a\x00b"])
def test_mount_paths_cannot_hold_newline_or_nul(path: str) -> None:
    refused("VolumeMount.source", VolumeMount, path, "/mnt")
    refused("VolumeMount.target", VolumeMount, "data", path)


@given(st.text(st.characters(blacklist_characters="\x00\n", blacklist_categories=["Cs"])))
def test_any_mount_path_survives_the_csv_record(name: str) -> None:
    mount = VolumeMount("/src/" + name, "/dst/" + name)
    assert fields(mount_spec(mount)) == [
        "type=bind",
        f"source={mount.source}",
        f"target={mount.target}",
    ]


def test_volume_mounts_stay_equal_and_hashable() -> None:
    a = VolumeMount("/x:1,2", "/m")
    assert a == VolumeMount("/x:1,2", "/m") and hash(a) == hash(VolumeMount("/x:1,2", "/m"))
    with pytest.raises(AttributeError):
        a.source = "/y"  # type: ignore[misc]


# --------------------------------------------------------------------------- labels in CSV flags


def test_csv_field_quotes_only_when_needed() -> None:
    assert csv_field("k=v") == "k=v"
    assert csv_field("k=a,b") == '"k=a,b"'
    assert csv_field('k=a"b') == '"k=a""b"'
    assert csv_field("k=a\nb") == '"k=a\nb"'
    assert csv_field(" k") == '" k"'


def test_label_args_for_podman_volume_create() -> None:
    # podman 4.3 `volume create --label k=a,b` stored {"k": "a", "b": ""}; quoted it keeps it
    labels = {"k": "a,b", "q": 'x"y', "n": "l1\nl2", "p": "plain"}
    args = label_args(labels, csv=True)
    assert args == [
        "--label", '"k=a,b"', "--label", '"q=x""y"', "--label", '"n=l1\nl2"', "--label", "p=plain",
    ]  # fmt: skip
    assert [fields(a)[0] for a in args[1::2]] == [f"{k}={val}" for k, val in labels.items()]
    assert label_args(labels) == [x for k, val in labels.items() for x in ("--label", f"{k}={val}")]


def test_check_label_values_for_cli() -> None:
    # Quoted: only "\r\n" is lost (Go's CSV reader makes it "\n").
    assert v.check_label_values_for_cli("labels", {"k": 'a,b\n"c"'}) == {"k": 'a,b\n"c"'}
    refused("labels[k]", v.check_label_values_for_cli, "labels", {"k": "a\r\nb"})
    refused("labels[k]", label_args, {"k": "a\r\nb"}, csv=True)
    # Unquoted (a manager that writes plain k=v): what podman splits or chokes on.
    for bad in (",", '"', "\n", "\r"):
        refused(
            "labels[k]", v.check_label_values_for_cli, "labels", {"k": f"a{bad}b"}, csv_quoted=False
        )
        refused(
            "labels key",
            v.check_label_values_for_cli,
            "labels",
            {f"a{bad}b": "v"},
            csv_quoted=False,
        )
    assert v.check_label_values_for_cli("l", {"k": "a b=c"}, csv_quoted=False) == {"k": "a b=c"}
