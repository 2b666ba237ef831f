"""The markdown report: machine, targets, one table per benchmark, how to reproduce."""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .buildctx import KINDS, BuildResult, MakeResult
from .coldscript import SCRIPT, ColdResult
from .common import RUN_ID, Runtime, ms, ratio, table, verdict
from .files import Row as FilesRow
from .files import render as files_table
from .imports import ImportResult
from .overhead import CountResult, OpResult, SpawnResult
from .peers import TASKS, PeerResult
from .streaming import TARGET as STREAM_TARGET
from .streaming import StreamingResult
from .streaming import section as streaming_section

MiB = 1024 * 1024
OVERHEAD_TARGET = 1.03
IMPORT_TARGET = 0.025
COLD_TARGET = 1.30
BUILD_TARGET = 1.10
RUNTIME_TARGET = 300.0

COMMAND = "CONTAINERS_CONF=/etc/containers/containers.conf .venv/bin/python -m benchmarks"


@dataclass
class Results:
    """Everything one run measured."""

    mode: str
    runtimes: list[Runtime] = field(default_factory=list)
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)
    seconds: float = 0.0
    imports: ImportResult | None = None
    make: dict[str, MakeResult] = field(default_factory=dict)
    overhead: dict[str, list[OpResult]] = field(default_factory=dict)
    spawn: SpawnResult | None = None
    counts: dict[str, list[CountResult]] = field(default_factory=dict)
    builds: dict[str, dict[str, BuildResult]] = field(default_factory=dict)
    peers: dict[str, PeerResult] = field(default_factory=dict)
    streaming: dict[str, StreamingResult] = field(default_factory=dict)
    cold: dict[str, ColdResult] = field(default_factory=dict)
    files: dict[str, list[FilesRow]] = field(default_factory=dict)
    #: FakeEngine lifecycles: measurement -> result (no runtime involved).
    fake: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            kib = int(handle.readline().split()[1])
        return f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        return "unknown"


