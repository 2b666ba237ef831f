"""Each failure the diagnosis knows, from recorded real output, gets its cause and a hint that
says what to do: on the exception the classifier makes, on the factory's error, and (same
function) in the doctor."""

from __future__ import annotations

from pathlib import Path

import pytest

from dotfiles_container_manager import (
    ContainerConflictError,
    ContainerEngineFactory,
    ContainerError,
    ContainerOperationError,
    ImageBuildError,
    ImageError,
    RuntimeNotAvailableError,
)
from dotfiles_container_manager.diagnosis import Diagnosis, diagnose, diagnose_error, explain
from dotfiles_container_manager.implementations.cli.command import CommandResult

from .conftest import classifier_for, recorded
from .test_commands import fake_cli

Kind = type[ContainerError]

# (runtime, recorded failure, operation's error class, cause, words the hint must contain)
CASES: list[tuple[str, str, Kind, str, tuple[str, ...]]] = [
    ("docker", "diag_daemon_down_version", ContainerError, "daemon-down", ("DOCKER_HOST",)),
    ("docker", "daemon_down_ps", ContainerOperationError, "daemon-down", ("start the daemon",)),
    (
        "docker",
        "diag_socket_permission_version",
        ContainerError,
        "socket-permission",
        ("docker group", "usermod -aG docker", "rootless"),
    ),
    (
        "docker",
        "diag_ssh_refused_version",
        ContainerError,
        "ssh-failed",
        ("ssh USER@HOST docker version", "port"),
    ),
    ("docker", "diag_ssh_login_version", ContainerError, "ssh-failed", ("known_hosts", "ssh-add")),
    (
        "docker",
        "diag_context_missing_version",
        ContainerError,
        "context-missing",
        ("docker context ls", "DOCKER_CONTEXT"),
    ),
    (
        "docker",
        "diag_buildkit_missing_build",
        ImageBuildError,
        "buildkit-missing",
        ("buildx", "unset DOCKER_BUILDKIT"),
    ),
    (
        "docker",
        "diag_name_conflict_run",
        ContainerOperationError,
        "name-conflict",
        ("docker rm -f dcm-rec-diag-c", "another name"),
    ),
    (
        "docker",
        "diag_build_offline_base",
        ImageBuildError,
        "registry-unreachable",
        ("docker load -i", "docker import"),
    ),
    ("docker", "diag_pull_offline", ImageError, "registry-unreachable", ("load", "import")),
    (
        "podman",
        "diag_service_down_version",
        ContainerError,
        "daemon-down",
        ("podman system service --time=0 unix:///nonexistent/podman.sock", "CONTAINER_HOST"),
    ),
    ("podman", "daemon_down_ps", ContainerOperationError, "daemon-down", ("CONTAINER_HOST",)),
    ("podman", "diag_ssh_refused_version", ContainerError, "ssh-failed", ("--identity",)),
    ("podman", "diag_ssh_login_version", ContainerError, "ssh-failed", ("CONTAINER_SSHKEY",)),
    (
        "podman",
        "diag_connection_missing_ps",
        ContainerOperationError,
        "context-missing",
        ("podman system connection list",),
    ),
    (
        "podman",
        "diag_oci_rlimit_run",
        ContainerOperationError,
        "oci-runtime",
        ("default_ulimits", 'runtime = "runc"', "CONTAINERS_CONF"),
    ),
    (
        "podman",
        "diag_oci_runtime_missing_version",
        ContainerError,
        "oci-runtime-missing",
        ("install runc",),
    ),
    (
        "podman",
        "podman_bad_conf",
        ContainerOperationError,
        "containers-conf",
        ("unset CONTAINERS_CONF",),
    ),
    (
        "podman",
        "diag_name_conflict_run",
        ContainerOperationError,
        "name-conflict",
        ("podman rm -f dcm-rec-diag-c",),
    ),
    (
        "podman",
        "diag_build_offline_base",
        ImageBuildError,
        "registry-unreachable",
        ("podman load -i", "podman import"),
    ),
    ("podman", "diag_pull_offline", ImageError, "registry-unreachable", ("load",)),
    ("podman", "run_missing_image", ContainerOperationError, "short-name", ("import",)),
]
IDS = [f"{c[0]}-{c[1]}" for c in CASES]


