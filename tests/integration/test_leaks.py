"""The suite's leak checks beyond labels can fail (guarantee C3, docs/reliability.md).

A nested pytest run, with this directory's conftest, runs tests that each leave one kind of
thing behind: a runtime helper process whose container does not exist (podman's ``conmon``,
docker's ``containerd-shim``), a ``runc init`` without a container, files in the temporary
directory, and (podman) a buildah working container. Some are left by a test body (the
per-test check must fail that test), some by a fixture's teardown (only the session check
can see them). The helpers are made directly: bash with the helper's name as ``argv[0]``,
naming a container the nested run created and removed, waiting on a pipe that closes when
the nested run ends. Helpers naming no container of the run are someone else's: not counted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from dotfiles_container_manager import ContainerEngine

from .test_reliability import live_pids_with

PYTEST = [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider"]
LEAKY_TESTS = """
import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

MARK = os.environ["DCM_OUTER_MARK"]
KEEP = []  # the fakes' stdin pipes: they end (and the fakes exit) with this process


def fake(argv0, *args, env=None):
    proc = subprocess.Popen(
        [argv0, "-c", f"read -t 60 # {MARK}", *args], executable="/bin/bash",
        stdin=subprocess.PIPE, env=env,
    )
    KEEP.append(proc)
    while not Path(f"/proc/{proc.pid}/cmdline").read_bytes().startswith(argv0.encode()):
        time.sleep(0.01)  # exec'd


# As the real ones: podman's conmon inherits CONTAINERS_CONF (the session's link), docker's
# shim (started by containerd) and a runc init that lost its conmon have nothing of ours.
FOREIGN = {k: v for k, v in os.environ.items() if k != "CONTAINERS_CONF"}


def gone(engine, res):
    # The id of a container this run created (its label) and removed.
    cid = engine.containers.create(res.config())
    engine.containers.remove(cid)
    return cid


def fake_helper(engine, res, what):
    if engine.runtime.value == "podman":
        fake(f"/run/{MARK}-{what}/{gone(engine, res)}/conmon")
    else:
        fake("containerd-shim-runc-v2", "-id", gone(engine, res), env=FOREIGN)


@pytest.fixture
def late(engine, res):
    yield
    fake_helper(engine, res, "late")
    Path(tempfile.gettempdir(), f"{MARK}-late.tar").write_bytes(b"")


def test_leaks_a_helper(engine, res):
    fake_helper(engine, res, "test")


def test_leaks_a_runc_init(engine, res):
    # Where runc init names its container. Podman's sits under a conmon: it inherits the
    # session's CONTAINERS_CONF link (proof), docker's has nothing of ours but the id (the
    # event log is the proof).
    env = dict(os.environ if engine.runtime.value == "podman" else FOREIGN)
    env["_LIBCONTAINER_STATEDIR"] = f"/run/runc/{gone(engine, res)}"
    fake("runc", "init", env=env)


def test_foreign_helpers_are_not_counted(engine):
    # Started now, no container, but nothing says this run made it: someone else's.
    fake("containerd-shim-runc-v2", "-id", "f" * 64, env=FOREIGN)
    fake("runc", "init", env=FOREIGN)


def test_leaks_temp_files(engine):
    Path(tempfile.gettempdir(), "dcm-leaked").mkdir()
    Path(tempfile.gettempdir(), "buildah-leaked").write_bytes(b"")


def test_leaks_a_buildah_container(engine):
    if engine.runtime.value == "podman":
        subprocess.run(
            ["buildah", "from", "--name", f"{MARK}-wc", "localhost/dcm-test-base:latest"],
            check=True, capture_output=True, timeout=60,
        )


def test_leaks_past_the_per_test_check(engine, late):  # last: nothing runs after the fixture
    pass
"""


def test_the_leak_checks_beyond_labels_fail(engine: ContainerEngine, tmp_path: Path) -> None:
    """Guarantee C3: helper processes without a container, files in TMPDIR and buildah
    working containers fail the test that left them (per-test check) or the session (what
    a fixture teardown left, and buildah containers); the helpers are killed and the
    temporary files removed; helpers nothing proves ours are not counted."""
    runtime = engine.runtime.value
    mark = f"dcmleak{uuid.uuid4().hex[:10]}"
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_leaky.py").write_text(LEAKY_TESTS)
    env = {**os.environ, "DCM_OUTER_MARK": mark, "CI": ""}
    env["COLUMNS"] = "10000"  # summary lines whole
    try:
        inner = subprocess.run(
            [*PYTEST, "-k", runtime, str(tmp_path)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:  # what the nested run made on purpose, whatever its checks did
        for pid in live_pids_with(mark):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if runtime == "podman":
            subprocess.run(["buildah", "rm", f"{mark}-wc"], capture_output=True, timeout=60)
    output = inner.stdout + inner.stderr
    assert inner.returncode != 0, output
    # Per test: the test body's leaks fail that test, and what it proves ours is killed.
    helper = "conmon" if runtime == "podman" else "containerd-shim"
    failed = [line for line in output.splitlines() if line.startswith("FAILED ")]
    for name, found in (
        ("test_leaks_a_helper", f"{helper} pid "),
        ("test_leaks_a_runc_init", "runc init pid "),
        ("test_leaks_temp_files", "dcm-leaked in TMPDIR (the library's private directory"),
        ("test_leaks_temp_files", "buildah-leaked in TMPDIR (podman build staging"),
    ):
        assert any(name in line and found in line for line in failed), (name, output)
    for line in failed:
        assert "pid " not in line or "(container gone; killed)" in line, line
    # Helpers nothing proves ours (someone else's, perhaps) are not counted.
    assert not [line for line in failed if "test_foreign_helpers" in line], output
    assert "f" * 64 not in output, output
    # Per session: a fixture teardown's leaks, and buildah working containers.
    session = output[output.index("tests left resources behind") :]
    assert f"{mark}-late.tar in TMPDIR" in session, output
    assert f"{helper} pid " in session, output
    if runtime == "podman":
        assert "buildah working container" in session and f"{mark}-wc" in session, output
    assert "3 failed, 3 passed" in output, output
