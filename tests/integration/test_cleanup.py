"""Nothing left behind when a call is cut short (issue 15, items 4-7), on both runtimes.

Each test looks for what *its own* calls could leave: containers and helper processes
(``conmon``, ``runc init``, ``containerd-shim``, the container's own processes) found by the
test's unique names and the container ids they lead to, buildah working containers (``podman
ps -a --external``), images and temporary files. Other runs share the daemons, so nothing
else is looked at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
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

pytestmark = pytest.mark.real_only("what cut-short CLI calls leave behind in real processes")


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


def _external_containers(engine: ContainerEngine) -> dict[str, tuple[str, str]]:
    """Every container, buildah's working containers included (podman ``--external``):
    id -> (name, image id)."""
    image = "{{.ImageID}}" if engine.runtime == "podman" else "{{.Image}}"  # docker: name or id
    args = [
        engine.command,
        "ps",
        "-a",
        "--no-trunc",
        "--format",
        f"{{{{.ID}}}} {{{{.Names}}}} {image}",
    ]
    if engine.runtime == "podman":
        args.insert(3, "--external")
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True).stdout
    found = {}
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 2:
            found[words[0]] = (words[1], words[2] if len(words) > 2 else "")
    return found


@pytest.mark.parametrize("cut", ["first-step", "later-step"])
def test_build_cut_short_leaves_nothing(
    engine: ContainerEngine,
    res: Resources,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cut: str,
) -> None:
    # The caller's TMPDIR (and Python's) is this test's directory: whatever the CLI or the
    # library put in a temporary directory and left behind would be found there.
    caller_tmp = tmp_path / "tmp"
    caller_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(caller_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(caller_tmp))
    # A base image name of this test's own: buildah names its first working container
    # after it. The later ones are named after the intermediate image they start from,
    # which carries the build's labels (podman commits them on every step).
    base = res.image_name("base")
    engine.images.tag(res.image, base)
    mark = {"dcm-cleanup": res.prefix}
    steps = "RUN sleep 30\n" if cut == "first-step" else "COPY blob /blob\nRUN sleep 30\n"
    context = BuildContext(
        f"FROM {base}\n{steps}",
        files={"blob": os.urandom(8 * 1024 * 1024)},
        labels={**res.labels, **mark},
    )
    before = set(_external_containers(engine))

    def labelled() -> list[str]:
        return [
            i.id
            for i in engine.images.list(all=True, filters={"label": f"dcm-cleanup={res.prefix}"})
        ]

    def working_containers(images: list[str]) -> dict[str, tuple[str, str]]:
        """New containers named after the base, or started from it or this build's images."""
        ids = [i.removeprefix("sha256:") for i in images]
        return {
            cid: (name, image)
            for cid, (name, image) in _external_containers(engine).items()
            if cid not in before
            and (
                name.startswith(res.prefix)
                or image.startswith(res.prefix)
                or any(image and i.startswith(image.removeprefix("sha256:")) for i in ids)
            )
        }

    intermediate: list[str] = []
    left: dict[str, tuple[str, str]] = {}
    try:
        started = time.monotonic()
        with pytest.raises(CommandTimeoutError):
            engine.images.build(context, res.image_name(), timeout=6)
        assert time.monotonic() - started < 6 + 10 + 5  # limit, grace, cleanup
        assert sorted(os.listdir(caller_tmp)) == []
        intermediate = labelled()
        left = working_containers(intermediate)
    finally:
        images = labelled()
        for container in working_containers(images):
            subprocess.run([engine.command, "rm", "-f", container], capture_output=True, timeout=60)
        for image in reversed(images):
            subprocess.run([engine.command, "rmi", "-f", image], capture_output=True, timeout=60)
        engine.images.remove(base, force=True)  # the tag only: the base image stays
    assert left == {}
    assert intermediate == []


# ---------------------------------------------------------------------------- item 7


def _exec_leftovers(container_id: str, token: str) -> list[str]:
    """Processes of a timed-out exec still alive: the command's (``token`` in their argv,
    ``container_id`` in their cgroup) and, on podman, the exec session's ``conmon`` (``-c
    ID`` and ``--exec-process-spec``)."""
    found = []
    for pid, argv, groups in _live_processes():
        words = argv.split()
        session = "conmon" in (words[0] if words else "") and "--exec-process-spec" in words
        session = session and f"-c {container_id} " in f"{argv} "
        command = token in argv and container_id in groups and "pytest" not in argv
        if session or command:
            found.append(f"{pid}: {argv[:80]}")
    return found


def _settled(container_id: str, token: str, settle: float = 5.0) -> list[str]:
    deadline = time.monotonic() + settle
    while True:
        left = _exec_leftovers(container_id, token)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def test_exec_that_times_out_leaves_no_process(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.run(res.config(name=res.name("exec"), detach=True))
    # Never 300: the container's own main process is `sleep 300` (res.config's default).
    seconds = str(1000 + os.getpid() % 500)  # unique enough to tell our sleeps apart
    try:
        # A tree: the shell, a background sleep and a foreground one.
        command = ["sh", "-c", f"sleep {seconds} & sleep {seconds}; echo done"]
        started = time.monotonic()
        with pytest.raises(CommandTimeoutError):
            engine.containers.exec(cid, command, timeout=2)
        assert time.monotonic() - started < 2 + 1 + 10  # limit, reaping, the kill exec
        assert _settled(cid, f"sleep {seconds}") == []
        # The container itself is untouched and still answers.
        assert engine.containers.exec(cid, ["true"]).exit_code == 0
    finally:
        engine.containers.remove(cid, force=True)


def test_exec_that_times_out_in_an_image_without_sh_leaves_its_command(
    engine: ContainerEngine, res: Resources
) -> None:
    # The documented residue: with no `sh` in the image nothing can be run to find and
    # kill the command, which (with, on podman, its exec session's conmon) runs on until
    # the container stops.
    image = res.image_name("nosh")
    busybox = shutil.which("busybox") or "/bin/busybox"  # static (the base image's too)
    context = BuildContext(
        "FROM scratch\nCOPY busybox /busybox\n",
        files={"busybox": Path(busybox).read_bytes()},
        executable=["busybox"],
        labels=res.labels,
    )
    engine.images.build(context, image)
    cid = ""
    try:
        cid = engine.containers.run(
            res.config(image=image, command=["/busybox", "sleep", "600"], detach=True)
        )
        seconds = str(1000 + os.getpid() % 500)
        assert engine.containers.exec(cid, ["sh", "-c", "true"]).exit_code == 127  # no sh
        with pytest.raises(CommandTimeoutError):
            engine.containers.exec(cid, ["/busybox", "sleep", seconds], timeout=2)
        left = _settled(cid, f"sleep {seconds}", settle=1.0)
        assert any(f"/busybox sleep {seconds}" in p for p in left)
        if engine.runtime == "podman":
            assert any("conmon" in p for p in left)
        engine.containers.remove(cid, force=True)  # ... and it ends with the container
        assert _settled(cid, f"sleep {seconds}") == []
    finally:
        if cid:
            with contextlib.suppress(ContainerError):
                engine.containers.remove(cid, force=True)
        engine.images.remove(image, force=True)
