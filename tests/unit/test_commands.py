"""The command lines the managers build, and what travels outside argv (secrets, tar input)."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerConflictError,
    ContainerEngineFactory,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerRuntime,
    ImageConflictError,
    ImageNotFoundError,
    InvalidConfigError,
    NetworkConflictError,
    OutputParseError,
    PortMapping,
    PullPolicy,
    RestartPolicy,
    RunConfig,
    RuntimeNotAvailableError,
    VolumeConflictError,
    VolumeMount,
)
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.cli.tarstream import context_tar_bytes
from dotfiles_container_manager.implementations.docker import (
    DockerContainerManager,
    DockerEngine,
    DockerImageManager,
    DockerNetworkManager,
    DockerVolumeManager,
)
from dotfiles_container_manager.implementations.docker.image import BUILD_INTERRUPT_GRACE
from dotfiles_container_manager.implementations.podman import (
    PodmanContainerManager,
    PodmanEngine,
    PodmanImageManager,
    PodmanNetworkManager,
    PodmanVolumeManager,
)

from .conftest import (
    CONTAINERS,
    IMAGES,
    RUNTIMES,
    Call,
    FakeRunner,
    recorded,
    result,
)

BASE = "dcm-test-base:latest"
SENSITIVE = "s3cr3t-value-do-not-leak"
CID = "c40f859d1ff4e19b2c9b48655d5e2007b1ca64d9bc8a60be2b3984b6fb601c28"


def stopped(runtime: str) -> list[CommandResult]:
    """The answer to podman's `stop -t 0` before every forced removal (none on docker)."""
    return [result(CID + "\n")] if runtime == "podman" else []


def removal_verbs(runtime: str) -> list[str]:
    """The verbs of a forced removal: podman stops the container first."""
    return ["stop", "rm"] if runtime == "podman" else ["rm"]


def container_id() -> Any:
    return result(CID + "\n")


def all_args(fake: FakeRunner) -> list[str]:
    return [arg for call in fake.calls for arg in call.args]


# --------------------------------------------------------------------------- run / create


def without_cidfile(args: tuple[str, ...]) -> tuple[str, ...]:
    """``args`` of a create/run without the ``--cidfile PATH`` the manager always adds (the
    file lets it remove a container whose start then failed)."""
    if args[:1] not in (("create",), ("run",)):
        return args
    index = args.index("--cidfile")
    assert args[index + 1].endswith("/cid")
    return args[:index] + args[index + 2 :]


