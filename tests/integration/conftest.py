"""Integration fixtures: real docker and podman, a base image made locally, and a leak check.

Every test that takes ``engine`` runs once per runtime, and once on the in-memory
``FakeEngine`` (as docker), which is held to the same tests; a test marked ``real_only``
(it needs a real process: a shell's output, a port, file contents, the CLI itself) is
skipped for the fake only. Everything a test creates carries
the label ``dcm-test=<run id>`` (use ``res.labels`` / ``res.config(...)``) and a unique name
(``res.name("x")``); at the end of the session any labelled container, volume, network or
image still present fails the run, after being removed.

Beyond labelled resources (see "Leak checks beyond labels" below), each test and the session
also fail on runtime helper processes (``conmon``, ``containerd-shim*``, ``runc init``) whose
container is gone, on new buildah working containers (session only) and on anything left in
the session's private temporary directory: the session sets ``TMPDIR`` to a fresh directory
before any engine is made, so what the library and the CLIs write there is this run's.

Under CI (``CI=true``) a runtime that does not answer fails the tests instead of skipping.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    ContainerEngine,
    ContainerEngineFactory,
    ContainerError,
    RunConfig,
)
from dotfiles_container_manager.testing import FakeEngine

RUNTIMES = ("docker", "podman", "fake")
BASE_IMAGE = "dcm-test-base:latest"
RUN_ID = uuid.uuid4().hex[:8]
LABEL = "dcm-test"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_engines: dict[str, ContainerEngine] = {}
_failures: dict[str, str] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


def _make_rootfs_tar(directory: Path) -> Path:
    """A busybox-static root filesystem (see shared/notes/runtimes.md for the two traps)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    root = directory / "root"
    for sub in ("bin", "etc", "tmp", "root"):
        (root / sub).mkdir(parents=True)
    shutil.copy(busybox, root / "bin" / "busybox")
    applets = subprocess.run(
        [busybox, "--list"], capture_output=True, text=True, check=True, timeout=30
    )
    for applet in applets.stdout.split():
        if applet != "busybox":  # a link over the binary itself makes a self-loop
            (root / "bin" / applet).symlink_to("busybox")
    (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc" / "group").write_text("root:x:0:\n")
    tar = directory / "base.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tar), "."], check=True, timeout=60)
    return tar


def _ensure_base_image(engine: ContainerEngine) -> None:
    if engine.images.exists(BASE_IMAGE):
        return
    with tempfile.TemporaryDirectory() as tmp:
        tar = _make_rootfs_tar(Path(tmp))
        engine.images.import_(
            tar,
            BASE_IMAGE,
            changes=["ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["/bin/sh"]'],
            timeout=120,
        )


def get_engine(runtime: str) -> ContainerEngine:
    """The session's engine for ``runtime`` (skipped, or failed under CI, if unavailable)."""
    if runtime not in _engines and runtime not in _failures:
        try:
            engine = (
                FakeEngine(images=[BASE_IMAGE])
                if runtime == "fake"
                else ContainerEngineFactory.create(runtime)
            )
            _ensure_base_image(engine)
            _engines[runtime] = engine
        except (ContainerError, OSError, subprocess.SubprocessError) as exc:
            _failures[runtime] = f"{runtime} is not usable here: {exc}"
    if runtime in _failures:
        if IN_CI:
            pytest.fail(_failures[runtime], pytrace=False)
        pytest.skip(_failures[runtime])
    return _engines[runtime]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Each runtime in turn (the fake skips ``real_only`` tests, even under CI)."""
    marker = request.node.get_closest_marker("real_only")
    if request.param == "fake" and marker is not None:
        pytest.skip(f"real runtimes only: {marker.args[0] if marker.args else 'a real process'}")
    return str(request.param)


@pytest.fixture
def engine(runtime: str) -> ContainerEngine:
    """The engine for the current runtime."""
    return get_engine(runtime)


@dataclass
class Resources:
    """Unique names and the run label for what a test creates."""

    engine: ContainerEngine
    prefix: str = field(default_factory=lambda: f"dcm-t-{RUN_ID}-{uuid.uuid4().hex[:6]}")

    @property
    def labels(self) -> dict[str, str]:
        return {LABEL: RUN_ID}

    @property
    def image(self) -> str:
        return BASE_IMAGE

    def name(self, what: str = "r") -> str:
        return f"{self.prefix}-{what}"

    def image_name(self, what: str = "img") -> str:
        return f"{self.prefix}-{what}:1"

    def config(self, *, command: list[str] | None = None, **kwargs: Any) -> RunConfig:
        """A RunConfig on the base image carrying the run label (sleeps by default)."""
        labels = {**self.labels, **kwargs.pop("labels", {})}
        kwargs.setdefault("image", BASE_IMAGE)
        return RunConfig(
            command=command if command is not None else ["sleep", "300"],
            labels=labels,
            **kwargs,
        )


@pytest.fixture
def res(engine: ContainerEngine) -> Iterator[Resources]:
    """Names/labels for this test. A test must remove what it creates: anything of its own
    still present afterwards is removed and the test errors."""
    resources = Resources(engine)
    yield resources
    leftovers = _remove_labelled(engine, only_prefix=resources.prefix)
    if leftovers:
        pytest.fail("test left behind: " + ", ".join(leftovers), pytrace=False)


def _remove_labelled(engine: ContainerEngine, *, only_prefix: str | None = None) -> list[str]:
    """Remove what carries this run's label; return a description of each thing removed."""
    found: list[str] = []
    selector = {"label": f"{LABEL}={RUN_ID}"}

    def wanted(name: str) -> bool:
        return only_prefix is None or name.startswith(only_prefix)

    for container in engine.containers.list(all=True, filters=selector):
        if wanted(container.name):
            found.append(f"container {container.name}")
            engine.containers.remove(container.id, force=True, volumes=True)
    for network in engine.networks.list(filters=selector):
        if wanted(network.name):
            found.append(f"network {network.name}")
            engine.networks.remove(network.id)
    for volume in engine.volumes.list(filters=selector):
        if wanted(volume.name):
            found.append(f"volume {volume.name}")
            engine.volumes.remove(volume.name, force=True)
    for image in engine.images.list(filters=selector):
        if only_prefix is None or any(t.startswith(only_prefix) for t in image.tags):
            found.append(f"image {image.tags or image.id}")
            if engine.command:  # the CLI's own rmi -f: also when a container still uses it
                subprocess.run(
                    [engine.command, "rmi", "-f", image.id], capture_output=True, timeout=60
                )
            else:  # the in-memory fake runs no CLI
                engine.images.remove(image.id, force=True)
    return found


# ------------------------------------------------------------------ leak checks beyond labels
#
# Besides labelled resources, each test (in its call phase, so that a strict xfail can name a
# known leak) and the session fail on what a CLI call can leave outside the runtime's lists:
#
# * helper processes whose container is gone: podman's ``conmon``, docker's
#   ``containerd-shim*`` (the container id is a 64-hex word of their argv) and ``runc init``
#   (id from its runc state dir and cgroup), compared with ``ps -aq --no-trunc`` of every
#   runtime in use. One /proc scan per test; ``ps`` runs only when this run has helpers.
# * buildah working containers, seen only by ``podman ps -a --external`` (session only: that
#   call costs ~0.25 s), as the difference from a snapshot taken at session start;
# * anything left in the session's private TMPDIR.
#
# Scope, with other people's tests on the same daemons at the same time: the temporary
# directory is this session's own (set before any engine exists, so the library and every
# CLI it starts write there). A helper counts only if it started after the session (the
# test) started and is proven this run's: podman's conmon inherits CONTAINERS_CONF from the
# CLI, and the session points that variable at a link of its own, so a conmon (and a runc
# init under it) is ours exactly when its environment names that link. Docker's shims
# (started by containerd) and a runc init that lost its conmon carry nothing of ours: they
# count when the runtime's event log says this run (its label) created their container since
# the session (the test) started. Docker keeps only its latest events in memory, so on a
# busy daemon an old one may be missed: such a helper is not counted (never blamed on us
# when it may be someone else's). What is reported is killed.

# What the library and the CLIs are known to leave in the temporary directory: the one list
# of these patterns, used to name what was found. In the private TMPDIR anything left fails,
# known or not.
TMP_PATTERNS = {
    "dcm-*": "the library's private directory (env-file)",
    "buildah*": "podman build staging (unpacked context, layers)",
    "podman*": "podman staging file",
    "*.tar": "tar file (podman cp - stages its stdin here)",
}
# A nested pytest run (test_the_suites_leak_checks...) keeps its own base temp here: pytest's.
TMP_IGNORED = ("pytest-of-*",)
# After the last call, how long a helper of a just-removed container may take to exit.
HELPER_SETTLE = 2.0
# How long a new buildah working container must stay to count (a build running elsewhere
# has one while it runs: only a snapshot difference tells ours, see above).
BUILD_SETTLE = 3.0
_HEX64 = re.compile(rb"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class _Session:
    """What the session-start snapshot and sandbox hold."""

    root: Path | None = None  # private directory: tmp/ (TMPDIR) and the CONTAINERS_CONF link
    conf: str | None = None  # CONTAINERS_CONF as this session's CLIs see it
    started: float = 0.0  # seconds since boot
    wall: float = 0.0  # time.time() at session start, for the runtimes' event logs
    external: set[str] = field(default_factory=set)  # buildah containers at session start
    saved_env: dict[str, str | None] = field(default_factory=dict)

    @property
    def tmp(self) -> Path | None:
        return None if self.root is None else self.root / "tmp"


SESSION = _Session()


def uptime() -> float:
    """Seconds since boot, the clock of /proc/<pid>/stat start times."""
    return float(Path("/proc/uptime").read_text().split()[0])


@dataclass(frozen=True)
class Helper:
    """A runtime helper process: conmon, containerd-shim*, runc init."""

    pid: int
    ppid: int
    started: float  # seconds since boot
    kind: str
    ids: frozenset[str]  # container ids it names
    conf: str | None  # CONTAINERS_CONF in its environment
    argv: str

    def __str__(self) -> str:
        return f"{self.kind} pid {self.pid}: {self.argv[:150]}"


def _helper_kind(argv: list[bytes]) -> str | None:
    name = os.path.basename(argv[0])
    if name.startswith(b"conmon"):
        return "conmon"
    if name.startswith(b"containerd-shim"):
        return "containerd-shim"
    if name == b"runc" and b"init" in argv[1:]:
        return "runc init"
    return None


def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat fields after the command name (state first), None when gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def scan_helpers() -> dict[int, Helper]:
    """Every living helper process, by pid: one pass over /proc."""
    found: dict[int, Helper] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            kind = _helper_kind(argv)
            if kind is None:
                continue
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            words = b" ".join(argv)
            if kind == "runc init":
                words += Path(f"/proc/{pid}/cgroup").read_bytes()
        except OSError:
            continue
        stat = _stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            continue
        env = dict(v.split(b"=", 1) for v in environ if b"=" in v)
        words += b" " + env.get(b"_LIBCONTAINER_STATEDIR", b"")
        conf = env.get(b"CONTAINERS_CONF")
        found[pid] = Helper(
            pid=pid,
            ppid=int(stat[1]),
            started=int(stat[19]) / _TICKS,
            kind=kind,
            ids=frozenset(i.decode() for i in _HEX64.findall(words)),
            conf=conf.decode() if conf is not None else None,
            argv=" ".join(a.decode(errors="replace") for a in argv if a),
        )
    return found


def _proven_ours(helper: Helper, helpers: dict[int, Helper]) -> bool | None:
    """True/False when the CONTAINERS_CONF link tells; None when nothing tells."""
    conf = helper.conf
    parent = helpers.get(helper.ppid)
    if conf is None and parent is not None:
        conf = parent.conf
    if conf is None or SESSION.conf is None:
        return None
    return conf == SESSION.conf


def _cli_engines() -> dict[str, ContainerEngine]:
    """The session's engines that run a CLI (not the in-memory fake, which has no helpers)."""
    return {runtime: engine for runtime, engine in _engines.items() if engine.command}


def live_container_ids() -> set[str]:
    """Full ids of every container of every runtime this session uses."""
    ids: set[str] = set()
    for runtime, engine in _cli_engines().items():
        done = subprocess.run(
            [engine.command, "ps", "-aq", "--no-trunc"], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:  # an incomplete list would make every helper an orphan
            raise RuntimeError(f"{runtime} ps failed: {done.stderr.strip()}")
        ids.update(done.stdout.split())
    return ids


_CREATED = ["--filter", "type=container", "--filter", "event=create", "--format", "{{.ID}}"]


def created_by_run(since_wall: float) -> set[str]:
    """Ids of the containers this run (its label) created since ``since_wall``, from each
    runtime's event log."""
    ids: set[str] = set()
    until = str(int(time.time()) + 1)  # a moment ahead: events up to now are all in
    ours = ["--filter", f"label={LABEL}={RUN_ID}", *_CREATED]
    for engine in _cli_engines().values():
        done = subprocess.run(
            [engine.command, "events", "--since", str(int(since_wall)), "--until", until, *ours],
            capture_output=True,
            text=True,
            timeout=60,
        )
        ids.update(done.stdout.split())
    return ids


def _orphaned(helper: Helper, helpers: dict[int, Helper], live: set[str]) -> bool:
    if helper.ids:
        return not helper.ids & live
    parent = helpers.get(helper.ppid)  # a runc init whose ids could not be read
    return parent is None or not parent.ids & live


def _same_process(helper: Helper) -> bool:
    stat = _stat(helper.pid)
    return (
        stat is not None and stat[0] not in ("Z", "X") and int(stat[19]) / _TICKS == helper.started
    )


def orphan_helpers(since: float, since_wall: float) -> list[Helper]:
    """This run's helpers started after ``since`` (seconds since boot; ``since_wall`` the
    same moment by ``time.time()``) whose container no longer exists, still alive
    ``HELPER_SETTLE`` seconds later with a fresh container list."""
    helpers = scan_helpers()
    mine = [
        h for h in helpers.values() if h.started >= since and _proven_ours(h, helpers) is not False
    ]
    if not mine or not _engines:
        return []
    live = live_container_ids()
    orphans = [h for h in mine if _orphaned(h, helpers, live)]
    deadline = time.monotonic() + HELPER_SETTLE
    while orphans and time.monotonic() < deadline:
        time.sleep(0.1)
        orphans = [h for h in orphans if _same_process(h)]
    if orphans:
        live = live_container_ids()
        orphans = [h for h in orphans if _orphaned(h, helpers, live)]
    if any(_proven_ours(h, helpers) is None for h in orphans):
        ours = created_by_run(since_wall)
        orphans = [h for h in orphans if _proven_ours(h, helpers) or h.ids & ours]
    return orphans


def report_helpers(orphans: list[Helper]) -> list[str]:
    """Describe each orphan (all proven this run's) and kill it."""
    for helper in orphans:
        if _same_process(helper):
            with contextlib.suppress(OSError):
                os.kill(helper.pid, signal.SIGKILL)
    return [f"{helper} (container gone; killed)" for helper in orphans]


def describe_tmp(name: str) -> str:
    for pattern, what in TMP_PATTERNS.items():
        if fnmatch.fnmatch(name, pattern):
            return f"{name} in TMPDIR ({what}; removed)"
    return f"{name} in TMPDIR (unknown kind; removed)"


def tmp_entries() -> set[str]:
    tmp = SESSION.tmp
    if tmp is None or not tmp.is_dir():
        return set()
    return {n for n in os.listdir(tmp) if not any(fnmatch.fnmatch(n, p) for p in TMP_IGNORED)}


def remove_tmp(names: Iterable[str]) -> list[str]:
    """Remove what was found in the private TMPDIR; return a description of each."""
    assert SESSION.tmp is not None
    lines = []
    for name in sorted(names):
        path = SESSION.tmp / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
        lines.append(describe_tmp(name))
    return lines


def external_containers() -> dict[str, str]:
    """Podman storage containers libpod does not know (buildah's working containers):
    ``{id: name}``; empty when podman is not usable."""
    podman = shutil.which("podman")
    if podman is None:
        return {}
    runs = [
        subprocess.run(
            [podman, "ps", "-a", *extra, "--no-trunc", "--format", "{{.ID}} {{.Names}}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        for extra in (["--external"], [])
    ]
    if any(run.returncode != 0 for run in runs):
        return {}
    known = {line.split()[0] for line in runs[1].stdout.splitlines() if line.strip()}
    found = dict(line.split(maxsplit=1) for line in runs[0].stdout.splitlines() if " " in line)
    return {cid: name for cid, name in found.items() if cid not in known}


def start_session() -> None:
    """Private TMPDIR and CONTAINERS_CONF link; snapshot of buildah containers."""
    SESSION.started, SESSION.wall = uptime(), time.time()
    SESSION.external = set(external_containers())
    SESSION.root = Path(tempfile.mkdtemp(prefix=f"itest-{RUN_ID}-"))
    (SESSION.root / "tmp").mkdir()
    SESSION.saved_env = {k: os.environ.get(k) for k in ("TMPDIR", "CONTAINERS_CONF")}
    os.environ["TMPDIR"] = str(SESSION.root / "tmp")
    conf = os.environ.get("CONTAINERS_CONF")
    if conf:
        link = SESSION.root / "containers.conf"
        link.symlink_to(os.path.abspath(conf))
        os.environ["CONTAINERS_CONF"] = SESSION.conf = str(link)
    tempfile.tempdir = None  # gettempdir() caches: let it read TMPDIR again


def end_session() -> list[str]:
    """Everything this run left outside the runtimes' labelled lists; restores the
    environment and removes the private directory."""
    found = report_helpers(orphan_helpers(SESSION.started, SESSION.wall))
    new = {c: n for c, n in external_containers().items() if c not in SESSION.external}
    if new:  # someone's build in progress has one for a moment: count what stays
        time.sleep(BUILD_SETTLE)
        new = {c: n for c, n in external_containers().items() if c in new}
    found += [f"buildah working container {c[:12]} {n} (not removed)" for c, n in new.items()]
    found += remove_tmp(tmp_entries())
    for key, value in SESSION.saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    tempfile.tempdir = None
    if SESSION.root is not None:
        shutil.rmtree(SESSION.root, ignore_errors=True)
    return found


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Per test, in the call phase: helper processes and temporary files the test left."""
    if SESSION.root is None:
        return (yield)
    since, since_wall, before = uptime(), time.time(), tmp_entries()
    try:
        result = yield
    except BaseException:
        with contextlib.suppress(Exception):  # clean up; the test's own failure stands
            report_helpers(orphan_helpers(since, since_wall))
            remove_tmp(tmp_entries() - before)
        raise
    found = report_helpers(orphan_helpers(since, since_wall)) + remove_tmp(tmp_entries() - before)
    if found:
        pytest.fail("test left behind: " + "; ".join(found), pytrace=False)
    return result


@pytest.fixture(scope="session", autouse=True)
def _no_leftovers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fail the session if anything labelled with this run survives it, or any helper
    process, buildah container or temporary file this run made (see above)."""
    tmp_path_factory.getbasetemp()  # pytest's own temporary files stay where they were
    start_session()
    yield
    leftovers = []
    for runtime, engine in _engines.items():
        leftovers += [f"{runtime}: {item}" for item in _remove_labelled(engine)]
    leftovers += end_session()
    if leftovers:
        pytest.fail("tests left resources behind:\n" + "\n".join(leftovers), pytrace=False)
