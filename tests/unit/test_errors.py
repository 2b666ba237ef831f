"""Every recorded failure of docker and podman becomes the right exception, with its context."""

from __future__ import annotations

from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerConflictError,
    ContainerError,
    ContainerNotFoundError,
    ContainerOperationError,
    ImageBuildError,
    ImageConflictError,
    ImageError,
    ImageNotFoundError,
    InvalidConfigError,
    NetworkConflictError,
    NetworkError,
    NetworkNotFoundError,
    OutputParseError,
    ResourceConflictError,
    ResourceNotFoundError,
    RuntimeNotAvailableError,
    VolumeConflictError,
    VolumeError,
    VolumeNotFoundError,
)
from dotfiles_container_manager.core.record import replace
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier

from .conftest import (
    CONTAINERS,
    IMAGES,
    NETWORKS,
    RUNTIMES,
    VOLUMES,
    FakeRunner,
    classifier_for,
    fixture_names,
    recorded,
    result,
)

Kind = type[ContainerError]

# (fixture, error class of the operation, exception expected) on both runtimes.
BOTH: list[tuple[str, Kind, Kind]] = [
    ("container_inspect_missing", ContainerOperationError, ContainerNotFoundError),
    ("container_rm_missing", ContainerOperationError, ContainerNotFoundError),
    ("start_missing", ContainerOperationError, ContainerNotFoundError),
    ("logs_missing", ContainerOperationError, ContainerNotFoundError),
    ("logs_follow_missing", ContainerOperationError, ContainerNotFoundError),
    ("wait_missing", ContainerOperationError, ContainerNotFoundError),
    ("exec_missing_container", ContainerOperationError, ContainerNotFoundError),
    ("container_rm_running", ContainerOperationError, ContainerConflictError),
    ("exec_not_running", ContainerOperationError, ContainerConflictError),
    ("exec_paused", ContainerOperationError, ContainerConflictError),
    ("kill_not_running", ContainerOperationError, ContainerConflictError),
    ("pause_twice", ContainerOperationError, ContainerConflictError),
    ("unpause_not_paused", ContainerOperationError, ContainerConflictError),
    ("run_missing_image", ContainerOperationError, ImageNotFoundError),
    ("run_missing_image_pull_never", ContainerOperationError, ImageNotFoundError),
    ("run_missing_cmd", ContainerOperationError, ContainerOperationError),
    ("image_inspect_missing", ImageError, ImageNotFoundError),
    ("image_rm_missing", ImageError, ImageNotFoundError),
    ("tag_missing", ImageError, ImageNotFoundError),
    ("build_fail", ImageBuildError, ImageBuildError),
    ("build_progress_fail", ImageBuildError, ImageBuildError),
    ("volume_inspect_missing", VolumeError, VolumeNotFoundError),
    ("volume_rm_missing", VolumeError, VolumeNotFoundError),
    ("volume_rm_in_use", VolumeError, VolumeConflictError),
    ("network_inspect_missing", NetworkError, NetworkNotFoundError),
    ("network_rm_missing", NetworkError, NetworkNotFoundError),
    ("network_rm_in_use", NetworkError, NetworkConflictError),
    ("network_connect_missing_network_running", NetworkError, NetworkNotFoundError),
    ("network_connect_twice_running", NetworkError, NetworkConflictError),
    ("network_disconnect_not_connected", NetworkError, NetworkConflictError),
    ("daemon_down_ps", ContainerOperationError, RuntimeNotAvailableError),
]
DOCKER_ONLY: list[tuple[str, Kind, Kind]] = [
    ("daemon_down_version", ContainerError, RuntimeNotAvailableError),
    # docker 20.10 checks the network at start; the missing resource is the network.
    ("container_start_bad_network", ContainerOperationError, NetworkNotFoundError),
]
PODMAN_ONLY: list[tuple[str, Kind, Kind]] = [
    ("podman_bad_conf", ContainerOperationError, RuntimeNotAvailableError),
    ("volume_create_existing", VolumeError, VolumeConflictError),
    ("network_connect_missing_network", NetworkError, NetworkNotFoundError),
    ("run_bind_missing_host_path", ContainerOperationError, ContainerOperationError),
]
# The failures the diagnosis knows (tests/fixtures/record_failures.py; hints: test_doctor.py).
DIAGNOSED: list[tuple[str, str, Kind, Kind]] = [
    *[
        (runtime, name, error, expected)
        for runtime in RUNTIMES
        for name, error, expected in [
            ("diag_name_conflict_run", ContainerOperationError, ContainerConflictError),
            ("diag_build_offline_base", ImageBuildError, ImageBuildError),
            ("diag_ssh_refused_version", ContainerError, RuntimeNotAvailableError),
            ("diag_ssh_login_version", ContainerError, RuntimeNotAvailableError),
        ]
    ],
    ("docker", "diag_daemon_down_version", ContainerError, RuntimeNotAvailableError),
    ("docker", "diag_socket_permission_version", ContainerError, RuntimeNotAvailableError),
    ("docker", "diag_context_missing_version", ContainerError, RuntimeNotAvailableError),
    ("docker", "diag_buildkit_missing_build", ImageBuildError, ImageBuildError),
    # Offline pulls differ: podman says "Trying to pull", docker only names the registry.
    ("docker", "diag_pull_offline", ImageError, ImageError),
    ("podman", "diag_pull_offline", ImageError, ImageNotFoundError),
    ("podman", "diag_service_down_version", ContainerError, RuntimeNotAvailableError),
    ("podman", "diag_connection_missing_ps", ContainerOperationError, RuntimeNotAvailableError),
    ("podman", "diag_oci_runtime_missing_version", ContainerError, RuntimeNotAvailableError),
    ("podman", "diag_oci_rlimit_run", ContainerOperationError, RuntimeNotAvailableError),
]
CASES = [
    *[("docker", *case) for case in BOTH + DOCKER_ONLY],
    *[("podman", *case) for case in BOTH + PODMAN_ONLY],
    *DIAGNOSED,
]
# Non-zero exits that are the container command's own status, not a CLI failure.
COMMAND_STATUSES = {"run_exit_42", "exec_ok", "exec_missing_binary"}


