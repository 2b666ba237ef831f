"""Nothing left behind when a call is cut short (issue 15, items 4-7), on both runtimes.

Each test looks for what *its own* calls could leave: containers and helper processes
(``conmon``, ``runc init``, ``containerd-shim``, the container's own processes) found by the
test's unique names and the container ids they lead to, buildah working containers (``podman
ps -a --external``), images and temporary files. Other runs share the daemons, so nothing
else is looked at.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerEngine,
    ContainerEngineFactory,
    ContainerError,
    ContainerOperationError,
)

from .conftest import Resources


def _engine_with_timeout(engine: ContainerEngine, timeout: float) -> ContainerEngine:
    # Made without the factory's probe, which would run under the short limit too.
    return ContainerEngineFactory.engine_class(engine.runtime)(timeout=timeout)


def _live_processes() -> Iterable[tuple[int, str, str]]:
    """(pid, argv joined by spaces, cgroup) of every process that is not a zombie."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8", errors="replace") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                argv = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/cgroup", encoding="utf-8", errors="replace") as cgroup:
                groups = cgroup.read()
        except (OSError, IndexError):
            continue
        yield int(entry), argv, groups


def _container_processes(name: str, ids: Iterable[str] = ()) -> list[str]:
    """Processes that belong to the container named ``name`` (or with one of ``ids``):
    podman's ``conmon`` carries ``-n NAME`` and ``-c ID``; ``runc init``, the container's
    processes and docker's shim carry the id in their cgroup or argv."""
    wanted = set(ids)
    processes = list(_live_processes())
    for _, argv, _ in processes:  # podman: conmon names the container and gives its id
        words = argv.split()
        conmon = "conmon" in (words[0] if words else "")
        if conmon and f"-n {name} " in f"{argv} " and "-c" in words:
            wanted.add(words[words.index("-c") + 1])
    found = []
    for pid, argv, groups in processes:
        if "pytest" in argv:
            continue
        if f"-n {name} " in f"{argv} " or any(i in argv or i in groups for i in wanted):
            found.append(f"{pid}: {argv[:120]}")
    return found


def _wait_for_nothing(name: str, ids: Iterable[str] = (), settle: float = 3.0) -> list[str]:
    """The container's processes still alive after ``settle`` seconds (they may be exiting)."""
    deadline = time.monotonic() + settle
    while True:
        left = _container_processes(name, ids)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _containers_named(engine: ContainerEngine, name: str) -> list[str]:
    """Every container (including podman's external/storage ones) with exactly ``name``."""
    args = [engine.command, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]
    if engine.runtime == "podman":
        args.insert(3, "--external")
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.split()[1:] == [name]]


# ---------------------------------------------------------------------------- item 4


def test_foreground_run_that_times_out_leaves_no_container(
    engine: ContainerEngine, res: Resources
) -> None:
    name = res.name("fg")
    short = _engine_with_timeout(engine, 4)
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        short.containers.run(res.config(command=["sleep", "30"], name=name, detach=False))
    assert time.monotonic() - started < 20
    assert _containers_named(engine, name) == []
    assert _wait_for_nothing(name) == []


def test_foreground_run_of_a_missing_command_leaves_no_container(
    engine: ContainerEngine, res: Resources
) -> None:
    name = res.name("nocmd")
    with pytest.raises(ContainerOperationError):
        engine.containers.run(res.config(command=["/no/such/command"], name=name, detach=False))
    assert _containers_named(engine, name) == []
    assert _wait_for_nothing(name) == []


def test_foreground_run_that_completes_keeps_its_container(
    engine: ContainerEngine, res: Resources
) -> None:
    # Unchanged: a run that ends by itself keeps its container for wait()/logs().
    cid = engine.containers.run(res.config(command=["sh", "-c", "exit 3"], detach=False))
    try:
        assert engine.containers.wait(cid) == 3
    finally:
        engine.containers.remove(cid, force=True)


# ---------------------------------------------------------------------------- item 5


