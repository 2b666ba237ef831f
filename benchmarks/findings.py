"""Why a target is missed, and what would fix it: text built from this run's numbers plus
what profiling (cProfile, ``-X importtime``) showed when the benchmark was written."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .imports import ImportResult
    from .report import Results

OVERHEAD_TARGET = 1.03


def _op(results: Results, runtime: str, name: str) -> tuple[float, float, float] | None:
    for op in results.overhead.get(runtime, []):
        if op.name == name:
            return op.raw, op.cpu, op.floor
    return None


def _import_finding(imp: ImportResult) -> str:
    bare, first = imp.import_cost, imp.engine_cost
    slow = ", ".join(f"`{m}` {t * 1000:.1f} ms" for m, t in imp.slowest[:6])
    return (
        f"- **Import.** `import dotfiles_container_manager`: {bare * 1000:.1f} ms wall,"
        f" {imp.importtime['import'] * 1000:.1f} ms by `-X importtime`"
        f" ({'met' if bare <= 0.025 else 'missed'}; wall differences of a few ms are noise)."
        f" First use (the factory and both engine classes) costs {first * 1000:.0f} ms"
        f" ({'met' if first <= 0.025 else 'missed'}); the standard-library modules the"
        f" package imports itself, cumulative: {slow or 'none'}. Gone since the previous"
        " round: `dataclasses` and `inspect` (records are `core/record.py` classes),"
        " `typing` (`core/typing_runtime.py`), `subprocess`, `threading` and `selectors`"
        " (`cli/spawn.py`, `poll(2)` directly), `socket` (with `readiness`), regexes compiled"
        " at import (`core/regex.py`), and the image, volume and network modules (made at"
        " first use). What stays is what JSON parsing and process control need (`json` with"
        " `re`, `enum`, `functools` and `collections` behind it; `signal`, `select`,"
        " `contextlib`) and the package's own ~30 modules."
    )


def _cold_finding(results: Results) -> list[str]:
    out = []
    for name, c in results.cold.items():
        if not c.floor or not c.stdlib:
            continue
        stdlib = c.stdlib - c.python
        package = c.imports - c.stdlib
        rest = c.script - c.floor - stdlib - package
        out.append(
            f"- **Cold script on {name}: {c.ratio:.2f}x its floor"
            f" ({'met' if c.ratio <= 1.30 else 'missed'}; it was 2.78x/2.57x when the issue was"
            f" filed, 2.02x/1.84x at the start of this round).** The script takes"
            f" {c.script * 1000:.0f} ms against {c.floor * 1000:.0f} ms of empty interpreter"
            f" plus the raw CLI calls. Of the {(c.script - c.floor) * 1000:.0f} ms between them:"
            f" {stdlib * 1000:.0f} ms is the standard library any Python program pays to start"
            " a CLI and read its JSON (an interpreter importing just those modules: the floor"
            f" plus that alone is {(c.floor + stdlib) / c.floor:.2f}x); {package * 1000:.0f} ms"
            " is the package's own modules; the remaining"
            f" {rest * 1000:.0f} ms is the calls' Python side (spawn, read, parse: ~1 ms a"
            " call), the exit of a larger interpreter, and noise. The package's share is about"
            " 0.15-0.5 ms per module (finding, loading and executing ~30 small modules, and"
            " building their classes: ABCs, enums, records, exceptions); it would shrink only"
            " by merging modules, against the one-module-per-job layout. The standard"
            " library's share cannot go without dropping JSON (docker's and podman's only exact"
            " output format) or the contract's enums."
        )
    return out


def _workflow_finding(results: Results) -> list[str]:
    rows = [r for r in results.files.get("docker", []) if "docker-py" in r.case]
    if not rows:
        return []
    row = rows[0]
    steps = ", ".join(f"{step} {seconds * 1000:.0f} ms" for step, seconds in row.steps.items())
    cold = results.cold.get("docker")
    version = next(iter(cold.calls.values()), 0.0) if cold is not None else 0.0
    return [
        f"- **Build → `run_once` against docker-py on docker: {row.ratio:.3f}**"
        f" ({'met' if row.ratio <= 1.00 else 'missed'}; q1-q3 {row.q[0]:.3f}-{row.q[1]:.3f};"
        f" CPU floor {row.floor:.3f}). The library's own CPU per workflow is"
        f" {row.cpu[0] * 1000:.1f} ms against docker-py's {row.cpu[1] * 1000:.1f} ms."
        " The wall-time difference is the docker CLI itself: the library starts it twice"
        " (`build`, then `run --rm`), and each start (Go runtime, config, plugins, API"
        f" negotiation) costs about what a whole `docker version` does here ({version * 1000:.0f}"
        " ms), where docker-py sends HTTP requests on an open socket. The steps, in this"
        f" run (medians): {steps}."
        " Candidates measured and left: the `--iidfile` and `--cidfile` temporary"
        " directories (0.35 ms each, the id file written and read included), the probe"
        " (made once per engine, not per workflow), the feeder thread (0.13 ms to start and"
        " join). A library over the CLI cannot go below two CLI starts for a build and a"
        " run."
    ]


def findings(results: Results) -> str:
    """Markdown bullets: the change made, then each missed target's cause and fix."""
    out: list[str] = []
    spawn = results.spawn
    spawn_text = ""
    if spawn is not None:
        spawn_text = (
            f" In this run, on `true`: `subprocess.run` {spawn.raw * 1e6:.0f} µs, with a"
            f" timeout {spawn.raw_timeout * 1e6:.0f} µs, the runner {spawn.runner * 1e6:.0f} µs."
        )
    out.append(
        "- **Runner.** Every CLI starts through `os.posix_spawn` in a session of its own"
        " (`cli/spawn.py`: what `Popen` did that matters is kept and tested, without importing"
        " `subprocess`), and one `poll(2)` loop reads both pipes and a pidfd, so the exit is"
        " seen without polling `waitpid`. Per call it spends ~70 µs of CPU that"
        " `subprocess.run` does not: `posix_spawn` takes the environment as a mapping before"
        " Python 3.13 (~50 µs to convert 40 variables; `subprocess` hands over the C"
        " library's own) and the inheritable descriptors are looked up to close them"
        " (~20 µs); 0.3% of a 25 ms CLI call." + spawn_text
    )
    # containers.list with 50 records
    for runtime in results.overhead:
        found = _op(results, runtime, "containers.list")
        if found is None:
            continue
        raw, cpu, floor = found
        if floor > OVERHEAD_TARGET:
            out.append(
                f"- **Missed on {runtime}: `containers.list()` of 50 containers, CPU floor"
                f" {floor:.3f}.** The public call with the CLI's answer replayed from memory"
                f" costs {cpu * 1e6:.0f} µs ({cpu / raw * 100:.1f}% of the"
                f" {raw * 1000:.0f} ms CLI call): one JSON decode of all rows, then 50"
                " records (ports, labels, references, states normalised; timestamps, labels"
                " and port mappings cached across calls; it was 2.9 ms before those"
                " caches; the figure swings 0.4-0.7 ms between runs here). The runner"
                " itself costs ~50 µs of CPU more than `subprocess.run` on a 30 KB output."
                " The floor's difference of CPU between the two sides, measured in the"
                f" interleaved rounds, is {(floor - 1) * raw * 1e6:.0f} µs: more than those"
                " two, and not reproduced by either measured apart; it has stayed at"
                " 1.02-1.04 in every run. Returning the raw JSON instead of records would"
                " meet the ratio and drop the point of the library."
            )
    # noise
    noisy = [
        f"{runtime} {op.name} {op.ratio:.3f} (floor {op.floor:.3f})"
        for runtime, ops in results.overhead.items()
        for op in ops
        if op.ratio > OVERHEAD_TARGET and op.floor <= OVERHEAD_TARGET
    ]
    shares = [
        op.cpu / op.raw
        for ops in results.overhead.values()
        for op in ops
        if op.name != "containers.list" and op.raw > 0
    ]
    if noisy:
        out.append(
            "- **Medians above 1.03 whose CPU floor is under it are the machine's noise**: "
            + "; ".join(noisy)
            + ". Other sessions ran test suites on the same 2 cores and daemons during the"
            " run (see the load average): the quartiles of the per-round ratios span"
            " ±10-30%, so a median of a few dozen rounds cannot resolve 3%. The library's"
            " own extra work there is argument checks and parsing (the *parse µs* column:"
            f" at most {max(shares, default=0.0) * 100:.1f}% of the call)."
        )
    # images.list on docker
    for runtime, counts in results.counts.items():
        extra = [c for c in counts if c.kind == "read" and c.processes != 1]
        if extra:
            names = ", ".join(f"`{c.name}` ({c.processes})" for c in extra)
            out.append(
                f"- **Missed on {runtime}: reads that start more than one process: {names}.**"
                " docker's `images --format '{{json .}}'` has no labels and only rounded sizes"
                " (`1.98MB`), so `DockerImageManager.list` runs `images -q` and then one"
                " `image inspect` of all the ids (two processes whatever the number of"
                " images; podman's `images` JSON is complete: one). The floor with docker's"
                " CLI is two processes for records with labels and exact sizes. (Volume and"
                " network listings are one process: their template prints exact labels.)"
            )
    out += _cold_finding(results)
    out += _workflow_finding(results)
    # import
    imp = results.imports
    if imp is not None:
        out.append(_import_finding(imp))
    # builds
    for runtime, builds in results.builds.items():
        big = builds.get("big")
        if big is not None and big.ratio > 1.10:
            lib_s = ", ".join(f"{x:.2f}" for x in big.lib)
            raw_s = ", ".join(f"{x:.2f}" for x in big.raw)
            pipe_s = ", ".join(f"{x:.2f}" for x in big.pipe)
            out.append(
                f"- **Missed on {runtime}: build of 256 MiB, lib/raw {big.ratio:.2f}** (library"
                f" {lib_s} s; raw from a file {raw_s} s; `cat` through a pipe {pipe_s} s,"
                f" {big.pipe_ratio:.2f}x). The library's own part is small: making the tar is"
                " memoryview slices (ms for 256 MiB), the feeder thread writes 1 MiB chunks,"
                " the peak extra memory stays under 1 MiB. What the target compares is a pipe"
                " against a file: the CLI reads a regular file on stdin faster than any pipe."
                " Controlled run (5 interleaved reps, podman, `sync` before each): file 1.25 s,"
                " Python feeding the pipe as the runner does 1.35 s (1.08x), the same with a"
                " 1 MiB pipe buffer 1.47 s, `cat |` 1.69 s. So the floor for a streamed context"
                " is ~1.05-1.10x of a file on podman, and single runs swing ±30% with the"
                " disk (the runtimes write the context to disk while other sessions build)."
                " Meeting 1.10x reliably would need handing the CLI a file (writing the tar to"
                " a temporary file first): more disk I/O and no faster end to end."
            )
    small = results.make.get("small")
    if small is not None:
        out.append(
            f"- **Small files.** Making the tar of 10,000 files runs at {small.throughput:.0f}"
            f" MiB/s ({small.seconds * 1000:.0f} ms), with ustar headers written directly for"
            " short ASCII names (`tarstream._header`; `tarfile` for the rest). The build itself"
            " is dominated by the runtimes extracting 10,000 files."
        )
    return "\n".join(out)