class TestRunArgs:
    def test_full_config(self, runtime: str, tmp_path: Path) -> None:
        config = RunConfig(
            BASE,
            name="web",
            command=["sh", "-c", "echo hi"],
            environment={"FOO": SENSITIVE},
            volumes=[VolumeMount("data", "/data"), VolumeMount(str(tmp_path), "/bind", True)],
            ports=[
                PortMapping(80, 8080),
                PortMapping(81, None, "udp", "127.0.0.1"),
                PortMapping(53, 5353, "udp", "::1"),
                PortMapping(9000),
            ],
            network="net1",
            labels={"role": "web", "empty": ""},
            restart_policy=RestartPolicy.ON_FAILURE,
            restart_max_retries=3,
            entrypoint=["/bin/sh", "-e"],
        )
        fake = FakeRunner(runtime, container_id())
        assert CONTAINERS[runtime](fake).run(config) == CID
        (call,) = fake.calls
        assert without_cidfile(call.args) == (
            "run", "-d",
            "--name", "web",
            "--label", "role=web", "--label", "empty=",
            "--mount", "type=volume,source=data,target=/data",
            "--mount", f"type=bind,source={tmp_path},target=/bind,ro",
            "-p", "8080:80/tcp",
            "-p", "127.0.0.1::81/udp",
            "-p", "[::1]:5353:53/udp",
            "-p", "9000/tcp",
            "--network", "net1",
            "--restart", "on-failure:3",
            "--entrypoint", "/bin/sh",
            "-e", "FOO",
            BASE,
            "-e", "sh", "-c", "echo hi",
        )  # fmt: skip
        assert call.env == {"FOO": SENSITIVE}
        assert call.error is ContainerOperationError

    def test_create_and_minimal_config(self, runtime: str) -> None:
        fake = FakeRunner(runtime, container_id())
        assert CONTAINERS[runtime](fake).create(RunConfig(BASE)) == CID
        assert without_cidfile(fake.calls[0].args) == ("create", BASE)
        assert not fake.calls[0].env

    def test_other_options(self, runtime: str) -> None:
        config = RunConfig(
            BASE,
            restart_policy=RestartPolicy.UNLESS_STOPPED,
            working_dir="/work",
            user="1000:1000",
            hostname="box",
            pull=PullPolicy.NEVER,
            network_aliases=["db"],
            extra_hosts={"host.internal": "10.0.0.1"},
            tmpfs=["/tmp"],
            read_only=True,
            privileged=True,
            init=True,
            cap_add=["NET_ADMIN"],
            cap_drop=["ALL"],
            memory="256m",
            cpus=1.5,
            stop_signal="SIGINT",
            stop_timeout=3,
            healthcheck="test -f /ready",
            entrypoint=[],
        )
        fake = FakeRunner(runtime, container_id())
        CONTAINERS[runtime](fake).create(config)
        call = fake.calls[0]
        assert call.option("--restart") == "unless-stopped"
        assert call.option("--workdir") == "/work"
        assert call.option("--user") == "1000:1000"
        assert call.option("--hostname") == "box"
        assert call.option("--pull") == "never"
        assert call.option("--network-alias") == "db"
        assert call.option("--add-host") == "host.internal:10.0.0.1"
        assert call.option("--tmpfs") == "/tmp"
        assert call.option("--cap-add") == "NET_ADMIN"
        assert call.option("--cap-drop") == "ALL"
        assert call.option("--memory") == "256m"
        assert call.option("--cpus") == "1.5"
        assert call.option("--stop-signal") == "SIGINT"
        assert call.option("--stop-timeout") == "3"
        assert call.option("--health-cmd") == "test -f /ready"
        assert call.option("--entrypoint") == ""  # an empty entrypoint clears the image's
        for flag in ("--read-only", "--privileged", "--init"):
            assert flag in call.args
        assert call.args[-1] == BASE

    def test_remove_flag(self, runtime: str) -> None:
        fake = FakeRunner(runtime, container_id())
        CONTAINERS[runtime](fake).create(RunConfig(BASE, remove=True))
        assert without_cidfile(fake.calls[0].args) == ("create", "--rm", BASE)

    def test_attached_run_waits_for_the_container(self, runtime: str) -> None:
        # The container's exit status (42 here) is a result for wait(), not a CLI failure.
        fake = FakeRunner(runtime, container_id(), result(CID), recorded(runtime, "wait_exited"))
        assert CONTAINERS[runtime](fake).run(RunConfig(BASE, detach=False)) == CID
        assert [without_cidfile(c.args) for c in fake.calls] == [
            ("create", BASE),
            ("start", CID),
            ("wait", CID),
        ]

    def test_output_without_an_id(self, runtime: str) -> None:
        fake = FakeRunner(runtime, result("Unable to find image\n"))
        with pytest.raises(OutputParseError):
            CONTAINERS[runtime](fake).run(RunConfig(BASE))

    def test_pull_progress_before_the_id(self, runtime: str) -> None:
        fake = FakeRunner(runtime, result(f"Trying to pull x...\n{CID}\n"))
        assert CONTAINERS[runtime](fake).run(RunConfig(BASE)) == CID


# --------------------------------------------------------------------------- secrets


class EnvFileProbe:
    """A scripted response that looks at the env-file while the call runs."""

    def __init__(self, answer: Any = None) -> None:
        self.answer = answer if answer is not None else container_id()
        self.path: Path | None = None
        self.file_mode = self.dir_mode = -1
        self.lines: list[str] = []

    def __call__(self, call: Call) -> Any:
        self.path = Path(call.option("--env-file"))
        self.file_mode = stat.S_IMODE(self.path.stat().st_mode)
        self.dir_mode = stat.S_IMODE(self.path.parent.stat().st_mode)
        self.lines = self.path.read_text(encoding="utf-8").splitlines()
        return self.answer


