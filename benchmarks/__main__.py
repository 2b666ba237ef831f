"""``python -m benchmarks``: run every benchmark, print the markdown table, write it."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType

from . import fake_engine
from . import files as files_benchmark
from .buildctx import KINDS, measure_build, measure_make, write_tar
from .coldscript import measure_cold
from .common import (
    PREFIX,
    RUNTIMES,
    Runtime,
    Shim,
    cleanup,
    elapsed,
    find_runtime,
    progress,
    tempdir,
)
from .findings import findings
from .imports import measure_imports
from .overhead import count_processes, measure_overhead, measure_spawn, setup_fixture
from .peers import measure_peers
from .remote import NAME as REMOTE
from .remote import measure_remote
from .report import Results, render
from .streaming import measure_streaming

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.md"
#: Seconds the whole run aims at (`--quick`: at most 5 minutes). The rounds of the overhead
#: and peer benchmarks shrink to fit what is left; the rest takes about FIXED seconds per
#: runtime (cold script, fixture, process counts, removal, streaming, files and the docker-py
#: workflow, builds) on this machine.
BUDGET = 480.0
QUICK_BUDGET = 240.0
FIXED = 80.0


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--runtime", choices=[*RUNTIMES, "all"], default="all")
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds and repetitions (about half the time)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--analysis", type=Path, help="markdown put under 'Findings'")
    parser.add_argument(
        "--remote",
        action="store_true",
        help="also the reads against a second dockerd's socket (root; about 60 s more)",
    )
    return parser.parse_args(argv)


def _per_runtime(
    runtime: Runtime,
    results: Results,
    work: Path,
    tars: dict[str, tuple[Path, int]],
    quick: bool,
    runtimes_left: int,
) -> None:
    name = runtime.name
    shim = Shim(work, runtime)
    left = (QUICK_BUDGET if quick else BUDGET) - elapsed()
    adaptive = max(left / runtimes_left - FIXED, 10.0)  # seconds for overhead + peers
    progress(f"{name}: cold script vs interpreter + raw calls (before the fixture)")
    results.cold[name] = measure_cold(
        runtime,
        min_rounds=10 if quick else 20,
        max_rounds=30 if quick else 80,
        deadline=elapsed() + (15 if quick else 40),
    )
    progress(f"{name}: starting the fixture (50 containers, volumes, a network)")
    fixture = setup_fixture(runtime)
    try:
        progress(f"{name}: overhead per operation ({0.6 * adaptive:.0f} s at most)")
        results.overhead[name] = measure_overhead(
            runtime, fixture, rounds=8 if quick else 30, deadline=elapsed() + 0.6 * adaptive
        )
        progress(f"{name}: processes per call")
        results.counts[name] = count_processes(runtime, fixture, shim)
        progress(f"{name}: peers")
        results.peers[name] = measure_peers(
            runtime,
            fixture,
            shim,
            work,
            rounds=2 if quick else 3,
            deadline=elapsed() + 0.4 * adaptive,
        )
    finally:
        progress(f"{name}: removing the fixture")
        cleanup(runtime)
    progress(f"{name}: streaming (first line of stream_logs, build with progress)")
    results.streaming[name] = measure_streaming(
        runtime, first_rounds=30 if quick else 80, build_rounds=7 if quick else 21
    )
    progress(f"{name}: files in and out, run_once" + (", the workflow" if name == "docker" else ""))
    results.files[name] = files_benchmark.measure(
        runtime,
        rounds=8 if quick else 20,
        work=str(work),
        copies=False,
        workflow_rounds=16 if quick else 40,
    )
    results.builds[name] = {}
    for kind in KINDS:
        tar, size = tars[kind]
        results.builds[name][kind] = measure_build(
            runtime,
            kind,
            tar,
            size,
            reps=1 if quick or kind == "small" else 3,
            tag=f"{PREFIX}-ctx-{kind}:1",
            work=work,
            deadline=elapsed() + 20,
        )
    cleanup(runtime)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    names = list(RUNTIMES) if args.runtime == "all" else [args.runtime]
    results = Results(mode="quick" if args.quick else "full", load_before=os.getloadavg())
    runtimes = [r for r in (find_runtime(n) for n in names) if r is not None]
    results.runtimes = runtimes
    interrupted = False
    try:
        with tempdir() as tmp:
            work = Path(tmp)
            progress("import time (fresh interpreters)")
            results.imports = measure_imports(10)
            progress("runner vs subprocess.run on `true`")
            results.spawn = measure_spawn(150 if args.quick else 400)
            progress("FakeEngine lifecycles")
            results.fake = fake_engine.lifecycles(5_000 if args.quick else 20_000, 3)
            tars: dict[str, tuple[Path, int]] = {}
            for kind in KINDS:
                progress(f"making the {kind} context's tar (no CLI)")
                results.make[kind] = measure_make(kind, 1 if args.quick or kind == "big" else 2)
                tars[kind] = (work / f"{kind}.tar", results.make[kind].tar_bytes)
                write_tar(kind, tars[kind][0])
            for index, runtime in enumerate(runtimes):
                try:
                    _per_runtime(runtime, results, work, tars, args.quick, len(runtimes) - index)
                except KeyboardInterrupt:
                    raise
                except Exception as exc:
                    traceback.print_exc()
                    results.errors.append(f"{runtime.name}: {type(exc).__name__}: {exc}")
            docker = next((r for r in runtimes if r.name == "docker"), None)
            if args.remote and docker is not None:
                try:
                    results.overhead[REMOTE] = measure_remote(
                        docker, rounds=8 if args.quick else 30, deadline=elapsed() + 60
                    )
                except KeyboardInterrupt:
                    raise
                except Exception as exc:
                    traceback.print_exc()
                    results.errors.append(f"{REMOTE}: {type(exc).__name__}: {exc}")
    except KeyboardInterrupt:
        interrupted = True
        progress("interrupted: cleaning up")
    finally:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        for runtime in runtimes:
            left = cleanup(runtime)
            if left:
                progress(f"{runtime.name}: removed {len(left)} leftover resources")
        signal.signal(signal.SIGINT, previous)
    if interrupted:
        return 130
    results.seconds = elapsed()
    results.load_after = os.getloadavg()
    analysis = findings(results)
    if args.analysis:
        analysis += "\n\n" + args.analysis.read_text(encoding="utf-8")
    text = render(results, analysis)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    progress(f"written to {args.out} in {results.seconds:.0f} s")
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
