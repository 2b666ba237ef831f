"""The doctor, against fake CLIs that replay recorded real output: what it reports, which
runtime it says create() picks, its exit status, its JSON shape and its --run check."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import ContainerEngineFactory, RuntimeNotAvailableError
from dotfiles_container_manager import doctor as d
from dotfiles_container_manager.__main__ import doctor_main, main
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.docker import DockerEngine
from dotfiles_container_manager.implementations.podman import PodmanEngine

from .conftest import FIXTURES, FakeRunner, recorded, result

# The fake CLIs' one tool, by path: PATH holds the fakes only.
CAT = shutil.which("cat") or "/bin/cat"
CLIENT = {"docker": "Docker version 28.2.2, build e6534b4\n", "podman": "podman version 4.3.1\n"}
WORKING = {"version": "version", "info": "info"}


def fake_cli(directory: Path, name: str, runtime: str, answers: dict[str, str]) -> Path:
    """An executable ``name`` that answers ``--version`` like ``runtime``'s CLI and each
    subcommand in ``answers`` with the recorded call of that name (a shell script: the
    doctor starts several per test)."""
    data_dir = directory / f".{name}.d"
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "client").write_text(CLIENT[runtime])
    for subcommand, fixture in answers.items():
        data = json.loads((FIXTURES / runtime / f"{fixture}.json").read_text(encoding="ascii"))
        (data_dir / f"{subcommand}.out").write_text(data["stdout"])
        (data_dir / f"{subcommand}.err").write_text(data["stderr"])
        (data_dir / f"{subcommand}.rc").write_text(str(data["returncode"]))
    script = directory / name
    script.write_text(
        "#!/bin/sh\n"
        f"d='{data_dir}'; cat='{CAT}'\n"
        'if [ "$1" = --version ]; then "$cat" "$d/client"; exit 0; fi\n'
        'for a in "$@"; do\n'
        '  if [ -f "$d/$a.rc" ]; then\n'
        '    "$cat" "$d/$a.out"; "$cat" "$d/$a.err" >&2; exit "$("$cat" "$d/$a.rc")"\n'
        "  fi\n"
        "done\n"
        'echo "unscripted: $*" >&2; exit 99\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only what the test puts in ``tmp_path/bin``; a clean environment."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    for name in d.ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    return bin_dir


def both_working(path: Path) -> None:
    fake_cli(path, "docker", "docker", WORKING)
    fake_cli(path, "podman", "podman", WORKING)


def by_runtime(report: d.Report) -> dict[str, d.RuntimeReport]:
    return {r.runtime: r for r in report.runtimes}


# ------------------------------------------------------------------ what it reports


def test_both_working(path: Path) -> None:
    both_working(path)
    report = d.examine()
    assert report.selected == "docker"
    assert report.selected_command == str(path / "docker")
    assert report.ok
    assert report.exit_status == 0
    docker, podman = by_runtime(report)["docker"], by_runtime(report)["podman"]
    assert docker.available and docker.answers
    assert docker.command == str(path / "docker")
    assert docker.client_version == "28.2.2"
    assert docker.server_version == docker.version == "20.10.24+dfsg1"
    assert docker.rootless is False
    assert docker.storage_driver == "overlay2"
    assert docker.oci_runtime == "runc"
    assert docker.context == "default"
    assert docker.problem is docker.hint is None
    assert podman.available
    assert podman.version == "4.3.1"
    assert podman.storage_driver == "overlay"
    assert podman.oci_runtime == "runc"
    assert podman.rootless is False


def test_daemon_down_says_what_to_do_and_podman_is_picked(path: Path) -> None:
    fake_cli(path, "docker", "docker", {"version": "diag_daemon_down_version"})
    fake_cli(path, "podman", "podman", WORKING)
    report = d.examine()
    docker = by_runtime(report)["docker"]
    assert not docker.available
    assert not docker.answers
    assert docker.client_version == "28.2.2"  # from `docker --version`: no daemon needed
    assert docker.server_version is None
    assert docker.rootless is None  # info is only asked when the daemon answers
    assert docker.cause == "daemon-down"
    assert docker.problem == "the Docker daemon does not answer at unix:///nonexistent/docker.sock"
    assert docker.hint is not None
    assert "DOCKER_HOST" in docker.hint
    assert report.selected == "podman"
    assert report.exit_status == 0


@pytest.mark.parametrize(
    ("fixture", "cause"),
    [
        ("diag_socket_permission_version", "socket-permission"),
        ("diag_ssh_login_version", "ssh-failed"),
        ("diag_context_missing_version", "context-missing"),
    ],
)
def test_docker_causes(path: Path, fixture: str, cause: str) -> None:
    fake_cli(path, "docker", "docker", {"version": fixture})
    report = d.examine()
    docker = by_runtime(report)["docker"]
    assert docker.cause == cause
    assert docker.hint
    # the same hint create() raises with: one diagnosis
    with pytest.raises(RuntimeNotAvailableError) as caught:
        ContainerEngineFactory.create("docker")
    assert caught.value.hint == docker.hint


@pytest.mark.parametrize(
    ("fixture", "cause"),
    [
        ("diag_service_down_version", "daemon-down"),
        ("diag_oci_runtime_missing_version", "oci-runtime-missing"),
        ("podman_bad_conf", "containers-conf"),
    ],
)
def test_podman_causes(path: Path, fixture: str, cause: str) -> None:
    fake_cli(path, "podman", "podman", {"version": fixture})
    podman = by_runtime(d.examine())["podman"]
    assert podman.cause == cause
    assert podman.client_version == "4.3.1"
    with pytest.raises(RuntimeNotAvailableError) as caught:
        ContainerEngineFactory.create("podman")
    assert caught.value.hint == podman.hint


def test_nothing_installed(path: Path) -> None:
    report = d.examine()
    assert report.selected is None
    assert not report.ok
    assert report.exit_status == 1
    for rt in report.runtimes:
        assert rt.command is None
        assert rt.cause == "cli-missing"
        assert rt.hint is not None
        assert "install" in rt.hint
    assert report.problem is not None


def test_other_clis_on_path_are_listed(path: Path, tmp_path: Path, monkeypatch: Any) -> None:
    both_working(path)
    fake_cli(tmp_path / "later", "docker", "docker", WORKING)
    monkeypatch.setenv("PATH", f"{path}:{tmp_path / 'later'}")
    docker = by_runtime(d.examine())["docker"]
    assert docker.command == str(path / "docker")
    assert docker.other_commands == [str(tmp_path / "later" / "docker")]


def test_podman_docker_shim(path: Path) -> None:
    fake_cli(path, "docker", "podman", WORKING)  # a docker that answers as podman
    fake_cli(path, "podman", "podman", WORKING)
    report = d.examine()
    docker = by_runtime(report)["docker"]
    assert docker.shim == str(path / "docker")
    assert docker.answers
    assert not docker.available  # as is_available("docker") says
    assert docker.cause == "podman-docker-shim"
    assert not ContainerEngineFactory.is_available("docker")
    # create() takes the docker command, as podman: the doctor says the same.
    engine = ContainerEngineFactory.create()
    assert report.selected == engine.runtime.value == "podman"
    assert report.selected_command == str(path / "docker")


def test_environment_is_reported(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    both_working(path)
    monkeypatch.setenv("CONTAINERS_CONF", "/etc/containers/x.conf")
    monkeypatch.setenv("DOCKER_CONTEXT", "default")
    report = d.examine()
    assert report.environment == {
        "DOTFILES_CONTAINER_RUNTIME": None,
        "DOCKER_HOST": None,
        "DOCKER_CONTEXT": "default",
        "CONTAINER_HOST": None,
        "CONTAINERS_CONF": "/etc/containers/x.conf",
    }


def test_environment_variable_picks_like_create(path: Path, monkeypatch: Any) -> None:
    both_working(path)
    monkeypatch.setenv("DOTFILES_CONTAINER_RUNTIME", "podman")
    report = d.examine()
    assert report.selected == ContainerEngineFactory.create().runtime.value == "podman"


def test_environment_variable_naming_a_runtime_that_is_down(path: Path, monkeypatch: Any) -> None:
    fake_cli(path, "docker", "docker", WORKING)
    fake_cli(path, "podman", "podman", {"version": "diag_service_down_version"})
    monkeypatch.setenv("DOTFILES_CONTAINER_RUNTIME", "podman")
    report = d.examine()
    assert report.selected is None  # create() raises, although docker works
    assert report.exit_status == 1
    assert report.hint is not None
    assert "unset DOTFILES_CONTAINER_RUNTIME" in report.hint
    with pytest.raises(RuntimeNotAvailableError):
        ContainerEngineFactory.create()


def test_environment_variable_naming_no_runtime(path: Path, monkeypatch: Any) -> None:
    both_working(path)
    monkeypatch.setenv("DOTFILES_CONTAINER_RUNTIME", "lxc")
    report = d.examine()
    assert report.selected is None
    assert report.exit_status == 1
    assert report.problem is not None
    assert "lxc" in report.problem


# ------------------------------------------------------------------ --run


def test_run_failure_of_the_selected_runtime_fails_the_exit_status(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    both_working(path)
    outcomes = {"docker": d.RunCheck(ok=True), "podman": d.RunCheck(ok=False, problem="p")}

    def fake_run_check(engine: Any) -> d.RunCheck:
        return outcomes[engine.runtime.value]

    monkeypatch.setattr(d, "run_check", fake_run_check)
    report = d.examine(run=True)
    assert report.selected == "docker"
    assert report.exit_status == 0  # podman cannot start containers, but docker is picked
    assert by_runtime(report)["podman"].problem == "p"
    outcomes["docker"] = d.RunCheck(ok=False, problem="q")
    assert d.examine(run=True).exit_status == 1
    outcomes["docker"] = d.RunCheck(ok=None, problem="not checked")
    assert d.examine(run=True).exit_status == 0  # could not check: not a failure


def _build_ok(call: Any) -> CommandResult:
    iidfile = call.option("--iidfile")
    Path(iidfile).write_text("sha256:" + "a" * 64)
    return result()


@pytest.mark.skipif(d.find_static_busybox() is None, reason="no static busybox here")
def test_run_check_names_podmans_rc_126_fix() -> None:
    runner = FakeRunner(
        "podman",
        _build_ok,
        recorded("podman", "diag_oci_rlimit_run"),  # run -d: rc 126
        recorded("podman", "container_inspect_missing"),  # nothing left to remove
        result(),  # rmi of the test image
    )
    check = d.run_check(PodmanEngine(runner=runner))
    assert check.ok is False
    assert check.cause == "oci-runtime"
    assert check.hint is not None
    assert "default_ulimits" in check.hint
    assert 'runtime = "runc"' in check.hint
    build, run, _, rmi = (c.args for c in runner.calls)
    assert build[0] == "build"
    assert run[:2] == ("run", "-d")
    assert rmi[0] == "rmi"
    assert rmi[-1] == run[run.index("--name") + 1] + ":1"  # the image it built, nothing else
    assert runner.pending == 0


@pytest.mark.skipif(d.find_static_busybox() is None, reason="no static busybox here")
def test_run_check_success_removes_what_it_made() -> None:
    cid = "c" * 64
    runner = FakeRunner(
        "docker",
        _build_ok,
        result(stdout=cid + "\n"),  # run -d
        result(stdout="0\n"),  # wait
        result(stdout="/x\n"),  # exists (inspect)
        result(stdout=cid + "\n"),  # rm -f
        lambda call: result(stdout=f"Untagged: {call.args[-1]}\n"),  # rmi
    )
    check = d.run_check(DockerEngine(runner=runner))
    assert check.ok is True
    verbs = [c.args[0] for c in runner.calls]
    assert verbs == ["build", "run", "wait", "container", "rm", "rmi"]
    build = runner.calls[0]
    assert build.input is not None
    assert b"FROM scratch" in build.input  # the image is made in memory, from the host's busybox


def test_run_check_without_busybox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(d, "find_static_busybox", lambda: None)
    check = d.run_check(DockerEngine(runner=FakeRunner("docker")))
    assert check.ok is None
    assert check.hint is not None
    assert "busybox-static" in check.hint


def _elf(interp: bool, wide: bool = True) -> bytes:
    """A minimal ELF header with one program header (PT_INTERP or PT_LOAD)."""
    p_type = 3 if interp else 1
    if wide:
        header = b"\x7fELF\x02\x01\x01" + b"\0" * 9
        header += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)
        return header + struct.pack("<IIQQQQQQ", p_type, 0, 0, 0, 0, 0, 0, 0)
    header = b"\x7fELF\x01\x01\x01" + b"\0" * 9
    header += struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, 0, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    return header + struct.pack("<IIIIIIII", p_type, 0, 0, 0, 0, 0, 0, 0)


@pytest.mark.parametrize("wide", [True, False])
def test_static_elf(tmp_path: Path, wide: bool) -> None:
    static, dynamic, text = tmp_path / "s", tmp_path / "d", tmp_path / "t"
    static.write_bytes(_elf(interp=False, wide=wide))
    dynamic.write_bytes(_elf(interp=True, wide=wide))
    text.write_text("#!/bin/sh\n")
    assert d.is_static_elf(str(static))
    assert not d.is_static_elf(str(dynamic))
    assert not d.is_static_elf(str(text))
    assert not d.is_static_elf(str(tmp_path / "missing"))


# ------------------------------------------------------------------ the command line


def test_json_is_one_object_in_the_contracts_shape(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_cli(path, "docker", "docker", {"version": "diag_daemon_down_version"})
    fake_cli(path, "podman", "podman", WORKING)
    status = main(["doctor", "--json"])
    data = json.loads(capsys.readouterr().out)  # exactly one JSON document
    assert status == 0
    assert data["selected"] == "podman"
    assert [r["runtime"] for r in data["runtimes"]] == ["docker", "podman"]
    for entry in data["runtimes"]:
        assert {"runtime", "available", "command", "version", "problem", "hint"} <= set(entry)
    docker = data["runtimes"][0]
    assert docker["available"] is False
    assert docker["version"] is None
    assert docker["problem"]
    assert docker["hint"]
    assert data["runtimes"][1]["version"] == "4.3.1"


def test_text_report(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake_cli(path, "docker", "docker", {"version": "diag_socket_permission_version"})
    status = main(["doctor"])
    out = capsys.readouterr().out
    assert status == 1
    assert "permission denied on the docker socket unix:///var/run/docker.sock" in out
    assert "hint: add your user to the docker group" in out
    assert "create() picks: nothing" in out
    assert "--run" in out


def test_console_script(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both_working(path)
    assert doctor_main(["--json"]) == 0
    assert json.loads(capsys.readouterr().out)["selected"] == "docker"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