class TestSecrets:
    def test_values_travel_in_the_environment(self, runtime: str) -> None:
        env = {"FOO": SENSITIVE, "BAR": "two words", "EMPTY": ""}
        fake = FakeRunner(runtime, container_id())
        CONTAINERS[runtime](fake).run(RunConfig(BASE, environment=env))
        call = fake.calls[0]
        assert call.values("-e") == ["FOO", "BAR", "EMPTY"]
        assert "--env-file" not in call.args
        assert call.env == env
        assert not any(SENSITIVE in arg for arg in call.args)

    def test_cli_sensitive_keys_go_through_a_private_env_file(self, runtime: str) -> None:
        env = {
            "DOCKER_HOST": "tcp://" + SENSITIVE,
            "PATH": "/opt/" + SENSITIVE,
            "docker_config": "lower",
            "CONTAINERS_CONF": "/x",
            "HTTPS_PROXY": "http://p",
            "LD_PRELOAD": "/evil.so",
            "APP": SENSITIVE,
        }
        probe = EnvFileProbe()
        fake = FakeRunner(runtime, probe)
        CONTAINERS[runtime](fake).run(RunConfig(BASE, environment=env))
        call = fake.calls[0]
        # Inside the call: a 0600 file in a 0700 directory, one KEY=value per line.
        assert probe.file_mode == 0o600
        assert probe.dir_mode == 0o700
        assert sorted(probe.lines) == sorted(f"{k}={v}" for k, v in env.items() if k != "APP")
        # The CLI's own environment never gets them; argv never holds a value.
        assert call.env == {"APP": SENSITIVE}
        assert call.values("-e") == ["APP"]
        assert not any(SENSITIVE in arg for arg in call.args)
        # Afterwards: gone, with its directory.
        assert probe.path is not None
        assert not probe.path.exists()
        assert not probe.path.parent.exists()

    def test_env_file_option_puts_everything_in_the_file(self, runtime: str) -> None:
        probe = EnvFileProbe()
        fake = FakeRunner(runtime, probe)
        config = RunConfig(BASE, environment={"A": SENSITIVE, "B": "2"}, env_file=True)
        CONTAINERS[runtime](fake).create(config)
        call = fake.calls[0]
        assert probe.lines == [f"A={SENSITIVE}", "B=2"]
        assert (probe.file_mode, probe.dir_mode) == (0o600, 0o700)
        assert "-e" not in call.args
        assert not call.env
        assert call.args.index("--env-file") < call.args.index(BASE)
        assert probe.path is not None
        assert not probe.path.parent.exists()

    def test_env_file_removed_when_the_call_fails(self, runtime: str) -> None:
        probe = EnvFileProbe(recorded(runtime, "run_missing_image_pull_never"))
        fake = FakeRunner(runtime, probe)
        config = RunConfig(BASE, environment={"A": SENSITIVE}, env_file=True)
        with pytest.raises(Exception, match="image") as caught:
            CONTAINERS[runtime](fake).run(config)
        assert SENSITIVE not in str(caught.value)
        assert SENSITIVE not in repr(caught.value)
        assert probe.path is not None
        assert not probe.path.parent.exists()

    def test_exec_environment(self, runtime: str) -> None:
        probe = EnvFileProbe(result("ok\n"))
        fake = FakeRunner(runtime, probe)
        env = {"TOKEN": SENSITIVE, "DOCKER_HOST": "unix:///x"}
        res = CONTAINERS[runtime](fake).exec("c1", ["env"], environment=env)
        assert res.stdout == "ok\n"
        call = fake.calls[0]
        assert call.env == {"TOKEN": SENSITIVE}
        assert call.values("-e")[:-1] == ["TOKEN"]  # then the call's DCM_EXEC_ID marker
        assert probe.lines == ["DOCKER_HOST=unix:///x"]
        assert call.args[-2:] == ("c1", "env")
        assert not any(SENSITIVE in arg for arg in call.args)

    def test_repr_of_config_hides_values(self) -> None:
        config = RunConfig(BASE, name="web", environment={"TOKEN": SENSITIVE})
        assert SENSITIVE not in repr(config)
        assert SENSITIVE not in str(config)
        assert "TOKEN" in repr(config)

    def test_newline_in_a_sensitive_value_cannot_add_variables(self, runtime: str) -> None:
        # The env-file has one variable per line: such a value would start another one.
        fake = FakeRunner(runtime)
        manager = CONTAINERS[runtime](fake)
        value = f"/bin\nINJECTED={SENSITIVE}"
        with pytest.raises(InvalidConfigError) as caught:
            manager.create(RunConfig(BASE, environment={"PATH": value}))
        with pytest.raises(InvalidConfigError):
            manager.exec("c1", ["env"], environment={"DOCKER_CONFIG": value})
        assert SENSITIVE not in str(caught.value)
        assert fake.calls == []


# --------------------------------------------------------------------------- images