@pytest.mark.parametrize(("runtime", "name", "error", "cause", "words"), CASES, ids=IDS)
def test_recorded_failure_is_diagnosed(
    runtime: str, name: str, error: Kind, cause: str, words: tuple[str, ...]
) -> None:
    res = recorded(runtime, name)
    found = diagnose(runtime, f"{res.stderr_text}\n{res.stdout_text}")
    assert found is not None
    assert found.cause == cause
    assert found.problem
    for word in words:
        assert word in found.hint


@pytest.mark.parametrize(("runtime", "name", "error", "cause", "words"), CASES, ids=IDS)
def test_classified_error_carries_the_hint(
    runtime: str, name: str, error: Kind, cause: str, words: tuple[str, ...]
) -> None:
    exc = classifier_for(runtime).classify(recorded(runtime, name), error)
    found = diagnose_error(exc)
    assert found is not None
    assert found.cause == cause
    assert exc.hint == found.hint  # one diagnosis: the same words everywhere
    text = str(exc)
    assert f"hint: {exc.hint}" in text
    assert text.index(exc.message) < text.index("hint: ")  # the failure first, then the fix


def test_every_runtime_not_available_cause_of_the_issue_has_a_hint() -> None:
    # CLI missing, daemon down, socket permission, ssh, podman OCI runtime / rlimit.
    causes = set()
    for runtime, name, error, cause, _ in CASES:
        exc = classifier_for(runtime).classify(recorded(runtime, name), error)
        if isinstance(exc, RuntimeNotAvailableError):
            assert exc.hint
            causes.add(cause)
    assert {"daemon-down", "socket-permission", "ssh-failed", "oci-runtime"} <= causes
    missing = diagnose("docker", "docker CLI not found: 'docker'")
    assert missing is not None
    assert missing.cause == "cli-missing"


def test_rc_126_rlimit_failure_is_a_runtime_that_cannot_be_used() -> None:
    exc = classifier_for("podman").classify(
        recorded("podman", "diag_oci_rlimit_run"), ContainerOperationError
    )
    assert isinstance(exc, RuntimeNotAvailableError)
    assert exc.exit_code == 126
    assert exc.runtime == "podman"


def test_a_command_that_cannot_be_executed_is_not_the_runtimes_fault() -> None:
    # rc 126 from the container's own command (exec: permission denied) says nothing about
    # the runtime: not unavailable, no containers.conf hint.
    res = recorded("podman", "diag_oci_rlimit_run")
    stderr = (
        b'Error: runc: runc create failed: unable to start container process: exec: "/etc/passwd":'
        b" permission denied: OCI permission denied\n"
    )
    failed = CommandResult(res.command, 126, b"", stderr)
    exc = classifier_for("podman").classify(failed, ContainerOperationError)
    assert not isinstance(exc, RuntimeNotAvailableError)
    assert exc.hint is None


def test_a_failure_with_no_known_cause_has_no_hint() -> None:
    exc = classifier_for("docker").classify(
        recorded("docker", "container_inspect_missing"), ContainerOperationError
    )
    assert exc.hint is None
    assert "hint:" not in str(exc)
    assert diagnose("docker", "something else entirely") is None


def test_name_conflict_is_a_conflict_with_a_hint() -> None:
    for runtime in ("docker", "podman"):
        exc = classifier_for(runtime).classify(
            recorded(runtime, "diag_name_conflict_run"), ContainerOperationError
        )
        assert isinstance(exc, ContainerConflictError)
        assert exc.hint is not None
        assert f"{runtime} rm -f dcm-rec-diag-c" in exc.hint


def test_default_and_rootless_docker_sockets_say_how_to_start_the_daemon() -> None:
    default = diagnose(
        "docker",
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
        "Is the docker daemon running?",
    )
    assert default is not None
    assert "systemctl start docker" in default.hint
    rootless = diagnose(
        "docker",
        "Cannot connect to the Docker daemon at unix:///run/user/1000/docker.sock. "
        "Is the docker daemon running?",
    )
    assert rootless is not None
    assert "systemctl --user start docker" in rootless.hint


