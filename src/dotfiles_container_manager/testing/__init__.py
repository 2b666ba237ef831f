"""Testing without containers: :class:`FakeEngine` and what goes with it.

    from dotfiles_container_manager.testing import FakeEngine, use_engine

    engine = FakeEngine(images=["busybox:latest"])
    engine.script.exec("busybox:latest", ["git", "--version"], stdout="git version 2.43.0\\n")
    cid = engine.containers.run(RunConfig("busybox:latest", command=["sleep", "300"]))
    assert engine.containers.exec(cid, ["git", "--version"]).stdout.startswith("git version")

    with use_engine(engine):          # code that calls ContainerEngineFactory.create()
        my_module.main()

See docs/testing.md for what the fake simulates and what it does not.
"""

from ..core.types import ExecResult
from ._model import Call, ExecCall, ExecHandler
from .engine import FakeEngine, FakePodmanEngine
from .override import use_engine
from .script import Script

__all__ = [
    "Call",
    "ExecCall",
    "ExecHandler",
    "ExecResult",
    "FakeEngine",
    "FakePodmanEngine",
    "Script",
    "use_engine",
]
