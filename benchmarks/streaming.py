"""Streaming and progress: what following output costs against doing without.

Two pairs, interleaved round by round (so each pair sees the same machine load), medians of
the per-round ratios:

- **time to the first line**: ``next(containers.stream_logs(c))`` against the raw CLI,
  ``<cli> logs -f c`` started with ``subprocess.Popen`` and its first stdout line read
  (the container printed it long before; teardown is not timed on either side);
- **a build with ``progress=``** (a callback that keeps each event) against the same
  ``images.build`` without it (collected): a cached build of a small context, so the time
  is the CLI and the daemon, and the difference is the streaming.

Run alone with ``python -m benchmarks.streaming [--runtime docker|podman|all]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from dotfiles_container_manager import BuildContext, ContainerEngineFactory, ProgressEvent

from .common import (
    BASE_IMAGE,
    LABELS,
    PREFIX,
    RUNTIMES,
    Runtime,
    cleanup,
    find_runtime,
    interleaved,
    median,
    now,
    progress,
    quartiles,
    table,
)

TARGET = 1.05
#: Lines the log container prints before it sleeps.
LOG_LINES = 20
DOCKERFILE = f"FROM {BASE_IMAGE}\nRUN echo streamed-build\nLABEL dcm-bench-streaming=1\n"


@dataclass
class StreamingResult:
    """One runtime's numbers (seconds per sample)."""

    runtime: str
    first_raw: list[float] = field(default_factory=list)
    first_lib: list[float] = field(default_factory=list)
    #: The raw CLI started in a session of its own, as the runner starts every CLI.
    first_session: list[float] = field(default_factory=list)
    build_plain: list[float] = field(default_factory=list)
    build_progress: list[float] = field(default_factory=list)
    #: This process's CPU seconds per sample, same keys: what other load hardly changes.
    cpu: dict[str, list[float]] = field(default_factory=dict)
    #: Events one build with progress delivered.
    events: int = 0

    @staticmethod
    def _ratio(lib: list[float], raw: list[float]) -> float:
        return median([a / b for a, b in zip(lib, raw, strict=False)])

    @staticmethod
    def _iqr(lib: list[float], raw: list[float]) -> tuple[float, float]:
        return quartiles([a / b for a, b in zip(lib, raw, strict=False)])

    @property
    def first_ratio(self) -> float:
        return self._ratio(self.first_lib, self.first_raw)

    @property
    def session_ratio(self) -> float:
        """lib against the raw CLI started in its own session (the runner's way)."""
        return self._ratio(self.first_lib, self.first_session)

    @property
    def session_cost(self) -> float:
        """raw-in-own-session against raw: what starting the CLI in a new session costs."""
        return self._ratio(self.first_session, self.first_raw)

    @property
    def build_ratio(self) -> float:
        return self._ratio(self.build_progress, self.build_plain)

    def _floor(self, lib: str, raw: str, base: list[float]) -> float:
        """lib/raw predicted from CPU alone: (raw + the library's extra CPU) / raw."""
        extra = median(self.cpu.get(lib, [])) - median(self.cpu.get(raw, []))
        return (median(base) + max(extra, 0.0)) / median(base)

    @property
    def first_floor(self) -> float:
        return self._floor("first/lib", "first/raw", self.first_raw)

    @property
    def build_floor(self) -> float:
        return self._floor("build/progress", "build/plain", self.build_plain)

    @property
    def first_iqr(self) -> tuple[float, float]:
        return self._iqr(self.first_lib, self.first_raw)

    @property
    def build_iqr(self) -> tuple[float, float]:
        return self._iqr(self.build_progress, self.build_plain)

    def misses(self) -> list[str]:
        """Ratios over the target (wall medians)."""
        out = []
        if not self.first_ratio <= TARGET:
            out.append(f"first line {self.first_ratio:.3f}")
        if not self.build_ratio <= TARGET:
            out.append(f"build {self.build_ratio:.3f}")
        return out

    def floor_misses(self) -> list[str]:
        """CPU floors over the target."""
        out = []
        if not self.first_floor <= TARGET:
            out.append(f"first line {self.first_floor:.3f}")
        if not self.build_floor <= TARGET:
            out.append(f"build {self.build_floor:.3f}")
        return out


def _label_args() -> list[str]:
    args: list[str] = []
    for key, value in LABELS.items():
        args += ["--label", f"{key}={value}"]
    return args


