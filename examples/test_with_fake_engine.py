"""Testing a dotfiles module with the fake engine: no docker, no podman, milliseconds.

    python -m pytest examples/test_with_fake_engine.py

The module under test (inlined below, as ``devbox``) keeps a development container running
for the user: it makes a home volume, starts the container if it is not running, checks
that git is inside, and tells which version. Its ``main()`` creates its own engine with
``ContainerEngineFactory.create()``, as a script would.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dotfiles_container_manager import (
    ContainerEngine,
    ContainerEngineFactory,
    ContainerNotFoundError,
    ContainerState,
    ExecResult,
    ImageNotFoundError,
    RunConfig,
    VolumeMount,
)
from dotfiles_container_manager.testing import ExecCall, FakeEngine, use_engine

# --------------------------------------------------------------------------- the module


class devbox:  # stands for `import devbox`
    IMAGE = "ghcr.io/example/devbox:1"
    NAME = "devbox"

    @staticmethod
    def ensure(engine: ContainerEngine) -> str:
        """The id of the running devbox, made or started when needed."""
        engine.volumes.create("devbox-home", labels={"app": "devbox"}, exist_ok=True)
        try:
            info = engine.containers.inspect(devbox.NAME)
        except ContainerNotFoundError:
            config = RunConfig(
                devbox.IMAGE,
                name=devbox.NAME,
                command=["sleep", "infinity"],
                volumes=[VolumeMount("devbox-home", "/home/dev")],
                labels={"app": "devbox"},
            )
            return engine.containers.run(config)
        if info.state is ContainerState.PAUSED:
            engine.containers.unpause(info.id)
        elif not info.running:
            engine.containers.start(info.id)
        return info.id

    @staticmethod
    def git_version(engine: ContainerEngine, container: str) -> str:
        result = engine.containers.exec(container, ["git", "--version"])
        if not result.ok:
            raise RuntimeError(f"git is missing in the devbox: {result.stderr.strip()}")
        return result.stdout.split()[-1]

    @staticmethod
    def main() -> str:
        engine = ContainerEngineFactory.create()
        return devbox.git_version(engine, devbox.ensure(engine))


# --------------------------------------------------------------------------- the tests


@pytest.fixture
def engine() -> FakeEngine:
    """A fresh fake docker for each test, with the devbox image present and git scripted."""
    fake = FakeEngine(images=[devbox.IMAGE])
    fake.script.exec(devbox.IMAGE, ["git", "--version"], stdout="git version 2.43.0\n")
    return fake


@pytest.fixture(params=["docker", "podman"])
def any_engine(request: pytest.FixtureRequest) -> FakeEngine:
    """The same, once as docker and once as podman."""
    fake = FakeEngine(request.param, images=[devbox.IMAGE])
    fake.script.exec(devbox.IMAGE, ["git", "--version"], stdout="git version 2.43.0\n")
    return fake


def test_makes_the_devbox_when_there_is_none(any_engine: FakeEngine) -> None:
    cid = devbox.ensure(any_engine)
    info = any_engine.containers.inspect("devbox")
    assert info.id == cid and info.state is ContainerState.RUNNING
    assert info.labels == {"app": "devbox"}
    assert any_engine.volumes.exists("devbox-home")
    assert devbox.git_version(any_engine, cid) == "2.43.0"


def test_reuses_a_running_devbox(engine: FakeEngine) -> None:
    first = devbox.ensure(engine)
    engine.clear_calls()
    assert devbox.ensure(engine) == first
    # the call log shows what the module did the second time: nothing but looking
    assert [(c.manager, c.method) for c in engine.calls] == [
        ("volumes", "create"),
        ("containers", "inspect"),
    ]


def test_starts_a_stopped_devbox_and_thaws_a_paused_one(engine: FakeEngine) -> None:
    cid = devbox.ensure(engine)
    engine.containers.stop(cid)
    assert devbox.ensure(engine) == cid and engine.containers.inspect(cid).running
    engine.containers.pause(cid)
    assert devbox.ensure(engine) == cid and engine.containers.inspect(cid).running


def test_reports_a_devbox_without_git(engine: FakeEngine) -> None:
    engine.script.clear()  # unscripted, git is a missing executable: 127
    with pytest.raises(RuntimeError, match="git is missing"):
        devbox.git_version(engine, devbox.ensure(engine))


def test_scripted_output_can_depend_on_the_call(engine: FakeEngine) -> None:
    def git(call: ExecCall) -> ExecResult:
        version = "2.39.2" if call.container_name == "devbox" else "2.43.0"
        return ExecResult(0, f"git version {version}\n".encode())

    engine.script.exec("devbox", ["git"], git)  # a container's rule beats the image's
    assert devbox.git_version(engine, devbox.ensure(engine)) == "2.39.2"


def test_missing_image_is_the_real_error() -> None:
    empty = FakeEngine()  # no image: as on a machine that never pulled it, offline
    with pytest.raises(ImageNotFoundError):
        devbox.ensure(empty)


def test_a_crash_is_seen(engine: FakeEngine) -> None:
    cid = devbox.ensure(engine)
    engine.script.exit(cid, 137, stderr="killed\n")  # it dies by itself
    assert engine.containers.inspect(cid).exit_code == 137
    assert devbox.ensure(engine) == cid  # and the module starts it again


@pytest.fixture
def factory_engine(engine: FakeEngine) -> Iterator[FakeEngine]:
    """For code that calls ContainerEngineFactory.create() itself."""
    with use_engine(engine):
        yield engine


def test_main_uses_the_factory(factory_engine: FakeEngine) -> None:
    assert devbox.main() == "2.43.0"
    assert factory_engine.containers.exists("devbox")