class TestBuild:
    CONTEXT = BuildContext(
        "FROM dcm-test-base:latest\nARG TOKEN\nCOPY hello.txt /hello.txt\n",
        files={"hello.txt": "hello\n", "bin/run": b"#!/bin/sh\n"},
        build_args={"TOKEN": SENSITIVE},
        labels={"role": "test"},
        target="final",
        no_cache=True,
        pull=True,
        tags=["dcm-x:2"],
        executable=["bin/run"],
    )

    def iidfile_writer(self, runtime: str) -> Any:
        image_id = recorded(runtime, "build_ok_iidfile").stdout_text

        def respond(call: Call) -> Any:
            Path(call.option("--iidfile")).write_text(image_id, encoding="ascii")
            return recorded(runtime, "build_ok")

        return respond

    def test_argv_env_and_input(self, runtime: str) -> None:
        fake = FakeRunner(runtime, self.iidfile_writer(runtime))
        image_id = IMAGES[runtime](fake).build(self.CONTEXT, "dcm-x:1")
        assert image_id == recorded(runtime, "build_ok_iidfile").stdout_text.strip()
        (call,) = fake.calls
        iidfile = call.option("--iidfile")
        assert call.args == (
            "build", "--force-rm", "-f", "Dockerfile", "-t", "dcm-x:1", "-t", "dcm-x:2",
            "--label", "role=test", "--build-arg", "TOKEN", "--target", "final",
            "--no-cache", "--pull", "--iidfile", iidfile, "-",
        )  # fmt: skip
        env = dict(call.env or {})
        # The CLI's temporary files go to a private directory, removed with the iidfile's.
        assert Path(env.pop("TMPDIR")).parent == Path(iidfile).parent
        assert env == {"TOKEN": SENSITIVE}
        assert not any(SENSITIVE in arg for arg in call.args)
        assert call.input == context_tar_bytes(self.CONTEXT)
        with tarfile.open(fileobj=io.BytesIO(call.input or b"")) as tar:
            assert sorted(tar.getnames()) == ["Dockerfile", "bin/run", "hello.txt"]
        assert not Path(iidfile).parent.exists()  # the temporary directory is gone
        assert call.timeout is not None
        assert call.timeout >= 3600  # builds get the long limit
        assert call.interrupt_grace == BUILD_INTERRUPT_GRACE  # SIGINT first when cut short

    def test_dockerfile_path(self, runtime: str) -> None:
        context = BuildContext("FROM scratch\n", dockerfile_path="./docker/Dockerfile.dev")
        fake = FakeRunner(runtime, self.iidfile_writer(runtime))
        IMAGES[runtime](fake).build(context, "dcm-x:1")
        assert fake.calls[0].option("-f") == "docker/Dockerfile.dev"

    def test_id_from_podman_output_without_iidfile(self) -> None:
        fake = FakeRunner("podman", recorded("podman", "build_ok"))
        image_id = PodmanImageManager(fake).build(BuildContext("FROM scratch\n"), "dcm-x:1")
        assert image_id == recorded("podman", "build_ok_iidfile").stdout_text.strip()

    def test_id_from_docker_output_without_iidfile(self) -> None:
        fake = FakeRunner(
            "docker", recorded("docker", "build_ok"), recorded("docker", "image_inspect")
        )
        image_id = DockerImageManager(fake).build(BuildContext("FROM scratch\n"), "dcm-x:1")
        assert image_id == recorded("docker", "build_ok_iidfile").stdout_text.strip()
        assert fake.calls[1].args == ("image", "inspect", "ef2e1be2edb7")

    def test_proxy_build_args_travel_in_the_environment(self, runtime: str) -> None:
        # A proxy URL may carry user:password@: never on argv, like any build-arg value.
        proxy = "http://user:pw@proxy:3128"
        context = BuildContext(
            "FROM scratch\n",
            build_args={"HTTP_PROXY": proxy, "no_proxy": "localhost", "V": "1"},
        )
        fake = FakeRunner(runtime, self.iidfile_writer(runtime))
        IMAGES[runtime](fake).build(context, "dcm-x:1")
        call = fake.calls[0]
        assert call.values("--build-arg") == ["HTTP_PROXY", "no_proxy", "V"]
        env = {k: v for k, v in (call.env or {}).items() if k != "TMPDIR"}
        assert env == {"HTTP_PROXY": proxy, "no_proxy": "localhost", "V": "1"}
        assert not any("pw@" in arg for arg in call.args)

    @pytest.mark.parametrize("key", ["DOCKER_HOST", "PATH", "containers_conf", "LD_PRELOAD"])
    def test_build_args_that_would_configure_the_cli_are_refused(
        self, runtime: str, key: str
    ) -> None:
        fake = FakeRunner(runtime)
        context = BuildContext("FROM scratch\n", build_args={key: SENSITIVE})
        with pytest.raises(InvalidConfigError) as caught:
            IMAGES[runtime](fake).build(context, "dcm-x:1")
        assert caught.value.field == "BuildContext.build_args key"
        assert SENSITIVE not in str(caught.value)
        assert fake.calls == []

    def test_invalid_image_name_runs_nothing(self, runtime: str) -> None:
        fake = FakeRunner(runtime)
        with pytest.raises(InvalidConfigError):
            IMAGES[runtime](fake).build(BuildContext("FROM scratch\n"), "Upper:1")
        assert fake.calls == []