@pytest.mark.parametrize("limit", [0.15, 0.3, 0.45, 0.6, 0.8])
def test_detached_run_cut_short_leaves_no_container_or_helper(
    engine: ContainerEngine, res: Resources, limit: float
) -> None:
    name = res.name("cut")
    short = _engine_with_timeout(engine, limit)
    try:
        cid = short.containers.run(res.config(name=name, detach=True))
    except CommandTimeoutError:
        cid = None
    if cid is not None:  # finished within the limit: an ordinary removal, even at that limit
        engine.containers.remove(cid, force=True)
    # A forced removal right after must work, whatever the cleanup was doing.
    for leftover in _containers_named(engine, name):
        engine.containers.remove(leftover, force=True)
    assert _containers_named(engine, name) == []
    assert _wait_for_nothing(name, [cid] if cid else []) == []


def test_forced_removal_after_a_stop_killed_by_its_limit_leaves_no_process(
    engine: ContainerEngine, res: Resources
) -> None:
    name = res.name("stop")
    cid = engine.containers.run(res.config(name=name, detach=True, stop_timeout=20))
    stop = subprocess.Popen(  # a stop killed mid-wait, as by the library's own limit
        [engine.command, "stop", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(2)
    stop.kill()
    stop.wait()
    engine.containers.remove(cid, force=True)
    assert _containers_named(engine, name) == []
    assert _wait_for_nothing(name, [cid]) == []


def test_forced_removal_waits_for_a_removal_already_in_progress(
    engine: ContainerEngine, res: Resources
) -> None:
    name = res.name("twice")
    cid = engine.containers.run(res.config(name=name, detach=True, stop_timeout=20))
    other = subprocess.Popen(  # someone else removes it (podman waits for the stop timeout)
        [engine.command, "rm", "-f", cid], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        time.sleep(0.2)
        failure = ""
        try:
            engine.containers.remove(cid, force=True)
        except ContainerError as exc:
            failure = str(exc)
        # Only "gone already" is acceptable: never "removal already in progress".
        assert "already in progress" not in failure
        assert not engine.containers.exists(cid)
    finally:
        other.wait(60)
    assert _containers_named(engine, name) == []


# ---------------------------------------------------------------------------- item 6


def _external_containers(engine: ContainerEngine, prefix: str) -> list[str]:
    """Containers whose name starts with ``prefix``, buildah's working containers included."""
    if engine.runtime != "podman":
        return _containers_named_prefix(engine, prefix)
    args = ["podman", "ps", "-a", "--external", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.split()[1:2][0].startswith(prefix)]


def _containers_named_prefix(engine: ContainerEngine, prefix: str) -> list[str]:
    args = [engine.command, "ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.split()[1:2][0].startswith(prefix)]


def test_build_cut_short_leaves_no_temporary_files(
    engine: ContainerEngine, res: Resources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caller's TMPDIR (and Python's) is this test's directory: whatever the CLI or the
    # library put in a temporary directory and left behind would be found there.
    caller_tmp = tmp_path / "tmp"
    caller_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(caller_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(caller_tmp))
    # A base image of this test's own, so that buildah's working containers carry its name.
    base = res.image_name("base")
    engine.images.tag(res.image, base)
    mark = {"dcm-cleanup": res.prefix}
    context = BuildContext(
        f"FROM {base}\nCOPY blob /blob\nRUN sleep 30\n",
        files={"blob": os.urandom(8 * 1024 * 1024)},
        labels={**res.labels, **mark},
    )
    try:
        with pytest.raises(CommandTimeoutError):
            engine.images.build(context, res.image_name(), timeout=6)
        assert sorted(os.listdir(caller_tmp)) == []
        left = _external_containers(engine, res.prefix)
        images = [
            i.id
            for i in engine.images.list(all=True, filters={"label": f"dcm-cleanup={res.prefix}"})
        ]
    finally:
        for container in _external_containers(engine, res.prefix):
            subprocess.run([engine.command, "rm", "-f", container], capture_output=True, timeout=60)
        for image in engine.images.list(all=True, filters={"label": f"dcm-cleanup={res.prefix}"}):
            subprocess.run([engine.command, "rmi", "-f", image.id], capture_output=True, timeout=60)
        engine.images.remove(base, force=True)  # the tag only: the base image stays
    if engine.runtime == "podman":
        # Not fixed yet (issue 15 item 6): podman 4.3 exits at once on SIGINT and cleans
        # nothing; its working containers and intermediate images stay.
        pytest.xfail(f"podman leaves working containers {left} and images {images}")
    assert left == []
    assert images == []
