"""``python -m benchmarks.fake_engine``: how fast the in-memory FakeEngine is.

No runtime is needed. It measures, each as the best of several rounds (the machine is shared):

- container lifecycles per second: ``create → start → stop → remove`` on one engine, with a
  ``RunConfig`` made once (the user's own cost, building it, is measured apart), every call
  recorded in ``engine.calls`` as always;
- the same with ``run`` + ``remove(force=True)``, and with 8 threads sharing the engine;
- ``containers.list()`` of 1,000 containers: right after every one changed (records built)
  and again (records cached), all of them and through a label filter;
- one ``inspect``, one scripted ``exec``, one ``images.build``.

It prints a markdown table (``--out FILE`` writes it too).
"""

from __future__ import annotations

import argparse
import gc
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from dotfiles_container_manager import BuildContext, ExecResult, RunConfig
from dotfiles_container_manager.testing import FakeEngine

BASE = "busybox:latest"


def best_rate(round_: Callable[[], int], rounds: int) -> tuple[float, float]:
    """The best operations per second over ``rounds`` rounds: per second of wall time, and
    per second of this process's CPU time (what the other load on a shared machine takes
    from the wall-time figure)."""
    wall, cpu = [], []
    for _ in range(rounds):
        gc.collect()
        started, used = time.perf_counter(), time.process_time()
        count = round_()
        wall.append(count / (time.perf_counter() - started))
        cpu.append(count / max(time.process_time() - used, 1e-9))
    return max(wall), max(cpu)


def best_time(step: Callable[[], object], rounds: int) -> float:
    """The best time of one ``step()``, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times)


def micro(step: Callable[[], object], rounds: int) -> str:
    return f"{best_time(step, rounds) * 1e6:.1f} µs"


def lifecycles(n: int, rounds: int) -> dict[str, str]:
    engine = FakeEngine(images=[BASE])
    config = RunConfig(BASE, command=["sleep", "300"], labels={"app": "bench"})
    c = engine.containers

    def cycle() -> int:
        engine.clear_calls()
        for _ in range(n):
            cid = c.create(config)
            c.start(cid)
            c.stop(cid)
            c.remove(cid)
        return n

    def run_remove() -> int:
        engine.clear_calls()
        for _ in range(n):
            c.remove(c.run(config), force=True)
        return n

    def with_configs() -> int:
        engine.clear_calls()
        for i in range(n):
            cid = c.create(RunConfig(BASE, command=["sleep", "300"], labels={"i": str(i)}))
            c.start(cid)
            c.stop(cid)
            c.remove(cid)
        return n

    def threaded() -> int:
        engine.clear_calls()
        per = n // 8

        def work() -> None:
            for _ in range(per):
                cid = c.create(config)
                c.start(cid)
                c.stop(cid)
                c.remove(cid)

        threads = [threading.Thread(target=work) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return per * 8

    cycle()  # warm up
    results = {}
    for label, round_ in (
        ("create→start→stop→remove", cycle),
        ("run→remove(force)", run_remove),
        ("create→start→stop→remove, a new RunConfig each", with_configs),
        ("create→start→stop→remove, 8 threads", threaded),
    ):
        wall, cpu = best_rate(round_, rounds)
        results[label] = f"{wall:,.0f}/s ({cpu:,.0f} per CPU second)"
    engine.clear_calls()
    tracemalloc.start()
    cycle()
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    results["memory of the call log"] = f"{size / (4 * n):,.0f} bytes per recorded call"
    return results


def listing(count: int, rounds: int) -> dict[str, str]:
    engine = FakeEngine(images=[BASE])
    c = engine.containers
    ids = [
        c.run(RunConfig(BASE, command=["sleep", "300"], labels={"group": str(i % 10)}))
        for i in range(count)
    ]

    def touch() -> None:  # every container changes: the next list builds its records
        for cid in ids:
            c.pause(cid)
            c.unpause(cid)

    cold = []
    for _ in range(rounds):
        touch()
        cold.append(best_time(c.list, 1))
    warm = best_time(c.list, rounds)
    filtered = best_time(lambda: c.list(filters={"label": "group=3"}), rounds)
    assert len(c.list()) == count
    return {
        f"list() of {count:,}, records built": f"{min(cold) * 1000:.2f} ms",
        f"list() of {count:,}, unchanged since last list": f"{warm * 1000:.2f} ms",
        f"list(filters={{'label': 'group=3'}}) of {count:,}": f"{filtered * 1000:.2f} ms",
        f"inspect() among {count:,}": micro(lambda: c.inspect(ids[500]), rounds),
    }


def others(rounds: int) -> dict[str, str]:
    engine = FakeEngine(images=[BASE])
    engine.script.exec(BASE, ["git"], result=ExecResult(0, b"git version 2.43.0\n"))
    cid = engine.containers.run(RunConfig(BASE, command=["sleep", "300"]))
    context = BuildContext(
        'FROM busybox\nENV A=1\nLABEL x=y\nCOPY app /app\nCMD ["/app/run"]\n',
        files={"app/run": b"#!/bin/sh\n" * 100},
    )
    exec_ = engine.containers.exec
    return {
        "exec (scripted)": micro(lambda: exec_(cid, ["git", "log"]), rounds),
        "exec (builtin echo)": micro(lambda: exec_(cid, ["echo", "x"]), rounds),
        "images.build (5-line Dockerfile)": micro(
            lambda: engine.images.build(context, "app:1"), rounds
        ),
        "FakeEngine()": micro(lambda: FakeEngine(images=[BASE]), rounds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--containers", type=int, default=1_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = {
        **lifecycles(args.cycles, args.rounds),
        **listing(args.containers, args.rounds),
        **others(args.rounds * 20),
    }
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    lines = [
        f"FakeEngine, Python {sys.version.split()[0]}, best of {args.rounds} rounds "
        f"({args.cycles:,} cycles each), load average {load} at the end",
        "",
        "| measurement | result |",
        "|---|---|",
        *(f"| {name} | {value} |" for name, value in rows.items()),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