# Failures seen on the real runtimes (stderr as printed) that have no recorded fixture yet:
# docker's wrong-state refusals for a paused container, podman's refusal to remove by id an
# image with several tags, docker's push of an image that is not there, podman's disconnect
# of a container that was connected before.
OBSERVED: list[tuple[str, str, int, Kind, Kind]] = [
    (
        "docker",
        "Error response from daemon: cannot start a paused container, try unpause instead\n"
        "Error: failed to start containers: c1",
        1,
        ContainerOperationError,
        ContainerConflictError,
    ),
    (
        "docker",
        "Error response from daemon: You cannot remove a paused container 93fccef48895. "
        "Unpause and then stop the container before attempting removal or force remove",
        1,
        ContainerOperationError,
        ContainerConflictError,
    ),
    (
        "podman",
        'Error: unable to delete image "7e1a125b9de8" by digest with more than one tag '
        "([localhost/x:1 localhost/x:latest]): please force removal",
        125,
        ImageError,
        ImageConflictError,
    ),
    (
        "podman",
        'Error: container c40951b18e8d is not connected to CNI network "dcm-n": network not found',
        125,
        NetworkError,
        NetworkConflictError,
    ),
    (
        "docker",
        "An image does not exist locally with the tag: dcm-x",
        1,
        ImageError,
        ImageNotFoundError,
    ),
]


@pytest.mark.parametrize(("runtime", "stderr", "code", "error", "expected"), OBSERVED)
def test_observed_failure_is_classified(
    runtime: str, stderr: str, code: int, error: Kind, expected: Kind
) -> None:
    exc = classifier_for(runtime).classify(result(stderr=stderr, returncode=code), error)
    assert type(exc) is expected


def classify(runtime: str, name: str, error: Kind) -> tuple[CommandResult, ContainerError]:
    res = recorded(runtime, name)
    return res, classifier_for(runtime).classify(res, error)


@pytest.mark.parametrize(
    ("runtime", "name", "error", "expected"),
    CASES,
    ids=[f"{c[0]}-{c[1]}" for c in CASES],
)
def test_recorded_failure_is_classified(
    runtime: str, name: str, error: Kind, expected: Kind
) -> None:
    res, exc = classify(runtime, name, error)
    assert type(exc) is expected
    assert exc.command == list(res.command)
    assert exc.command[0] == runtime
    assert exc.exit_code == res.returncode != 0
    assert exc.stderr == res.stderr_text
    assert exc.message
    text = str(exc)
    assert exc.message in text
    assert f"exit code: {res.returncode}" in text
    assert " ".join(res.command) in text


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_every_recorded_failure_is_covered(runtime: str) -> None:
    failures = {n for n in fixture_names(runtime) if recorded(runtime, n).returncode != 0}
    covered = {name for rt, name, _, _ in CASES if rt == runtime}
    assert failures - COMMAND_STATUSES == covered