def test_explain_keeps_a_hint_already_given() -> None:
    exc = RuntimeNotAvailableError("docker CLI not found: 'docker'", runtime="docker", hint="x")
    assert explain(exc).hint == "x"
    bare = RuntimeNotAvailableError("docker CLI not found: 'docker'", runtime="docker")
    assert explain(bare) is bare
    assert bare.hint is not None
    assert "install Docker Engine" in bare.hint


def test_diagnosis_is_a_record() -> None:
    found = diagnose("podman", 'Error: default OCI runtime "crun" not found: invalid argument')
    assert found == Diagnosis(
        "oci-runtime-missing",
        "the OCI runtime crun that podman is configured to use is not installed",
        found.hint if found else "",
    )


# ---------------------------------------------------------------- the factory's error path


class TestFactory:
    @pytest.mark.parametrize(
        ("runtime", "fixture", "cause"),
        [
            ("docker", "diag_daemon_down_version", "daemon-down"),
            ("docker", "diag_socket_permission_version", "socket-permission"),
            ("docker", "diag_ssh_login_version", "ssh-failed"),
            ("docker", "diag_context_missing_version", "context-missing"),
            ("podman", "diag_service_down_version", "daemon-down"),
            ("podman", "diag_ssh_login_version", "ssh-failed"),
            ("podman", "diag_oci_runtime_missing_version", "oci-runtime-missing"),
            ("podman", "podman_bad_conf", "containers-conf"),
        ],
    )
    def test_create_says_what_to_do(
        self, tmp_path: Path, runtime: str, fixture: str, cause: str
    ) -> None:
        cli = fake_cli(tmp_path, runtime, runtime, fixture)
        with pytest.raises(RuntimeNotAvailableError) as caught:
            ContainerEngineFactory.create(runtime, command=cli)
        exc = caught.value
        found = diagnose_error(exc)
        assert found is not None
        assert found.cause == cause
        assert exc.hint == found.hint
        assert f"hint: {exc.hint}" in str(exc)

    @pytest.mark.parametrize("runtime", ["docker", "podman"])
    def test_missing_cli(self, tmp_path: Path, runtime: str) -> None:
        with pytest.raises(RuntimeNotAvailableError) as caught:
            ContainerEngineFactory.create(runtime, command=str(tmp_path / runtime))
        assert caught.value.hint is not None
        assert f"apt-get install {'docker.io' if runtime == 'docker' else 'podman'}" in (
            caught.value.hint
        )
        assert "hint: " in str(caught.value)

    def test_a_cli_that_cannot_be_executed(self) -> None:
        # The runner's words when the file is found but exec fails.
        found = diagnose("docker", "cannot execute docker CLI '/opt/docker': Permission denied")
        assert found is not None
        assert found.cause == "cli-not-executable"
        assert "ls -l /opt/docker" in found.hint

    def test_environment_variable_is_named_in_the_hint(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DOTFILES_CONTAINER_RUNTIME", "podman")
        monkeypatch.setenv("PATH", str(tmp_path))  # no podman anywhere
        with pytest.raises(RuntimeNotAvailableError) as caught:
            ContainerEngineFactory.create()
        assert caught.value.hint is not None
        assert "install podman" in caught.value.hint
        assert "DOTFILES_CONTAINER_RUNTIME=podman chose it" in caught.value.hint

    def test_nothing_available_gathers_each_runtimes_hint(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("DOTFILES_CONTAINER_RUNTIME", raising=False)
        fake_cli(tmp_path, "docker", "docker", "diag_socket_permission_version")
        monkeypatch.setenv("PATH", str(tmp_path))  # the fake docker only: no podman
        with pytest.raises(RuntimeNotAvailableError) as caught:
            ContainerEngineFactory.create()
        hint = caught.value.hint
        assert hint is not None
        assert "docker: add your user to the docker group" in hint
        assert "podman: install podman" in hint