class TestImageCommands:
    def test_tag_remove_pull(self, runtime: str) -> None:
        untagged = result("Untagged: dcm-rec-img:2\n")
        fake = FakeRunner(runtime, recorded(runtime, "tag_ok"), untagged, result())
        fake.queue(recorded(runtime, "image_inspect"))
        images = IMAGES[runtime](fake)
        images.tag("dcm-rec-img:1", "dcm-rec-img:2")
        images.remove("dcm-rec-img:2")
        image_id = images.pull("alpine:3")
        assert image_id.startswith("sha256:")
        assert [c.args for c in fake.calls] == [
            ("tag", "dcm-rec-img:1", "dcm-rec-img:2"),
            ("rmi", "dcm-rec-img:2"),
            ("pull", "alpine:3"),
            ("image", "inspect", "alpine:3"),
        ]

    def test_docker_force_remove(self) -> None:
        fake = FakeRunner("docker", result("Untagged: dcm-x:1\n"))
        DockerImageManager(fake).remove("dcm-x:1", force=True)
        assert fake.calls[0].args == ("rmi", "-f", "dcm-x:1")

    def test_docker_force_remove_of_a_missing_image_raises(self) -> None:
        # docker's `rmi -f` of a missing image exits 0 and prints nothing on stdout.
        fake = FakeRunner("docker", result(b"", b"Error: No such image: dcm-x:1\n", 0))
        with pytest.raises(ImageNotFoundError):
            DockerImageManager(fake).remove("dcm-x:1", force=True)

    def test_podman_force_remove_never_removes_containers(self) -> None:
        inspect = recorded("podman", "image_inspect")
        image_id = "db78e2b312f37e6098bb24c73ca1f7e1c92807ea175a4778349d00fcbc82f300"
        # In use by a container: only the name goes (like docker's rmi -f NAME).
        fake = FakeRunner("podman", inspect, result(CID + "\n"), result())
        PodmanImageManager(fake).remove("dcm-rec-img:1", force=True)
        assert [c.args for c in fake.calls][1:] == [
            ("ps", "-a", "-q", "--filter", f"ancestor={image_id}"),
            ("untag", "dcm-rec-img:1", "dcm-rec-img:1"),
        ]
        assert not any("-f" in c.args and c.args[0] == "rmi" for c in fake.calls)
        # Unused: a plain forced rmi.
        fake = FakeRunner("podman", inspect, result(), result())
        PodmanImageManager(fake).remove("dcm-rec-img:1", force=True)
        assert fake.calls[-1].args == ("rmi", "-f", "dcm-rec-img:1")
        # By id while in use: a conflict, nothing removed.
        fake = FakeRunner("podman", inspect, result(CID + "\n"))
        with pytest.raises(ImageConflictError):
            PodmanImageManager(fake).remove(image_id, force=True)
        assert len(fake.calls) == 2


# --------------------------------------------------------------------------- containers


class TestContainerCommands:
    @pytest.mark.parametrize(
        ("runtime", "force_args"), [("docker", ("-f",)), ("podman", ("-f", "-t", "0"))]
    )
    def test_forced_remove(self, runtime: str, force_args: tuple[str, ...]) -> None:
        fake = FakeRunner(runtime, result("web\n"), result("web\n"), result("web\n"))
        manager = CONTAINERS[runtime](fake)
        manager.remove("web", force=True, volumes=True)
        manager.remove("web")
        calls = [c.args for c in fake.calls]
        if runtime == "podman":
            # A container left "stopping" (a killed `podman stop`) is only really stopped by
            # `stop`; `rm -f` would delete its record and leave its processes running.
            assert calls.pop(0) == ("stop", "-t", "0", "web")
            assert not fake.calls[0].check
        assert calls == [("rm", *force_args, "-v", "web"), ("rm", "web")]

    def test_forced_remove_of_a_missing_container_raises(self, runtime: str) -> None:
        # `rm -f` of a missing container exits 0 and prints nothing on both CLIs.
        fake = FakeRunner(runtime, *stopped(runtime), result(b"", b"", 0))
        with pytest.raises(ContainerNotFoundError) as caught:
            CONTAINERS[runtime](fake).remove("dcm-rec-nope", force=True)
        assert "dcm-rec-nope" in caught.value.message
        assert caught.value.command[:2] == [runtime, "rm"]

    def test_podman_list_hides_stopped_containers_unless_all(self) -> None:
        fake = FakeRunner("podman", recorded("podman", "ps_all_mixed"))
        fake.queue(recorded("podman", "ps_all_mixed"))
        manager = PodmanContainerManager(fake)
        shown = manager.list(filters={"label": "dcm-rec=1"})
        assert sorted(c.name for c in shown) == ["dcm-rec-c1", "dcm-rec-c2"]  # running, paused
        everything = manager.list(all=True)
        assert sorted(c.name for c in everything) == [f"dcm-rec-c{i}" for i in range(1, 5)]
        # podman's ps hides paused containers without -a: it is always asked for all.
        for call in fake.calls:
            assert "-a" in call.args
        assert fake.calls[0].option("--filter") == "label=dcm-rec=1"

    def test_docker_list(self) -> None:
        fake = FakeRunner("docker", recorded("docker", "ps_paused_no_all"))
        fake.queue(recorded("docker", "ps_all_mixed"))
        manager = DockerContainerManager(fake)
        assert sorted(c.name for c in manager.list()) == ["dcm-rec-c1", "dcm-rec-c2"]
        assert len(manager.list(all=True)) == 4
        assert fake.calls[0].args == ("ps", "--no-trunc", "--format", "{{json .}}")
        assert fake.calls[1].args[-1] == "-a"

    def test_lifecycle_argv(self, runtime: str) -> None:
        fake = FakeRunner(
            runtime, result("x\n"), result("20\n"), *[result("x\n") for _ in range(6)]
        )
        manager = CONTAINERS[runtime](fake)
        manager.start("c1")
        manager.stop("c1")  # reads the container's own stop timeout first
        manager.stop("c1", timeout=5)
        manager.restart("c1", timeout=0)
        manager.kill("c1", signal="SIGTERM")
        manager.pause("c1")
        manager.unpause("c1")
        assert [c.args for c in fake.calls] == [
            ("start", "c1"),
            ("inspect", "--format", "{{json .Config.StopTimeout}}", "c1"),
            ("stop", "c1"),
            ("stop", "-t", "5", "c1"),
            ("restart", "-t", "0", "c1"),
            ("kill", "-s", "SIGTERM", "c1"),
            ("pause", "c1"),
            ("unpause", "c1"),
        ]
        # stop may take its own timeout (or the container's) on top of the runner's.
        assert fake.calls[2].timeout == fake.timeout + 20
        assert fake.calls[3].timeout == fake.timeout + 5

    def test_logs_options(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "logs"))
        CONTAINERS[runtime](fake).logs("c1", tail=5, since="10m", timestamps=True)
        assert fake.calls[0].args == ("logs", "--tail", "5", "--since", "10m", "--timestamps", "c1")
        with pytest.raises(InvalidConfigError):
            CONTAINERS[runtime](fake).logs("c1", tail=-1)

    @pytest.mark.parametrize("bad", ["-rf", "a b", "", "x\x00"])
    def test_invalid_names_run_nothing(self, runtime: str, bad: str) -> None:
        fake = FakeRunner(runtime)
        manager = CONTAINERS[runtime](fake)
        for call in (manager.start, manager.inspect, manager.exists, manager.remove):
            with pytest.raises(InvalidConfigError):
                call(bad)
        assert fake.calls == []