@pytest.mark.parametrize(("runtime", "name", "error", "expected"), CASES)
def test_class_families(runtime: str, name: str, error: Kind, expected: Kind) -> None:
    _, exc = classify(runtime, name, error)
    if expected.__name__.endswith("NotFoundError"):
        assert isinstance(exc, ResourceNotFoundError)
        assert not isinstance(exc, ResourceConflictError)
    elif expected.__name__.endswith("ConflictError"):
        assert isinstance(exc, ResourceConflictError)
        assert isinstance(exc, error)  # a conflict stays in the operation's family
        assert not isinstance(exc, ResourceNotFoundError)
    else:
        assert not isinstance(exc, (ResourceNotFoundError, ResourceConflictError))


def test_missing_resource_messages_name_the_resource() -> None:
    _, exc = classify("docker", "container_inspect_missing", ContainerOperationError)
    assert exc.message == "Error response from daemon: No such container: dcm-rec-nope"
    _, exc = classify("podman", "volume_rm_missing", VolumeError)
    assert exc.message == 'Error: no volume with name "dcm-rec-nope" found: no such volume'


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_unavailable_runtime_names_itself(runtime: str) -> None:
    _, exc = classify(runtime, "daemon_down_ps", ContainerOperationError)
    assert isinstance(exc, RuntimeNotAvailableError)
    assert exc.runtime == runtime
    assert exc.message.startswith(f"{runtime} is not available: ")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_build_failure_keeps_the_failing_steps_output(runtime: str) -> None:
    _, exc = classify(runtime, "build_fail", ImageBuildError)
    assert isinstance(exc, ImageBuildError)
    assert exc.exit_code == 3
    # docker's legacy builder prints the RUN's stderr on stdout; podman on stderr.
    assert "to-stderr" in exc.output
    assert "about-to-fail" in exc.output
    assert "exit 3" in exc.output


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_build_raises_image_build_error(runtime: str) -> None:
    fake = FakeRunner(runtime, recorded(runtime, "build_fail"))
    with pytest.raises(ImageBuildError) as caught:
        IMAGES[runtime](fake).build(BuildContext("FROM dcm-test-base:latest\n"), "dcm-x:1")
    assert "to-stderr" in caught.value.output
    assert caught.value.command[:2] == [runtime, "build"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_build_output_words_do_not_change_the_class(runtime: str) -> None:
    res = recorded(runtime, "build_fail")
    noisy = b"useradd: user 'app' already exists\ncurl: network not found\n"
    res = replace(res, stdout=res.stdout + noisy, stderr=noisy + res.stderr)
    exc = classifier_for(runtime).classify(res, ImageBuildError)
    assert isinstance(exc, ImageBuildError)


def test_docker_errors_printed_on_stdout_are_read() -> None:
    # docker prints OCI errors on stdout; an "Error:" line there is the message.
    res = result(stdout="Error: No such container: abc\n", returncode=1)
    exc = ErrorClassifier("docker").classify(res, ContainerOperationError)
    assert type(exc) is ContainerNotFoundError
    assert exc.message == "Error: No such container: abc"


def test_unknown_failure_keeps_the_operation_class() -> None:
    res = result(stderr="Error: something odd\n", returncode=2)
    for kind in (ImageError, ContainerOperationError, VolumeError, NetworkError, ContainerError):
        exc = ErrorClassifier("docker").classify(res, kind)
        assert type(exc) is kind
        assert exc.message == "Error: something odd"
    empty = classifier_for("podman").classify(result(returncode=9), VolumeError)
    assert empty.message == "command failed with exit code 9"


def test_generic_no_such_object_takes_the_operation_kind() -> None:
    res = result(stderr="Error: No such object: thing\n", returncode=1)
    expected: dict[Kind, Kind] = {
        ImageError: ImageNotFoundError,
        ContainerOperationError: ContainerNotFoundError,
        VolumeError: VolumeNotFoundError,
        NetworkError: NetworkNotFoundError,
    }
    for operation, kind in expected.items():
        assert type(ErrorClassifier("docker").classify(res, operation)) is kind


def test_image_conflict() -> None:
    res = result(
        stderr="Error response from daemon: conflict: unable to remove repository reference "
        '"x:1" (must force) - container 123 is using its referenced image abc\n',
        returncode=1,
    )
    assert type(ErrorClassifier("docker").classify(res, ImageError)) is ImageConflictError


# --------------------------------------------------------------------------- through managers


@pytest.mark.parametrize(
    ("kind", "fixture", "expected"),
    [
        ("containers", "container_inspect_missing", ContainerNotFoundError),
        ("images", "image_inspect_missing", ImageNotFoundError),
        ("volumes", "volume_inspect_missing", VolumeNotFoundError),
        ("networks", "network_inspect_missing", NetworkNotFoundError),
    ],
)
def test_inspect_and_exists_of_missing_resources(
    runtime: str, kind: str, fixture: str, expected: Kind
) -> None:
    managers: dict[str, dict[str, Any]] = {
        "containers": CONTAINERS,
        "images": IMAGES,
        "volumes": VOLUMES,
        "networks": NETWORKS,
    }
    missing = recorded(runtime, fixture)
    fake = FakeRunner(runtime, missing, missing)
    manager = managers[kind][runtime](fake)
    name = "dcm-rec-nope:1" if kind == "images" else "dcm-rec-nope"
    with pytest.raises(expected) as caught:
        manager.inspect(name)
    assert caught.value.exit_code == missing.returncode
    assert manager.exists(name) is False
    assert fake.calls[1].check is False


@pytest.mark.parametrize("kind", ["containers", "images", "volumes", "networks"])
def test_exists_raises_when_the_runtime_is_down(runtime: str, kind: str) -> None:
    managers: dict[str, dict[str, Any]] = {
        "containers": CONTAINERS,
        "images": IMAGES,
        "volumes": VOLUMES,
        "networks": NETWORKS,
    }
    fake = FakeRunner(runtime, recorded(runtime, "daemon_down_ps"))
    with pytest.raises(RuntimeNotAvailableError):
        managers[kind][runtime](fake).exists("something")


@pytest.mark.parametrize(
    ("method", "args", "fixture", "expected"),
    [
        ("start", ("dcm-rec-nope",), "start_missing", ContainerNotFoundError),
        ("remove", ("dcm-rec-nope",), "container_rm_missing", ContainerNotFoundError),
        ("remove", ("dcm-rec-c1",), "container_rm_running", ContainerConflictError),
        ("pause", ("dcm-rec-c2",), "pause_twice", ContainerConflictError),
        ("unpause", ("dcm-rec-c1",), "unpause_not_paused", ContainerConflictError),
        ("kill", ("dcm-rec-c3",), "kill_not_running", ContainerConflictError),
        ("wait", ("dcm-rec-nope",), "wait_missing", ContainerNotFoundError),
        ("logs", ("dcm-rec-nope",), "logs_missing", ContainerNotFoundError),
    ],
)
def test_container_operations_raise(
    runtime: str, method: str, args: tuple[str, ...], fixture: str, expected: Kind
) -> None:
    manager = CONTAINERS[runtime](FakeRunner(runtime, recorded(runtime, fixture)))
    with pytest.raises(expected):
        getattr(manager, method)(*args)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_warnings_on_stderr_are_not_failures(runtime: str) -> None:
    # podman prints warnings (syslog, SIGKILL after the stop timeout) and exits 0.
    fake = FakeRunner(runtime, recorded(runtime, "container_start"), recorded(runtime, "stop"))
    manager = CONTAINERS[runtime](fake)
    manager.start("dcm-rec-c1")
    manager.stop("dcm-rec-c1", timeout=2)
    assert fake.pending == 0


def test_volume_remove_force_ignores_only_missing(runtime: str) -> None:
    fake = FakeRunner(
        runtime, recorded(runtime, "volume_rm_missing"), recorded(runtime, "volume_rm_in_use")
    )
    manager = VOLUMES[runtime](fake)
    manager.remove("dcm-rec-nope", force=True)
    with pytest.raises(VolumeConflictError):
        manager.remove("dcm-rec-vol", force=True)


# --------------------------------------------------------------------------- exception objects


def test_exception_tree() -> None:
    assert issubclass(InvalidConfigError, ValueError)
    assert issubclass(InvalidConfigError, ContainerError)
    for kind in (
        RuntimeNotAvailableError,
        CommandTimeoutError,
        OutputParseError,
        ImageBuildError,
        ContainerOperationError,
    ):
        assert issubclass(kind, ContainerError)
    assert issubclass(ImageNotFoundError, ImageError)
    assert issubclass(ContainerConflictError, ContainerOperationError)
    assert issubclass(VolumeNotFoundError, VolumeError)
    assert issubclass(NetworkConflictError, NetworkError)
    assert not issubclass(ImageBuildError, ResourceNotFoundError)


def test_exception_str_and_repr() -> None:
    exc = ContainerNotFoundError(
        "gone", command=["docker", "rm", "x"], exit_code=1, stderr="y" * 5000
    )
    text = str(exc)
    assert text.startswith("gone\ncommand: docker rm x\nexit code: 1\nstderr: ")
    assert len(text) < 2200  # the stderr excerpt is bounded; the attribute keeps it all
    assert len(exc.stderr) == 5000
    assert repr(exc) == (
        "ContainerNotFoundError(message='gone', command=['docker', 'rm', 'x'], exit_code=1)"
    )
    timeout = CommandTimeoutError("slow", timeout=2.5, command=["podman", "ps"])
    assert (timeout.timeout, timeout.exit_code) == (2.5, None)
    assert str(RuntimeNotAvailableError("no", runtime="podman")) == "no"
