"""What every benchmark shares: the run's labels, runtimes, timing, cleanup, markdown."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

#: Every resource a benchmark creates carries these labels.
#: The run's id; child interpreters of the benchmark inherit it through the environment.
RUN_ID = os.environ.get("DCM_BENCH_RUN") or uuid.uuid4().hex[:8]
os.environ["DCM_BENCH_RUN"] = RUN_ID
LABELS = {"dcm-bench": "1", "dcm-bench-run": RUN_ID}
RUN_FILTER = f"dcm-bench-run={RUN_ID}"
#: Prefix of every name (containers, images, volumes, networks) this run creates.
PREFIX = f"dcm-bench-{RUN_ID}"
#: The local busybox image the project's tests build (``tests/integration/conftest.py``).
BASE_IMAGE = "dcm-test-base:latest"
RUNTIMES = ("docker", "podman")

_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line on stderr with the time since start."""
    print(f"[{time.monotonic() - _STARTED:6.1f}s] {message}", file=sys.stderr, flush=True)


def elapsed() -> float:
    """Seconds since the benchmark started."""
    return time.monotonic() - _STARTED


# --------------------------------------------------------------------------- runtimes


@dataclass
class Runtime:
    """One container CLI, driven raw (for fixtures, baselines and cleanup)."""

    name: str
    cli: str
    #: Options of ``rm`` that kill at once (podman waits 10 s for SIGTERM without ``-t 0``).
    force_rm: tuple[str, ...] = ("-f",)
    version: str = ""
    created: list[str] = field(default_factory=list)
    #: Another engine's address (``--host``): every call, raw or through the library, goes
    #: there (the remote benchmark's second dockerd).
    host: str | None = None

    def cmd(
        self, *args: str, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run the CLI raw and capture its output as text."""
        return subprocess.run(
            [self.cli, *(("--host", self.host) if self.host else ()), *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def lines(self, *args: str) -> list[str]:
        """Non-empty stdout lines of a raw call (failures give no lines)."""
        result = self.cmd(*args, check=False)
        return [ln.strip() for ln in result.stdout.splitlines() if ln.strip()]


def find_runtime(name: str) -> Runtime | None:
    """The runtime ``name`` when its CLI is installed and answers, else None."""
    cli = shutil.which(name)
    if cli is None:
        return None
    runtime = Runtime(name, cli, ("-f", "-t", "0") if name == "podman" else ("-f",))
    try:
        fmt = "{{.Server.Version}}" if name == "docker" else "{{.Client.Version}}"
        runtime.version = runtime.cmd("version", "--format", fmt, timeout=30).stdout.strip()
        runtime.cmd("image", "inspect", "--format", "{{.Id}}", BASE_IMAGE, timeout=30)
    except (subprocess.SubprocessError, OSError) as exc:
        progress(f"{name}: not usable here ({exc}); skipped")
        return None
    return runtime


def parallel(jobs: Iterable[Callable[[], object]], workers: int = 4) -> None:
    """Run ``jobs`` on a few threads (the CLIs spend their time waiting for the daemon)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()


def cleanup(runtime: Runtime) -> list[str]:
    """Remove everything this run labelled or named on ``runtime``; return what was removed."""
    removed: list[str] = []
    label = ["--filter", f"label={RUN_FILTER}"]
    containers = runtime.lines("ps", "-a", "-q", "--no-trunc", *label)
    if containers:
        runtime.cmd("rm", *runtime.force_rm, *containers, check=False, timeout=300)
        removed += [f"container {c[:12]}" for c in containers]
    images = set(runtime.lines("images", "-q", "--no-trunc", *label))
    images.update(runtime.lines("images", "-q", "--no-trunc", "--filter", f"reference={PREFIX}*"))
    for image in images:
        runtime.cmd("rmi", "-f", image, check=False)
        removed.append(f"image {image[:19]}")
    volumes = runtime.lines("volume", "ls", "-q", *label)
    if volumes:
        runtime.cmd("volume", "rm", "-f", *volumes, check=False)
        removed += [f"volume {v}" for v in volumes]
    networks = runtime.lines("network", "ls", "-q", *label)
    if networks:
        runtime.cmd("network", "rm", *networks, check=False)
        removed += [f"network {n}" for n in networks]
    return removed


# --------------------------------------------------------------------------- counting shim


class Shim:
    """A tiny executable that appends its argv to a log, then execs the real CLI.

    Passed as ``command=`` to :meth:`ContainerEngineFactory.create` (or as a peer's client
    command), it counts the CLI processes each public call starts.
    """

    def __init__(self, directory: Path, runtime: Runtime) -> None:
        self.log = directory / f"{runtime.name}-calls.log"
        self.log.touch()
        self.path = directory / f"{runtime.name}-shim"
        self.path.write_text(
            f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{self.log}'\nexec '{runtime.cli}' \"$@\"\n",
            encoding="utf-8",
        )
        self.path.chmod(0o700)

    def calls(self) -> list[str]:
        """The argv (joined by spaces) of every process started so far."""
        return self.log.read_text(encoding="utf-8").splitlines()

    def count(self, action: Callable[[], object]) -> tuple[int, list[str]]:
        """How many CLI processes ``action`` started, and their argv."""
        before = len(self.calls())
        action()
        started = self.calls()[before:]
        return len(started), started


# --------------------------------------------------------------------------- timing


def now() -> float:
    """A monotonic clock in seconds, with the best resolution."""
    return time.perf_counter()


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def interleaved(
    groups: Sequence[Sequence[tuple[str, Callable[[], object]]]],
    rounds: int,
    *,
    warmup: int = 1,
    deadline: float | None = None,
    cpu: dict[str, list[float]] | None = None,
) -> dict[str, list[float]]:
    """Time every case of every group ``rounds`` times; return wall seconds per case name.

    Cases of one group run back to back (so they see the same machine load), in an order
    that rotates and reverses from round to round; groups rotate too. ``deadline`` (seconds
    since the start of the run) stops early, after at least three rounds. ``cpu``, when
    given, receives this process's CPU seconds per case (what other load does not change).
    """
    samples: dict[str, list[float]] = {name: [] for group in groups for name, _ in group}
    for _ in range(warmup):
        for group in groups:
            for _, action in group:
                action()
    for index in range(rounds):
        if deadline is not None and index >= 3 and elapsed() > deadline:
            break
        shift = index % len(groups)
        for group in [*groups[shift:], *groups[:shift]]:
            turn = index % len(group)
            order = [*group[turn:], *group[:turn]]
            if index % 2:
                order.reverse()
            for name, action in order:
                cpu_started = time.process_time()
                started = now()
                action()
                samples[name].append(now() - started)
                if cpu is not None:
                    cpu.setdefault(name, []).append(time.process_time() - cpu_started)
    return samples


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The first and third quartiles."""
    if len(values) < 2:
        return (values[0], values[0]) if values else (float("nan"), float("nan"))
    q = statistics.quantiles(values, n=4)
    return q[0], q[2]


# --------------------------------------------------------------------------- markdown


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A markdown table (numbers right-aligned)."""
    body = [[str(cell) for cell in row] for row in rows]
    align = [
        "---:" if body and _numeric(row[i] for row in body) else "---" for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def _numeric(cells: Iterable[str]) -> bool:
    cells = [c for c in cells if c not in ("", "—", "n/a")]
    return bool(cells) and all(c.lstrip("~≤<>+-x").replace(".", "", 1)[:1].isdigit() for c in cells)


def ms(seconds: float) -> str:
    """Seconds as milliseconds, 1 decimal."""
    return f"{seconds * 1000:.1f}"


def ratio(value: float, base: float) -> str:
    """``value / base`` with 3 decimals."""
    return f"{value / base:.3f}" if base > 0 else "n/a"


def verdict(ok: bool | None) -> str:
    """A cell for a target: met, missed, or not measured."""
    return "n/a" if ok is None else ("✅ met" if ok else "❌ missed")


def tempdir() -> tempfile.TemporaryDirectory[str]:
    """A private temporary directory for this run."""
    return tempfile.TemporaryDirectory(prefix=f"{PREFIX}-")


def venv_python() -> str:
    """The interpreter running the benchmark (the project's venv)."""
    return sys.executable


def child_env() -> dict[str, str]:
    """The environment for child interpreters (no bytecode writes, unbuffered)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env