class TestExec:
    def test_argv_and_input(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "exec_ok"))
        res = CONTAINERS[runtime](fake).exec(
            "c1", ["cat"], working_dir="/tmp", user="nobody", input=b"data", timeout=9
        )
        call = fake.calls[0]
        assert call.args[:6] == ("exec", "-i", "-w", "/tmp", "-u", "nobody")
        assert call.args[6] == "-e" and re.fullmatch(r"DCM_EXEC_ID=[0-9a-f]{32}", call.args[7])
        assert call.args[8:] == ("c1", "cat")
        assert call.input == b"data"
        assert call.check is False
        assert call.timeout == 9
        assert res.exit_code == 7

    def test_missing_binary_is_127_on_both_runtimes(self, runtime: str) -> None:
        raw = recorded(runtime, "exec_missing_binary")
        res = CONTAINERS[runtime](FakeRunner(runtime, raw)).exec("c1", ["nonexistent-cmd"])
        assert res.exit_code == 127
        assert res.stdout == ""
        assert "executable file not found" in res.stderr
        assert not res.ok

    def test_docker_not_executable_stays_126(self) -> None:
        raw = result(
            b"OCI runtime exec failed: exec failed: unable to start container process: "
            b'exec: "/etc/passwd": permission denied: unknown\r\n',  # the daemon's CRLF
            b"",
            126,
        )
        res = DockerContainerManager(FakeRunner("docker", raw)).exec("c1", ["/etc/passwd"])
        assert res.exit_code == 126
        assert "permission denied" in res.stderr
        assert res.stdout_bytes == b""

    @pytest.mark.parametrize(
        ("fixture", "expected"),
        [
            ("exec_missing_container", ContainerNotFoundError),
            ("exec_not_running", ContainerConflictError),
            ("exec_paused", ContainerConflictError),
        ],
    )
    def test_container_problems_raise(self, runtime: str, fixture: str, expected: Any) -> None:
        # The exit code is ambiguous: one inspect of the container's state decides.
        state = {
            "exec_missing_container": recorded(runtime, "container_inspect_missing"),
            "exec_not_running": result("exited\n"),
            "exec_paused": result("paused\n"),
        }[fixture]
        fake = FakeRunner(runtime, recorded(runtime, fixture), state)
        with pytest.raises(expected) as caught:
            CONTAINERS[runtime](fake).exec("dcm-rec-c4", ["true"])
        assert caught.value.exit_code == recorded(runtime, fixture).returncode

    def test_command_failures_are_results(self, runtime: str) -> None:
        fake = FakeRunner(runtime, result(b"", b"grep: nothing\n", 1), result(b"", b"", 125))
        manager = CONTAINERS[runtime](fake)
        assert manager.exec("c1", ["grep", "x"]).exit_code == 1
        assert manager.exec("c1", ["sh", "-c", "exit 125"]).exit_code == 125

    def test_command_printing_error_prefix_is_a_result(self, runtime: str) -> None:
        # The command's own "Error: ..." on stderr with exit 1 (or 125) is its result: where
        # the code is also the CLI's own, the container's state (running) says so.
        fake = FakeRunner(runtime, result(b"", b"Error: config file not found\n", 1))
        fake.queue(result(b"", b"Error: unknown flag\n", 125))
        if runtime == "podman":
            fake.queue(result("running\n"))
        manager = CONTAINERS[runtime](fake)
        res = manager.exec("c1", ["myapp"])
        assert (res.exit_code, res.stderr) == (1, "Error: config file not found\n")
        assert manager.exec("c1", ["myapp", "--bad"]).exit_code == 125

    @pytest.mark.parametrize("command", [[], "ls -l"])
    def test_bad_commands(self, runtime: str, command: Any) -> None:
        fake = FakeRunner(runtime)
        with pytest.raises(InvalidConfigError):
            CONTAINERS[runtime](fake).exec("c1", command)
        assert fake.calls == []