def measure_streaming(
    runtime: Runtime, *, first_rounds: int = 80, build_rounds: int = 21
) -> StreamingResult:
    """Both pairs on ``runtime``; the container and the image are removed afterwards."""
    engine = ContainerEngineFactory.create(runtime.name)
    result = StreamingResult(runtime.name)
    script = f"seq 1 {LOG_LINES} | sed 's/^/log line /'; exec sleep 900"
    name = f"{PREFIX}-stream"
    created = runtime.cmd(
        "run", "-d", "--name", name, *_label_args(), BASE_IMAGE, "sh", "-c", script
    )
    container = created.stdout.strip().splitlines()[-1]
    for _ in range(100):  # every line is written before anything is timed
        if len(runtime.lines("logs", container)) >= LOG_LINES:
            break
    try:

        def raw_first(own_session: bool = False) -> tuple[float, float]:
            cpu_started = time.process_time()
            started = now()
            with subprocess.Popen(
                [runtime.cli, "logs", "-f", container],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=own_session,
            ) as proc:
                assert proc.stdout is not None
                if not proc.stdout.readline():
                    raise RuntimeError("raw logs -f printed nothing")
                seconds = now() - started
                cpu = time.process_time() - cpu_started
                proc.kill()  # teardown, not timed
            return seconds, cpu

        def lib_first() -> tuple[float, float]:
            cpu_started = time.process_time()
            started = now()
            logs = engine.containers.stream_logs(container)
            next(logs)
            seconds = now() - started
            cpu = time.process_time() - cpu_started
            logs.close()  # teardown, not timed
            return seconds, cpu

        # The runner starts every CLI in a session of its own (so a kill reaches all it
        # starts): the raw CLI started the same way shows what that alone costs.
        samples = _rotated(
            {
                "first/raw": raw_first,
                "first/raw-session": lambda: raw_first(own_session=True),
                "first/lib": lib_first,
            },
            first_rounds,
        )
        result.first_raw = [wall for wall, _ in samples["first/raw"]]
        result.first_lib = [wall for wall, _ in samples["first/lib"]]
        result.first_session = [wall for wall, _ in samples["first/raw-session"]]
        for key, values in samples.items():
            result.cpu[key] = [cpu for _, cpu in values]

        context = BuildContext(DOCKERFILE, labels=LABELS)
        tag = f"{PREFIX}-streaming:1"
        seen: list[ProgressEvent] = []

        def plain() -> None:
            engine.images.build(context, tag)

        def with_progress() -> None:
            seen.clear()
            engine.images.build(context, tag, progress=seen.append)

        samples = interleaved(
            [[("build/plain", plain), ("build/progress", with_progress)]],
            build_rounds,
            warmup=1,
            cpu=result.cpu,
        )
        result.build_plain = samples["build/plain"]
        result.build_progress = samples["build/progress"]
        result.events = len(seen)
    finally:
        runtime.cmd("rm", *runtime.force_rm, container, check=False)
    progress(
        f"{runtime.name}: streaming: first line {result.first_ratio:.3f}x raw,"
        f" build with progress {result.build_ratio:.3f}x without"
    )
    return result


Sample = tuple[float, float]


def _rotated(
    actions: dict[str, Callable[[], Sample]], rounds: int, warmup: int = 2
) -> dict[str, list[Sample]]:
    """Each action returns its own (wall, CPU) seconds up to the first line; all run back to
    back each round, in an order that rotates and reverses from round to round."""
    names = list(actions)
    for _ in range(warmup):
        for name in names:
            actions[name]()
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for index in range(rounds):
        turn = index % len(names)
        order = names[turn:] + names[:turn]
        if (index // len(names)) % 2:
            order.reverse()
        for name in order:
            samples[name].append(actions[name]())
    return samples


def section(results: dict[str, StreamingResult]) -> str:
    """The markdown table of :func:`measure_streaming` results."""
    if not results:
        return "_not run_"
    rows = []
    for r in results.values():
        q1, q3 = r.first_iqr
        b1, b3 = r.build_iqr
        rows.append(
            [
                r.runtime,
                "time to the first line",
                f"{median(r.first_raw) * 1000:.1f} ms",
                f"{median(r.first_lib) * 1000:.1f} ms",
                f"{r.first_ratio:.3f} [{q1:.2f}-{q3:.2f}]",
                f"{r.first_floor:.3f}",
                str(len(r.first_lib)),
            ]
        )
        if r.first_session:
            rows.append(
                [
                    r.runtime,
                    f"… vs the raw CLI in its own session (session/raw {r.session_cost:.3f})",
                    f"{median(r.first_session) * 1000:.1f} ms",
                    f"{median(r.first_lib) * 1000:.1f} ms",
                    f"{r.session_ratio:.3f}",
                    "—",
                    str(len(r.first_session)),
                ]
            )
        rows.append(
            [
                r.runtime,
                f"cached build ({r.events} events)",
                f"{median(r.build_plain) * 1000:.0f} ms",
                f"{median(r.build_progress) * 1000:.0f} ms",
                f"{r.build_ratio:.3f} [{b1:.2f}-{b3:.2f}]",
                f"{r.build_floor:.3f}",
                str(len(r.build_progress)),
            ]
        )
    return "\n".join(
        [
            table(
                ("runtime", "measure", "baseline", "library", "ratio [IQR]", "CPU floor", "rounds"),
                rows,
            ),
            "",
            "*Time to the first line*: baseline `subprocess.Popen([cli, 'logs', '-f', c])` and"
            " one `readline()`; library `next(engine.containers.stream_logs(c))` (one `logs"
            " --follow` process, both pipes read apart, nothing run before it). The container"
            " printed its lines long before; teardown (the kill) is not timed. *Cached build*:"
            " `images.build(ctx, tag)` (collected) against the same call with `progress=`"
            " (streamed, each line parsed into a `ProgressEvent`); the build is fully cached, so"
            " the CLI's own time dominates and the difference is the streaming. Ratios are"
            " medians of per-round ratios, the pair run back to back each round, order"
            " alternating. *CPU floor*: (baseline + the extra CPU time this process spent on"
            " the library's side) / baseline, what the ratio converges to on a quiet machine"
            " (the machine's other load hardly changes CPU time). *In its own session*: the"
            " raw CLI started with `start_new_session=True`, as the runner starts every CLI"
            " (so that a kill reaches everything it starts); *session/raw* is what that alone"
            " costs here.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streaming")
    parser.add_argument("--runtime", choices=[*RUNTIMES, "all"], default="all")
    args = parser.parse_args(argv)
    names = list(RUNTIMES) if args.runtime == "all" else [args.runtime]
    results: dict[str, StreamingResult] = {}
    for name in names:
        runtime = find_runtime(name)
        if runtime is None:
            continue
        try:
            results[name] = measure_streaming(runtime)
        finally:
            cleanup(runtime)
    print(section(results))
    return 0 if all(not r.misses() for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
