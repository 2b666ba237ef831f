"""Reliability guarantees that need no runtime (docs/reliability.md lists them all).

Bad input must be refused before any process starts. That is proved with a *recording
shim*: a fake CLI that appends every invocation to a file. Each bad call must raise
InvalidConfigError naming the field and the value (secrets shown as ``<redacted>``) while
the file stays empty; a valid call through the same shim is recorded, so the recorder works.
Property-based checks of the validators live in test_properties.py; these are examples
through the public API, run against both engine classes.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngine,
    ContainerEngineFactory,
    InvalidConfigError,
    PortMapping,
    RestartPolicy,
    RunConfig,
    RuntimeNotAvailableError,
    VolumeMount,
)
from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier
from dotfiles_container_manager.implementations.cli.runner import CommandRunner
from dotfiles_container_manager.implementations.docker.utils import format_env_vars

IMG = "dcm-test-base:latest"
SECRET = "s3cret-value-that-must-not-show"  # noqa: S105 - a stand-in


class Recorder:
    """An engine whose CLI is a shim recording every invocation (and answering nothing)."""

    def __init__(self, tmp_path: Path, runtime: str) -> None:
        self.log = tmp_path / "invocations"
        shim = tmp_path / "fake-cli"
        shim.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {self.log}\nexit 0\n')
        shim.chmod(0o755)
        # The engine class directly: the factory would probe the CLI with `version`.
        self.engine = ContainerEngineFactory.engine_class(runtime)(str(shim))

    def invocations(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []


@pytest.fixture(params=["docker", "podman"])
def recorder(request: pytest.FixtureRequest, tmp_path: Path) -> Recorder:
    return Recorder(tmp_path, str(request.param))


Call = Callable[[ContainerEngine], object]


def build(files: dict[str, bytes], **kwargs: object) -> Call:
    return lambda e: e.images.build(BuildContext("FROM x\n", files=files, **kwargs), "ok:1")  # type: ignore[arg-type]


# (id, call, field, value): value None means a secret (must show as <redacted>).
BAD_INPUT: list[tuple[str, Call, str, object]] = [
    # names
    (
        "name-leading-dash",
        lambda e: e.containers.run(RunConfig(IMG, name="-rm")),
        "RunConfig.name",
        "-rm",
    ),
    (
        "name-space",
        lambda e: e.containers.create(RunConfig(IMG, name="my box")),
        "RunConfig.name",
        "my box",
    ),
    (
        "name-nul",
        lambda e: e.containers.run(RunConfig(IMG, name="ab\x00c")),
        "RunConfig.name",
        "ab\x00c",
    ),
    (
        "image-uppercase",
        lambda e: e.containers.run(RunConfig("Busybox:latest")),
        "RunConfig.image",
        "Busybox:latest",
    ),
    ("stop-option-like", lambda e: e.containers.stop("--time=0"), "container", "--time=0"),
    ("exec-container-space", lambda e: e.containers.exec("a b", ["true"]), "container", "a b"),
    ("remove-nul", lambda e: e.containers.remove("ab\x00", force=True), "container", "ab\x00"),
    ("volume-space", lambda e: e.volumes.create("my volume"), "name", "my volume"),
    ("network-leading-dash", lambda e: e.networks.create("-d"), "name", "-d"),
    ("connect-dash", lambda e: e.networks.connect("net", "-c"), "container", "-c"),
    ("tag-uppercase", lambda e: e.images.tag(IMG, "dcm/Upper:1"), "target", "dcm/Upper:1"),
    (
        "build-tag-space",
        lambda e: e.images.build(BuildContext("FROM x\n"), "bad name"),
        "image_name",
        "bad name",
    ),
    ("pull-uppercase", lambda e: e.images.pull("UPPER:1"), "image", "UPPER:1"),
    ("logs-negative-tail", lambda e: e.containers.logs("c1", tail=-1), "tail", -1),
    # ports, mounts, restart policy
    (
        "port-zero",
        lambda e: e.containers.run(RunConfig(IMG, ports=[PortMapping(0)])),
        "PortMapping.container_port",
        0,
    ),
    (
        "port-too-big",
        lambda e: e.containers.run(RunConfig(IMG, ports=[PortMapping(80, 70000)])),
        "PortMapping.host_port",
        70000,
    ),
    (
        "port-bool",
        lambda e: e.containers.run(RunConfig(IMG, ports=[PortMapping(True)])),
        "PortMapping.container_port",
        True,
    ),  # type: ignore[arg-type]
    (
        "mount-relative-target",
        lambda e: e.containers.run(RunConfig(IMG, volumes=[VolumeMount("data", "data")])),
        "VolumeMount.target",
        "data",
    ),
    (
        "retries-without-on-failure",
        lambda e: e.containers.run(
            RunConfig(IMG, restart_policy=RestartPolicy.ALWAYS, restart_max_retries=3)
        ),
        "RunConfig.restart_max_retries",
        3,
    ),
    # build-context paths and size
    ("context-absolute", build({"/etc/passwd": b""}), "BuildContext.files key", "/etc/passwd"),
    ("context-dotdot", build({"a/../../x": b""}), "BuildContext.files key", "a/../../x"),
    ("context-duplicate", build({"a/b": b"1", "a/./b": b"2"}), "BuildContext.files key", "a/./b"),
    (
        "context-duplicates-dockerfile",
        build({"./Dockerfile": b""}),
        "BuildContext.files key",
        "./Dockerfile",
    ),
    ("context-nul", build({"a\x00b": b""}), "BuildContext.files key", "a\x00b"),
    (
        "dockerfile-path-dotdot",
        build({}, dockerfile_path="../Dockerfile"),
        "BuildContext.dockerfile_path",
        "../Dockerfile",
    ),
    ("context-over-cap", build({"big": b"x" * 17}, max_size=16), "BuildContext.files", "17 bytes"),
    # secrets: the field is named, the value never shown
    (
        "env-nul",
        lambda e: e.containers.run(RunConfig(IMG, environment={"T": SECRET + "\x00"})),
        "RunConfig.environment[T]",
        None,
    ),
    (
        "env-file-newline",
        lambda e: e.containers.run(
            RunConfig(IMG, environment={"T": SECRET + "\nX=1"}, env_file=True)
        ),
        "RunConfig.environment[T]",
        None,
    ),
    (
        "exec-env-nul",
        lambda e: e.containers.exec("c1", ["true"], environment={"T": SECRET + "\x00"}),
        "environment[T]",
        None,
    ),
    (
        "cli-key-newline",
        lambda e: e.containers.run(RunConfig(IMG, environment={"PATH": SECRET + "\nX=1"})),
        "RunConfig.environment[PATH]",
        None,
    ),
    (
        "exec-cli-key-newline",
        lambda e: e.containers.exec("c1", ["true"], environment={"DOCKER_X": SECRET + "\nX=1"}),
        "environment[DOCKER_X]",
        None,
    ),
    (
        "build-arg-nul",
        build({}, build_args={"T": SECRET + "\x00"}),
        "BuildContext.build_args[T]",
        None,
    ),
    # Reliability round 2: podman expands "-e PREFIX*" over the CLI's own environment
    (
        "env-glob-key",
        lambda e: e.containers.run(RunConfig(IMG, environment={"RT_*": "x"})),
        "RunConfig.environment key",
        "RT_*",
    ),
    (
        "exec-env-glob-key",
        lambda e: e.containers.exec("c1", ["true"], environment={"*": "x"}),
        "environment key",
        "*",
    ),
    ("build-arg-glob-key", build({}, build_args={"A?": "x"}), "BuildContext.build_args key", "A?"),
    (
        "env-key-leading-space",
        lambda e: e.containers.run(RunConfig(IMG, environment={" RT_A": "x"})),
        "RunConfig.environment key",
        " RT_A",
    ),
    # values that cannot be encoded: refused without showing them
    (
        "env-lone-surrogate",
        lambda e: e.containers.run(RunConfig(IMG, environment={"T": SECRET + "\ud800"})),
        "RunConfig.environment[T]",
        None,
    ),
    (
        "exec-env-undecodable-bytes",
        lambda e: e.containers.exec("c1", ["true"], environment={"T": SECRET + "\udcff"}),
        "environment[T]",
        None,
    ),
    (
        "build-arg-surrogate",
        build({}, build_args={"T": SECRET + "\udc80"}),
        "BuildContext.build_args[T]",
        None,
    ),
    # refused by a CLI after it started, before round 2
    (
        "label-key-space",
        lambda e: e.containers.run(RunConfig(IMG, labels={"a b": "1"})),
        "RunConfig.labels key",
        "a b",
    ),
    (
        "volume-label-key-space",
        lambda e: e.volumes.create("v1", labels={"a b": "1"}),
        "labels key",
        "a b",
    ),
    ("network-name-too-long", lambda e: e.networks.create("n" * 300), "name", "n" * 300),
    ("volume-name-too-long", lambda e: e.volumes.create("v" * 256), "name", "v" * 256),
    (
        "image-name-too-long",
        lambda e: e.containers.run(RunConfig("a" * 256)),
        "RunConfig.image",
        "a" * 256,
    ),
    (
        "cpus-nan",
        lambda e: e.containers.run(RunConfig(IMG, cpus=float("nan"))),
        "RunConfig.cpus",
        float("nan"),
    ),
    (
        "stop-timeout-huge",
        lambda e: e.containers.run(RunConfig(IMG, stop_timeout=99999999999)),
        "RunConfig.stop_timeout",
        99999999999,
    ),
    (
        "memory-bad",
        lambda e: e.containers.run(RunConfig(IMG, memory="lots")),
        "RunConfig.memory",
        "lots",
    ),
    (
        "extra-host-colon",
        lambda e: e.containers.run(RunConfig(IMG, extra_hosts={"a:b": "10.0.0.1"})),
        "RunConfig.extra_hosts key",
        "a:b",
    ),
    (
        "filter-nul",
        lambda e: e.containers.list(filters={"name": "a\x00"}),
        "filters[name]",
        "a\x00",
    ),
    (
        "prune-empty-filter-list",
        lambda e: e.containers.prune(filters={"label": []}),
        "filters[label]",
        [],
    ),
]


@pytest.mark.parametrize(
    ("call", "field", "value"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_refused_before_any_process_starts(
    recorder: Recorder, call: Call, field: str, value: object
) -> None:
    """Guarantee V1: invalid input raises InvalidConfigError naming the field and the value
    (secrets excepted), and no process is started."""
    with pytest.raises(InvalidConfigError) as caught:
        call(recorder.engine)
    exc = caught.value
    assert exc.field == field
    if value is None:
        assert exc.value == "<redacted>"
        assert SECRET not in str(exc) and SECRET not in repr(exc)
    else:
        assert repr(value)[:150] in str(exc)  # long values are cut at 200 characters
    assert recorder.invocations() == []


def test_the_recorder_does_record(recorder: Recorder) -> None:
    """The zero above is meaningful: a valid call through the same shim is recorded."""
    assert recorder.engine.volumes.list() == []
    assert recorder.engine.containers.exec("c1", ["true"]).exit_code == 0
    assert len(recorder.invocations()) == 2


def test_context_cap_is_configurable() -> None:
    """Guarantee V1: the build-context cap is ``max_size`` (default 2 GiB), inclusive."""
    assert BuildContext("FROM x\n").max_size == 2 * 1024**3
    BuildContext("FROM x\n", files={"a": b"x" * 9, "b": b"x" * 7}, max_size=16)
    with pytest.raises(InvalidConfigError):
        BuildContext("FROM x\n", files={"a": b"x" * 9, "b": b"x" * 8}, max_size=16)


# --------------------------------------------------------------------------- secrets


def test_reprs_hold_no_environment_values() -> None:
    """Guarantee S2 (reprs): configuration objects never show environment or build-arg values."""
    config = RunConfig(IMG, environment={"TOKEN": SECRET})
    context = BuildContext("FROM x\n", build_args={"TOKEN": SECRET})
    for text in (repr(config), str(config), repr(context), str(context)):
        assert SECRET not in text


@pytest.mark.parametrize("fails", [False, True], ids=["success", "failure"])
def test_env_file_is_private_and_removed(fails: bool) -> None:
    """Guarantee S3: the env-file is 0600 in a 0700 directory of its own under the temporary
    directory, holds one line per variable, and is removed when the block ends, also when it
    raises. Only keys go on the argument list."""
    env = {"A": SECRET, "B": "two words", "C": ""}
    seen: dict[str, object] = {}
    expected = pytest.raises(RuntimeError) if fails else contextlib.nullcontext()
    with expected, format_env_vars(env, use_file=True) as (args, child_env):
        assert args[:-1] == ["--env-file"] and child_env == {}
        path = Path(args[-1])
        seen.update(
            path=path,
            file_mode=stat.S_IMODE(path.stat().st_mode),
            dir_mode=stat.S_IMODE(path.parent.stat().st_mode),
            owner=path.stat().st_uid,
            lines=path.read_text().splitlines(),
        )
        if fails:
            raise RuntimeError("the CLI failed")
    path = seen["path"]
    assert isinstance(path, Path)
    assert (seen["file_mode"], seen["dir_mode"], seen["owner"]) == (0o600, 0o700, os.getuid())
    assert path.parent.parent == Path(tempfile.gettempdir())
    assert seen["lines"] == [f"A={SECRET}", "B=two words", "C="]
    assert not path.exists() and not path.parent.exists()


def test_values_travel_in_the_child_environment_not_argv() -> None:
    """Guarantee S1 (arguments): without an env-file, ``-e KEY`` only; values in the CLI's
    environment. Keys that would steer the CLI itself go through the env-file."""
    with format_env_vars({"A": SECRET, "DOCKER_HOST": SECRET}) as (args, child_env):
        assert args[:2] == ["-e", "A"] and args[2] == "--env-file"
        assert child_env == {"A": SECRET}
        assert not any(SECRET in a for a in args)


# --------------------------------------------------------------------------- unavailable


def fake_cli(tmp_path: Path, version_ok: bool) -> CommandRunner:
    """A CLI whose exec'd command prints docker's 'cannot connect' words and exits 1, and
    whose ``version`` answers or not."""
    script = tmp_path / "cli"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then {"echo {}; exit 0" if version_ok else "exit 1"}; fi\n'
        "echo 'Cannot connect to the Docker daemon at unix:///x.sock.' >&2\nexit 1\n"
    )
    script.chmod(0o755)
    return CommandRunner(str(script), runtime="docker", classifier=ErrorClassifier("docker"))


def test_unchecked_call_raises_when_the_runtime_is_unreachable(tmp_path: Path) -> None:
    """Guarantee F1 (exec): a call made with ``check=False`` (exec, existence probes) still
    raises RuntimeNotAvailableError when the runtime does not answer ``version`` either."""
    with pytest.raises(RuntimeNotAvailableError):
        fake_cli(tmp_path, version_ok=False).run(["exec", "c1", "true"], check=False)


def test_unchecked_call_with_the_words_but_a_live_runtime_is_a_result(tmp_path: Path) -> None:
    """Guarantee F1 has no false positive: the same words from a command while the runtime
    answers are the command's result."""
    result = fake_cli(tmp_path, version_ok=True).run(["exec", "c1", "true"], check=False)
    assert result.returncode == 1 and "Cannot connect" in result.stderr_text