# --------------------------------------------------------------------------- volumes, networks


class TestVolumeAndNetworkCommands:
    def test_docker_volume_create_refuses_an_existing_name(self) -> None:
        # docker's own `volume create` succeeds on an existing name (recorded).
        assert recorded("docker", "volume_create_existing").returncode == 0
        fake = FakeRunner("docker", result("dcm-rec-vol\n"), result("dcm-rec-vol\n"))
        manager = DockerVolumeManager(fake)
        with pytest.raises(VolumeConflictError):
            manager.create("dcm-rec-vol", labels={"a": "1"})
        assert manager.create("dcm-rec-vol", exist_ok=True) == "dcm-rec-vol"
        assert [c.args[:2] for c in fake.calls] == [("volume", "inspect")] * 2

    def test_docker_volume_create(self) -> None:
        fake = FakeRunner(
            "docker",
            recorded("docker", "volume_inspect_missing"),
            recorded("docker", "volume_create"),
        )
        name = DockerVolumeManager(fake).create(
            "dcm-rec-vol", driver="local", labels={"dcm-rec": "1"}, options={"type": "tmpfs"}
        )
        assert name == "dcm-rec-vol"
        assert fake.calls[1].args == (
            "volume", "create", "--driver", "local", "--label", "dcm-rec=1",
            "--opt", "type=tmpfs", "dcm-rec-vol",
        )  # fmt: skip

    def test_podman_volume_create_existing(self) -> None:
        existing = recorded("podman", "volume_create_existing")
        fake = FakeRunner("podman", existing, existing)
        manager = PodmanVolumeManager(fake)
        with pytest.raises(VolumeConflictError):
            manager.create("dcm-rec-vol")
        assert manager.create("dcm-rec-vol", exist_ok=True) == "dcm-rec-vol"
        assert [c.args for c in fake.calls] == [("volume", "create", "dcm-rec-vol")] * 2

    def test_docker_network_remove_refuses_while_containers_are_attached(self) -> None:
        fake = FakeRunner("docker", result(CID + "\n"))
        with pytest.raises(NetworkConflictError, match=CID):
            DockerNetworkManager(fake).remove("dcm-rec-net")
        assert fake.calls[0].args == ("ps", "-a", "-q", "--filter", "network=dcm-rec-net")
        fake = FakeRunner("docker", result(), result("dcm-rec-net\n"))
        DockerNetworkManager(fake).remove("dcm-rec-net")
        assert fake.calls[1].args == ("network", "rm", "dcm-rec-net")

    def test_podman_network_rm_by_id_uses_the_name(self) -> None:
        inspect = recorded("podman", "network_inspect")
        fake = FakeRunner("podman", inspect, recorded("podman", "network_rm_in_use"))
        with pytest.raises(NetworkConflictError):
            PodmanNetworkManager(fake).remove("e414989be6de")
        assert fake.calls[-1].args == ("network", "rm", "dcm-rec-net")

    def test_network_create_connect_disconnect(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "network_create"))
        if runtime == "podman":
            fake.queue(recorded(runtime, "network_inspect"))
        fake.queue(result(), result())
        manager = (DockerNetworkManager if runtime == "docker" else PodmanNetworkManager)(fake)
        manager.create(
            "dcm-rec-net", driver="bridge", labels={"a": "1"}, subnet="10.9.0.0/24", internal=True
        )
        manager.connect("dcm-rec-net", "c1", aliases=["db"])
        manager.disconnect("dcm-rec-net", "c1", force=True)
        assert fake.calls[0].args == (
            "network", "create", "--driver", "bridge", "--label", "a=1",
            "--subnet", "10.9.0.0/24", "--internal", "dcm-rec-net",
        )  # fmt: skip
        assert fake.calls[-2].args == ("network", "connect", "--alias", "db", "dcm-rec-net", "c1")
        assert fake.calls[-1].args == ("network", "disconnect", "-f", "dcm-rec-net", "c1")


# --------------------------------------------------------------------------- engines


def fake_cli(tmp_path: Path, name: str, runtime: str, fixture: str) -> str:
    """An executable that prints a recorded output (whatever its arguments)."""
    data = json.loads(
        (
            Path(__file__).parent.parent / "fixtures" / "outputs" / runtime / f"{fixture}.json"
        ).read_text(encoding="ascii")
    )
    script = tmp_path / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.stdout.write({data['stdout']!r})\n"
        f"sys.stderr.write({data['stderr']!r})\n"
        f"sys.exit({data['returncode']})\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return str(script)


