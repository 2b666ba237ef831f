"""Every script in examples/ runs, as a user would run it, on docker and on podman."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dotfiles_container_manager import ContainerEngine

from .conftest import BASE_IMAGE

pytestmark = pytest.mark.real_only("the examples drive the real runtimes")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SRC = Path(__file__).resolve().parents[2] / "src"
# Per example: extra arguments after the runtime, and how its output's last line begins.
RUNS: dict[str, tuple[list[str], str]] = {
    # The quickstart needs no prepared image (it must work on a fresh machine).
    "quickstart.py": ([], "quickstart ok"),
    "contract_tour.py": ([BASE_IMAGE], "tour ok"),
    "build_with_progress.py": ([BASE_IMAGE], "removed dcm-"),
    "devenv.py": ([BASE_IMAGE], "devenv ok"),
}


# Examples that are test files themselves (pytest runs them; they need no runtime).
PYTEST_EXAMPLES = ("test_with_fake_engine.py",)


def test_every_example_is_run_here() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted([*RUNS, *PYTEST_EXAMPLES])


@pytest.mark.parametrize("example", PYTEST_EXAMPLES)
def test_pytest_example_passes(example: str) -> None:
    environ = dict(os.environ)
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLES / example)],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
        check=False,
        cwd=EXAMPLES,
    )
    assert proc.returncode == 0, f"{example} failed:\n{proc.stdout}\n{proc.stderr}"
    assert re.search(r"\d+ passed", proc.stdout), proc.stdout


def run_example(name: str, *args: str, env: dict[str, str] | None = None) -> str:
    environ = dict(os.environ if env is None else env)
    # The checkout's package, whether or not it is installed.
    environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), environ.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=environ,
        check=False,
    )
    assert proc.returncode == 0, f"{name} {args} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.parametrize("example", sorted(RUNS))
def test_example_runs(engine: ContainerEngine, example: str) -> None:
    args, last_line = RUNS[example]
    out = run_example(example, engine.runtime.value, *args)
    assert out.strip().splitlines()[-1].startswith(last_line)
    # It removed what it made (the images it says it built, their containers) and nothing
    # else: the integration tests' base image is still there.
    for built in re.findall(r"^built (\S+) ", out, re.MULTILINE):
        assert not engine.images.exists(built)
        name = built.split(":")[0]
        assert not [c for c in engine.containers.list(all=True) if c.name == name]
    assert engine.images.exists(BASE_IMAGE)