def _docker_client(runtime: Runtime) -> str:
    proc = subprocess.run(
        [runtime.cli, "version", "--format", "{{.Client.Version}}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return proc.stdout.strip()


def machine(results: Results) -> str:
    rows: list[tuple[str, str]] = [
        ("CPU", f"{_cpu()} — {os.cpu_count()} cores"),
        ("memory", _memory()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
    ]
    for runtime in results.runtimes:
        if runtime.name == "docker":
            rows.append(("docker", f"client {_docker_client(runtime)}, daemon {runtime.version}"))
        else:
            rows.append((runtime.name, runtime.version))
    before = " ".join(f"{x:.2f}" for x in results.load_before)
    after = " ".join(f"{x:.2f}" for x in results.load_after)
    rows.append(("load average", f"{before} before, {after} after (other work was running)"))
    rows.append(("run", f"{results.mode} mode, {results.seconds:.0f} s, run id {RUN_ID}"))
    return table(("", "value"), rows)


# --------------------------------------------------------------------------- targets


def _overhead_misses(ops: list[OpResult]) -> list[str]:
    return [f"{o.name} {o.ratio:.3f}" for o in ops if not o.ratio <= OVERHEAD_TARGET]


def _floor_misses(ops: list[OpResult]) -> list[str]:
    return [f"{o.name} {o.floor:.3f}" for o in ops if not o.floor <= OVERHEAD_TARGET]


def _read_misses(counts: list[CountResult]) -> list[str]:
    return [f"{c.name}: {c.processes}" for c in counts if c.kind == "read" and c.processes != 1]


def _build_misses(builds: dict[str, BuildResult]) -> list[str]:
    misses = [
        f"{b.kind} memory {b.peak_extra_kib / 1024:.1f} MiB"
        for b in builds.values()
        if b.peak_extra_kib > b.memory_limit_kib
    ]
    big = builds.get("big")
    if big is not None and not big.ratio <= BUILD_TARGET:
        misses.append(f"big lib/raw {big.ratio:.3f}")
    return misses


def _cell(misses: list[str] | None, good: str) -> str:
    if misses is None:
        return "not run"
    return good if not misses else "; ".join(misses)


def targets(results: Results) -> str:
    names = [r.name for r in results.runtimes]
    rows: list[list[str]] = []

    def row(label: str, per_runtime: dict[str, list[str] | None], good: str) -> None:
        cells = [_cell(per_runtime.get(n), good) for n in names]
        measured = [m for m in per_runtime.values() if m is not None]
        ok = all(not m for m in measured) if measured else None
        rows.append([label, *cells, verdict(ok)])

    row(
        f"1. library/raw ≤ {OVERHEAD_TARGET} (median), 8 reads",
        {n: _overhead_misses(ops) for n, ops in results.overhead.items()},
        "all ≤ 1.03",
    )
    row(
        "1'. same from CPU time (load-independent floor)",
        {n: _floor_misses(ops) for n, ops in results.overhead.items()},
        "all ≤ 1.03",
    )
    row(
        "2. one CLI process per read (list of 50: full records)",
        {n: _read_misses(c) for n, c in results.counts.items()},
        "all 1",
    )
    imp = results.imports
    if imp is not None:
        bare = imp.import_cost <= IMPORT_TARGET and not imp.foreign
        text = f"{imp.import_cost * 1000:.1f} ms wall"
        text += f", {imp.importtime['import'] * 1000:.1f} ms importtime"
        text += f"; non-stdlib modules: {', '.join(imp.foreign) or 'none'}"
        rows.append(["3a. `import` ≤ 25 ms, stdlib only", *([text] * len(names)), verdict(bare)])
        first = f"{imp.engine_cost * 1000:.1f} ms wall"
        first += f", {imp.importtime['engine'] * 1000:.1f} ms importtime"
        rows.append(
            [
                "3b. same for first use (package + engine classes)",
                *([first] * len(names)),
                verdict(imp.engine_cost <= IMPORT_TARGET),
            ]
        )
    if results.cold:
        rows.append(
            [
                f"3c. cold script ≤ {COLD_TARGET}x (interpreter + raw CLI calls)",
                *(_cold_cell(results.cold.get(n)) for n in names),
                verdict(all(c.ratio <= COLD_TARGET for c in results.cold.values())),
            ]
        )
    row(
        f"4. build: extra memory ≤ 10% + 16 MiB; big build ≤ {BUILD_TARGET}x raw",
        {n: _build_misses(b) for n, b in results.builds.items()},
        "met",
    )
    row(
        f"5. `stream_logs` first line, build with `progress=`: ≤ {STREAM_TARGET}x without",
        {n: r.misses() for n, r in results.streaming.items()},
        f"all ≤ {STREAM_TARGET}",
    )
    row(
        "5'. same from CPU time (load-independent floor)",
        {n: r.floor_misses() for n, r in results.streaming.items()},
        f"all ≤ {STREAM_TARGET}",
    )
    row(
        "6. `put_files`/`get_file` ≤ 1.05x `cp`, `run_once` ≤ 1.03x `run --rm` (median)",
        {n: _files_misses(r, workflow=False) for n, r in results.files.items()},
        "met",
    )
    row(
        "6'. same from CPU time (load-independent floor)",
        {n: _files_misses(r, workflow=False, cpu=True) for n, r in results.files.items()},
        "met",
    )
    if "docker" in results.files:
        flow = {n: _files_misses(r, workflow=True) for n, r in results.files.items()}
        row(
            "7. build → `run_once` ≤ docker-py's build → `run(remove=True)` (median)",
            {"docker": flow["docker"]},
            "met",
        )
    quick = results.mode == "quick"
    rows.append(
        [
            f"whole run with `--quick` ≤ {RUNTIME_TARGET:.0f} s",
            *([f"{results.seconds:.0f} s ({results.mode} mode)"] * len(names)),
            verdict(results.seconds <= RUNTIME_TARGET if quick else None),
        ]
    )
    return table(("target", *names, "verdict"), rows)


def _limit(row: FilesRow) -> float | None:
    """The ratio a files row must stay at or under (its target reads "≤ 1.05"), if any."""
    text = row.target.removeprefix("≤").strip()
    try:
        return float(text)
    except ValueError:
        return None


def _files_misses(rows: list[FilesRow], *, workflow: bool, cpu: bool = False) -> list[str]:
    misses = []
    for r in rows:
        limit = _limit(r)
        if limit is None or ("docker-py" in r.case) != workflow:
            continue
        value = r.floor if cpu else r.ratio
        if not value <= limit:
            misses.append(f"{r.case.split(' vs ')[0]} {value:.3f}")
    return misses


def _cold_cell(cold: ColdResult | None) -> str:
    if cold is None:
        return "not run"
    low, high = cold.spread
    return f"{cold.ratio:.2f} [{low:.2f}..{high:.2f}]"


# --------------------------------------------------------------------------- sections


def cold_section(results: Results) -> str:
    if not results.cold:
        return "_not run_"
    rows, parts = [], []
    for name, c in results.cold.items():
        low, high = c.spread
        calls = " + ".join(f"`{call.split()[0]}` {ms(t)}" for call, t in c.calls.items())
        stdlib = c.stdlib - c.python
        package = c.imports - c.stdlib
        rest = c.script - c.floor - stdlib - package
        rows.append(
            [
                name,
                str(c.rounds),
                ms(c.script),
                f"`pass` {ms(c.python)} + {calls} = {ms(c.floor)}",
                f"{c.ratio:.2f}",
                f"{low:.2f}..{high:.2f}",
                verdict(c.ratio <= COLD_TARGET),
            ]
        )
        parts.append(
            [
                name,
                f"{ms(stdlib)} ({(c.floor + stdlib) / c.floor:.2f})",
                f"{ms(package)}",
                f"{ms(rest)}",
            ]
        )
    raw = "; ".join(
        f"{name}: " + ", ".join(f"`{' '.join(args)}`" for args in c.argv)
        for name, c in results.cold.items()
    )
    modules = "; ".join(
        f"{name}: {', '.join(c.stdlib_modules)}" for name, c in results.cold.items()
    )
    return "\n".join(
        [
            table(
                (
                    "runtime",
                    "rounds",
                    "script",
                    "floor (medians)",
                    "ratio",
                    "95% CI, per-round ratio",
                    f"≤ {COLD_TARGET}",
                ),
                rows,
            ),
            "",
            f"The script: `python -c '{SCRIPT.format(name='docker')}'` (podman likewise). The"
            " floor: an empty `python -c pass` plus the raw calls the library made for it,"
            f" recorded in a first run ({raw}). Rounds are interleaved, their order rotating,"
            " until the interval of the median per-round ratio is narrower than 3%.",
            "",
            "Where the difference goes (medians of two more interpreters in the same rounds):",
            "",
            table(
                (
                    "runtime",
                    "standard library the script needs (ratio with it alone)",
                    "the package's own modules",
                    "the calls' Python side, the larger exit",
                ),
                parts,
            ),
            "",
            "*Standard library*: an interpreter importing exactly the standard-library modules"
            f" the script loads ({modules}), against `pass`: JSON parsing (`json`, and `re`,"
            " `enum`, `functools` and `collections` behind it), `signal`, `select` and"
            " `contextlib`. Any Python program that starts a CLI and reads its JSON pays it;"
            " the ratio beside it is the floor plus this alone. *The package's own modules*:"
            " an interpreter that also imports what the script imports of the package and makes"
            " the engine without calling the CLI, against the former.",
        ]
    )


def overhead_section(results: Results) -> str:
    names = list(results.overhead)
    if not names:
        return "_not run_"
    headers = ["operation"]
    for n in names:
        headers += [f"{n} raw ms", "lib/raw [IQR]", "CPU floor", "runner/raw", "parse µs", "procs"]
    by_name = {n: {o.name: o for o in ops} for n, ops in results.overhead.items()}
    rows = []
    for op in results.overhead[names[0]]:
        row = [f"`{op.name}`"]
        for n in names:
            o = by_name[n].get(op.name)
            if o is None:
                row += ["—"] * 6
                continue
            text = f"{o.ratio:.3f}"
            row += [
                ms(o.raw),
                (f"**{text}**" if o.ratio > OVERHEAD_TARGET else text)
                + f" [{o.ratio_q[0]:.2f}-{o.ratio_q[1]:.2f}]",
                f"**{o.floor:.3f}**" if o.floor > OVERHEAD_TARGET else f"{o.floor:.3f}",
                f"{o.runner_ratio:.3f}",
                f"{o.cpu * 1e6:.0f}",
                str(o.processes),
            ]
        rows.append(row)
    samples = {n: min(o.samples for o in ops) for n, ops in results.overhead.items()}
    argv_rows = [
        [f"`{o.name}`", "<br>".join(f"`{a}`" for a in o.argv)] for o in results.overhead[names[0]]
    ]
    notes = [
        table(headers, rows),
        "",
        "Medians of "
        + ", ".join(f"{n}: {s}" for n, s in samples.items())
        + " interleaved rounds. *raw*: `subprocess.run` of exactly the argv the library ran"
        " (same stdin/stdout/stderr handling), output discarded. *runner*: the same argv"
        " through the library's `CommandRunner` alone. *lib*: the public call, which also"
        " validates arguments and parses the JSON into records. The three run back to back"
        " in each round (order rotating); *lib/raw* and *runner/raw* are the medians of the"
        " per-round ratios (IQR: their quartiles), *raw ms* the median time. *CPU floor*:"
        " (raw + the extra CPU time the library's call took over the raw one) / raw, from"
        " this process's CPU time, which the machine's other load hardly changes: what"
        " lib/raw converges to on a quiet machine. *parse µs*: CPU time of the public call"
        " with the CLI's recorded answer served from memory (no process): argument checks,"
        " argv, JSON parsing, records.",
        "",
        f"Argv per operation ({names[0]}):",
        "",
        table(("operation", "argv (after the executable)"), argv_rows),
    ]
    spawn = results.spawn
    if spawn is not None:
        notes += [
            "",
            f"The runner alone on a process that does nothing (`true`), medians of"
            f" {spawn.rounds} interleaved calls:",
            "",
            table(
                ("call", "µs per call", "vs raw"),
                [
                    ["`subprocess.run` (raw)", f"{spawn.raw * 1e6:.0f}", "1.000"],
                    [
                        "`subprocess.run(..., timeout=120)`",
                        f"{spawn.raw_timeout * 1e6:.0f}",
                        ratio(spawn.raw_timeout, spawn.raw),
                    ],
                    [
                        "`CommandRunner.run`",
                        f"{spawn.runner * 1e6:.0f}",
                        ratio(spawn.runner, spawn.raw),
                    ],
                ],
            ),
        ]
    return "\n".join(notes)


def counts_section(results: Results) -> str:
    names = list(results.counts)
    if not names:
        return "_not run_"
    by_name = {n: {c.name: c for c in counts} for n, counts in results.counts.items()}
    rows = []
    for c in results.counts[names[0]]:
        row = [f"`{c.name}`", c.kind]
        notes = []
        for n in names:
            other = by_name[n].get(c.name)
            if other is None:
                row.append("—")
                continue
            good = other.kind != "read" or other.processes == 1
            row.append(str(other.processes) if good else f"**{other.processes}**")
            if other.note:
                notes.append(f"{n}: {other.note}")
            if other.processes > 1:
                verbs = ", ".join(" ".join(a.split()[:2]) for a in other.argv)
                notes.append(f"{n}: {verbs}")
        rows.append([*row, "; ".join(notes)])
    return table(("public call", "kind", *names, "notes"), rows)


def import_section(results: Results) -> str:
    imp = results.imports
    if imp is None:
        return "_not run_"
    rows = [
        ["`python -c pass` (interpreter start)", f"{imp.wall['pass'] * 1000:.1f} ms", ""],
        [
            "`import dotfiles_container_manager`: wall - pass",
            f"{imp.import_cost * 1000:.1f} ms",
            f"≤ {IMPORT_TARGET * 1000:.0f} ms: {verdict(imp.import_cost <= IMPORT_TARGET)}",
        ],
        ["same, `-X importtime` cumulative", f"{imp.importtime['import'] * 1000:.2f} ms", ""],
        [
            "package + both engine classes: wall - pass",
            f"{imp.engine_cost * 1000:.1f} ms",
            f"what a first call needs: {verdict(imp.engine_cost <= IMPORT_TARGET)}",
        ],
        ["same, `-X importtime` cumulative", f"{imp.importtime['engine'] * 1000:.2f} ms", ""],
        [
            "modules outside the standard library",
            ", ".join(imp.foreign) or "none",
            f"{imp.modules_added} modules added in all: {verdict(not imp.foreign)}",
        ],
    ]
    slow = ", ".join(f"`{m}` {t * 1000:.1f} ms" for m, t in imp.slowest)
    return "\n".join(
        [
            table(("measure", f"median of {imp.runs} fresh interpreters", "target / note"), rows),
            "",
            "Standard-library modules the package imports itself at first use, by cumulative"
            f" import time (median): {slow}.",
        ]
    )


def build_section(results: Results) -> str:
    make_rows = [
        [
            KINDS[m.kind],
            f"{m.context_bytes / MiB:.1f}",
            f"{m.tar_bytes / MiB:.1f}",
            f"{m.seconds * 1000:.0f}",
            f"{m.throughput:.0f}",
            f"{m.extra_kib / 1024:.1f}",
            f"{m.memory_limit_kib / 1024:.1f}",
        ]
        for m in results.make.values()
    ]
    build_rows = []
    for name, builds in results.builds.items():
        for b in builds.values():
            mem_ok = b.peak_extra_kib <= b.memory_limit_kib
            speed = f"{b.ratio:.3f}"
            if b.kind == "big" and b.ratio > BUILD_TARGET:
                speed = f"**{speed}**"
            build_rows.append(
                [
                    name,
                    KINDS[b.kind],
                    f"{min(len(b.lib), len(b.raw))}",
                    f"{sorted(b.lib)[len(b.lib) // 2]:.2f}",
                    f"{sorted(b.raw)[len(b.raw) // 2]:.2f}",
                    speed,
                    f"{b.pipe_ratio:.3f}" if b.pipe else "—",
                    f"{b.throughput:.0f}",
                    f"{b.peak_extra_kib / 1024:.1f}" + ("" if mem_ok else " ❌"),
                    f"{b.memory_limit_kib / 1024:.1f}",
                ]
            )
    return "\n".join(
        [
            "Making the tar alone (`context_tar_chunks`, no CLI), in a fresh interpreter:",
            "",
            table(
                (
                    "context",
                    "files MiB",
                    "tar MiB",
                    "make ms",
                    "MiB/s",
                    "peak extra MiB",
                    "limit MiB",
                ),
                make_rows,
            ),
            "",
            "End to end (`images.build`: make + send + the daemon's build), library vs the raw"
            " CLI with the same argv fed the same tar from a file (`docker build … - < ctx.tar`):",
            "",
            table(
                (
                    "runtime",
                    "context",
                    "reps",
                    "lib s",
                    "raw s",
                    "lib/raw",
                    "cat-pipe/raw",
                    "lib MiB/s",
                    "peak extra MiB",
                    "limit MiB",
                ),
                build_rows,
            ),
            "",
            "*cat-pipe/raw*: the same CLI fed the tar by `cat ctx.tar |`, the cost of a pipe"
            " itself: the library streams through a pipe, so this is its floor. *Peak extra*:"
            " `VmHWM` of the child running `images.build` minus its RSS once it"
            " holds the files (peak reset through `/proc/self/clear_refs`); the CLI's own"
            " memory is not counted. *Limit*: 10% of the files plus 16 MiB. The Dockerfile"
            " is `FROM dcm-test-base` + `LABEL` (it does not copy the files): the time is"
            " making, sending and receiving the context, not writing a layer.",
        ]
    )


def peers_section(results: Results) -> str:
    if not results.peers:
        return "_not run_"
    names = list(results.peers)
    tools: list[str] = []
    for p in results.peers.values():
        tools += [t for t in p.tools if t not in tools]
    rows = []
    for task in TASKS:
        for tool in tools:
            row = [task, tool]
            for n in names:
                peer = results.peers[n]
                t = peer.times.get((tool, task))
                row += ["—" if t is None else ms(t), peer.counts.get((tool, task), "—")]
            rows.append(row)
    headers = ["task", "tool"]
    for n in names:
        headers += [f"{n} ms", f"{n} started"]
    skipped = [
        f"{tool} on {n}: {why}" for n, p in results.peers.items() for tool, why in p.skipped.items()
    ]
    text = [table(headers, rows), ""]
    if skipped:
        text += ["Skipped: " + "; ".join(skipped) + ".", ""]
    text.append(
        "Medians, tools interleaved. *started*: CLI processes (counting shim) or HTTP requests"
        " (docker-py). python-on-whales builds from a directory only: its build writes the"
        " in-memory files to a temporary directory first; docker-py's build is handed an"
        " in-memory tar. `list` lists by label (20 of the 50 running containers)."
    )
    return "\n".join(text)


def reproduce() -> str:
    return "\n".join(
        [
            "```sh",
            "python -m venv .venv && .venv/bin/pip install -e '.[dev,bench]'",
            "# the runtimes and the local base image `dcm-test-base:latest` (see .ci/run and",
            "# tests/integration/conftest.py, which builds it from busybox)",
            f"{COMMAND}                       # both runtimes, prints the table",
            f"{COMMAND} --runtime docker --quick",
            f"{COMMAND} --out docs/performance.md  # refresh this page",
            "```",
            "",
            "Options: `--runtime docker|podman|all`, `--quick` (fewer rounds and repetitions,"
            " about half the time),"
            " `--out FILE` (default `benchmarks/results/latest.md`). Everything the run creates"
            " is labelled `dcm-bench=1` and removed at the end, also on an error or Ctrl-C.",
        ]
    )


def files_section(results: Results) -> str:
    rows = [row for per_runtime in results.files.values() for row in per_runtime]
    if not rows:
        return "_not run_"
    return "\n".join(
        [
            files_table(rows),
            "",
            "Each case interleaved with its baseline (medians of per-round ratios; q1-q3 their"
            " spread). The baseline is the raw CLI fed or read by `subprocess.run` (`cp - C:DIR`"
            " with the very same tar bytes, `cp C:PATH -`, `run --rm IMAGE true`); for the"
            " workflow, docker-py 7 building from an in-memory tar and running with"
            " `remove=True`. *CPU floor*: the ratio predicted from this process's CPU time"
            " alone, which other load on the machine does not move. `copy_from` cases:"
            " `python -m benchmarks.files` (seconds per call).",
        ]
    )


def fake_section(results: Results) -> str:
    if not results.fake:
        return "_not run_"
    return "\n".join(
        [
            table(("measurement", "result"), list(results.fake.items())),
            "",
            "Best of several rounds, in this process (no runtime). Every call is recorded in"
            " `engine.calls` as always. More cases: `python -m benchmarks.fake_engine`.",
        ]
    )


def render(results: Results, analysis: str = "") -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Performance",
        "",
        f"Generated by `python -m benchmarks` on {stamp} ({results.mode} mode,"
        f" {results.seconds:.0f} s). Numbers are medians of interleaved runs on a shared,"
        " noisy 2-core machine: compare ratios, not absolute times.",
        "",
        "## Targets",
        "",
        targets(results),
        "",
        "## Machine",
        "",
        machine(results),
        "",
        "## 1. Overhead per operation",
        "",
        overhead_section(results),
        "",
        "## 2. Processes per public call",
        "",
        counts_section(results),
        "",
        "## 3. Import",
        "",
        import_section(results),
        "",
        "## 3c. Cold script",
        "",
        cold_section(results),
        "",
        "## 4. Build context",
        "",
        build_section(results),
        "",
        "## 5. Streaming and progress",
        "",
        streaming_section(results.streaming),
        "",
        "## 6. Peers",
        "",
        peers_section(results),
        "",
        "## 7. Files in and out, one-shot runs, and the workflow against docker-py",
        "",
        files_section(results),
        "",
        "## 8. FakeEngine",
        "",
        fake_section(results),
        "",
    ]
    if analysis:
        parts += ["## Findings", "", analysis.strip(), ""]
    if results.errors:
        parts += ["## Errors", "", *[f"- {e}" for e in results.errors], ""]
    parts += ["## How to reproduce", "", reproduce(), ""]
    return "\n".join(parts)