class TestFactory:
    @pytest.mark.parametrize(
        ("runtime", "fixture_dir", "engine"),
        [
            ("docker", "docker", DockerEngine),
            ("podman", "podman", PodmanEngine),
            (ContainerRuntime.DOCKER, "docker-20.10", DockerEngine),
        ],
    )
    def test_create_checks_the_runtime_answers(
        self, tmp_path: Path, runtime: Any, fixture_dir: str, engine: type
    ) -> None:
        cli = fake_cli(tmp_path, "cli", fixture_dir, "version")
        created = ContainerEngineFactory.create(runtime, command=cli, timeout=7)
        assert type(created) is engine
        assert created.command == cli
        assert created.runtime is ContainerRuntime(str(runtime))
        assert isinstance(created, DockerEngine)
        assert created.timeout == 7

    def test_docker_name_that_is_podman_gives_a_podman_engine(self, tmp_path: Path) -> None:
        cli = fake_cli(tmp_path, "docker", "podman", "version")
        created = ContainerEngineFactory.create("docker", command=cli)
        assert type(created) is PodmanEngine
        assert created.runtime is ContainerRuntime.PODMAN
        assert created.containers.force_remove_options == ("-f", "-t", "0")

    def test_daemon_down(self, tmp_path: Path) -> None:
        cli = fake_cli(tmp_path, "docker", "docker", "daemon_down_version")
        with pytest.raises(RuntimeNotAvailableError) as caught:
            ContainerEngineFactory.create("docker", command=cli)
        assert caught.value.runtime == "docker"
        assert caught.value.exit_code == 1
        assert "Cannot connect to the Docker daemon" in caught.value.stderr

    def test_missing_cli(self, tmp_path: Path) -> None:
        with pytest.raises(RuntimeNotAvailableError) as caught:
            ContainerEngineFactory.create("podman", command=str(tmp_path / "nope"))
        assert caught.value.runtime == "podman"

    def test_unknown_runtime(self) -> None:
        with pytest.raises(InvalidConfigError) as caught:
            ContainerEngineFactory.create("lxc")
        assert caught.value.field == "runtime"

    def test_environment_variable_picks_the_runtime(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cli = fake_cli(tmp_path, "cli", "podman", "version")
        monkeypatch.setenv("DOTFILES_CONTAINER_RUNTIME", "PODMAN")
        assert type(ContainerEngineFactory.create(command=cli)) is PodmanEngine

    def test_engine_info(self, tmp_path: Path) -> None:
        cli = fake_cli(tmp_path, "podman", "podman", "info")
        info = PodmanEngine(cli).info()
        assert (info.runtime, info.version) == ("podman", "4.3.1")


def test_managers_share_one_runner(tmp_path: Path) -> None:
    engine = DockerEngine(fake_cli(tmp_path, "docker", "docker", "version"), env={"X": "1"})
    assert engine.runner.env == {"X": "1"}
    for manager in (engine.images, engine.containers, engine.volumes, engine.networks):
        assert manager._runner is engine.runner
    assert os.path.isabs(engine.runner.executable)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_running_removes_the_container_even_on_error(runtime: str) -> None:
    fake = FakeRunner(
        runtime, container_id(), result(CID + "\n"), *stopped(runtime), result(CID + "\n")
    )
    manager = CONTAINERS[runtime](fake)
    with pytest.raises(RuntimeError, match="boom"), manager.running(RunConfig(BASE)) as cid:
        assert cid == CID
        raise RuntimeError("boom")
    assert [c.args[0] for c in fake.calls] == ["create", "start", *removal_verbs(runtime)]
    assert fake.calls[-1].args[-1] == CID
    assert "-f" in fake.calls[-1].args


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_running_removes_a_container_that_fails_to_start(runtime: str) -> None:
    fake = FakeRunner(runtime, container_id(), recorded(runtime, "run_missing_cmd"))
    fake.queue(*stopped(runtime), result(CID + "\n"))
    manager = CONTAINERS[runtime](fake)
    with pytest.raises(ContainerOperationError), manager.running(RunConfig(BASE)):
        pytest.fail("the block must not run")
    assert [c.args[0] for c in fake.calls] == ["create", "start", *removal_verbs(runtime)]


@pytest.mark.parametrize("runtime", ["docker", "podman"])
def test_failed_run_removes_the_container_it_created(runtime: str) -> None:
    # The CLI wrote the id into --cidfile, then the start failed: the manager removes it.
    def create_then_fail(call: Call) -> CommandResult:
        path = call.args[call.args.index("--cidfile") + 1]
        with open(path, "w", encoding="ascii") as handle:
            handle.write(CID)
        return recorded(runtime, "run_missing_cmd")

    fake = FakeRunner(runtime, create_then_fail, *stopped(runtime), result(CID))
    with pytest.raises(ContainerOperationError):
        CONTAINERS[runtime](fake).run(RunConfig(BASE, command=["nope"]))
    assert [c.args[0] for c in fake.calls[1:]] == removal_verbs(runtime)
    assert fake.calls[-1].args[-1] == CID
    assert "-f" in fake.calls[-1].args
