"""Build context: throughput and peak memory of making and sending the tar.

Two contexts: ``small`` (10,000 files of 1 KiB) and ``big`` (one 256 MiB file). The
Dockerfile does not copy them (``FROM base`` + ``LABEL``), so a build measures making the
tar, sending it through the CLI and the daemon receiving it, not writing a layer.

Each library measurement runs in a fresh child interpreter that first holds the files in
memory (the baseline: a caller of ``images.build`` has them already), resets its peak RSS
(``/proc/self/clear_refs``), then makes or builds; peak extra = ``VmHWM`` - baseline. The raw
baseline is the CLI run with the same argv and fed the same tar from a file.

Run as ``python -m benchmarks.buildctx MODE KIND [RUNTIME TAG | PATH]`` (a child).
"""

from __future__ import annotations

import gc
import json
import os
import random
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .common import LABELS, Runtime, child_env, elapsed, median, now, progress, venv_python

MiB = 1024 * 1024
KINDS = {
    "small": "10,000 files x 1 KiB",
    "big": "1 file x 256 MiB",
}
SMALL_FILES = 10_000
SMALL_SIZE = 1024
BIG_SIZE = 256 * MiB


def make_context(kind: str, tiny: bool = False) -> Any:
    """The :class:`BuildContext` for ``kind`` (same bytes in every process). ``tiny``: the
    same Dockerfile with one small file (fills the layer cache quickly)."""
    from dotfiles_container_manager import BuildContext

    rng = random.Random(kind)
    files: dict[str, bytes | str]
    if tiny:
        files = {"tiny.txt": b"tiny\n"}
    elif kind == "small":
        pool = rng.randbytes(SMALL_SIZE * 64)
        files = {
            f"d{i // 100:03d}/f{i:05d}.txt": pool[(i % 63) * SMALL_SIZE : (i % 63 + 1) * SMALL_SIZE]
            for i in range(SMALL_FILES)
        }
    elif kind == "big":
        files = {"big.bin": rng.randbytes(MiB) * (BIG_SIZE // MiB)}  # one allocation
    else:
        raise ValueError(kind)
    dockerfile = f"FROM dcm-test-base:latest\nLABEL dcm-bench-context={kind}\n"
    return BuildContext(dockerfile, files=files, labels=LABELS)


# --------------------------------------------------------------------------- child side


def _status_kib(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")  # resets VmHWM to the current RSS
    except OSError:
        return False
    return True


def _child(argv: list[str]) -> dict[str, Any]:
    from dotfiles_container_manager import ContainerEngineFactory
    from dotfiles_container_manager.implementations.cli import tarstream

    mode, kind = argv[0], argv[1]
    engine: Any = None
    if mode == "build":
        engine = ContainerEngineFactory.create(argv[2])  # imports done before the baseline
    context = make_context(kind, tiny=argv[-1] == "tiny")
    if mode == "write":
        with open(argv[2], "wb") as out:
            for chunk in tarstream.context_tar_chunks(context):
                out.write(chunk)
        return {}
    gc.collect()
    reset = _reset_peak()
    baseline = _status_kib("VmRSS") if reset else _status_kib("VmHWM")
    report: dict[str, Any] = {"context_bytes": context.size, "peak_reset": reset}
    started = now()
    if mode == "make":
        size = 0
        for chunk in tarstream.context_tar_chunks(context):
            size += len(chunk)
        report["tar_bytes"] = size
    elif mode == "build":
        runner = engine.runner
        seen: list[list[str]] = []

        def recording(original: Any) -> Any:
            def call(args: Any, **kwargs: Any) -> Any:
                seen.append(list(args))
                return original(args, **kwargs)

            return call

        # podman's build is streamed (its RUN step is stopped through the output on a cut).
        vars(runner)["run"] = recording(runner.run)
        vars(runner)["stream"] = recording(runner.stream)
        engine.images.build(context, argv[3])
        report["args"] = seen[0]
    else:
        raise ValueError(mode)
    report["seconds"] = now() - started
    report["baseline_kib"] = baseline
    report["peak_kib"] = _status_kib("VmHWM")
    return report


def run_child(*args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; return its report."""
    proc = subprocess.run(
        [venv_python(), "-m", "benchmarks.buildctx", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=Path(__file__).resolve().parent.parent,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"build child {args} failed: {proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


# --------------------------------------------------------------------------- parent side


@dataclass
class MakeResult:
    """Making the tar alone (no CLI), per context kind."""

    kind: str
    context_bytes: int
    tar_bytes: int
    seconds: float
    extra_kib: int

    @property
    def throughput(self) -> float:
        return self.tar_bytes / MiB / self.seconds

    @property
    def memory_limit_kib(self) -> float:
        return (self.context_bytes * 0.10 + 16 * MiB) / 1024


@dataclass
class BuildResult:
    """An end-to-end build, library vs the raw CLI fed the same tar from a file."""

    runtime: str
    kind: str
    context_bytes: int
    tar_bytes: int
    lib: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    #: The CLI fed the tar through a pipe by ``cat`` (the cost of a pipe, without Python).
    pipe: list[float] = field(default_factory=list)
    extra_kib: list[int] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return median(self.lib) / median(self.raw)

    @property
    def pipe_ratio(self) -> float:
        return median(self.pipe) / median(self.raw) if self.pipe else float("nan")

    @property
    def throughput(self) -> float:
        return self.tar_bytes / MiB / median(self.lib)

    @property
    def peak_extra_kib(self) -> int:
        return max(self.extra_kib) if self.extra_kib else 0

    @property
    def memory_limit_kib(self) -> float:
        return (self.context_bytes * 0.10 + 16 * MiB) / 1024


def measure_make(kind: str, reps: int) -> MakeResult:
    """Tar throughput and peak extra memory without a CLI (median time, max memory)."""
    reports = [run_child("make", kind) for _ in range(reps)]
    return MakeResult(
        kind,
        int(reports[0]["context_bytes"]),
        int(reports[0]["tar_bytes"]),
        median([float(r["seconds"]) for r in reports]),
        max(int(r["peak_kib"]) - int(r["baseline_kib"]) for r in reports),
    )


def write_tar(kind: str, path: Path) -> None:
    """Write the tar of ``kind`` to ``path`` (in a child, to keep this process small)."""
    run_child("write", kind, str(path))


def _raw_args(args: list[str], iidfile: Path) -> list[str]:
    out = list(args)
    out[out.index("--iidfile") + 1] = str(iidfile)
    return out


def _raw_build(runtime: Runtime, args: list[str], tar: Path, iidfile: Path) -> float:
    """The CLI with the library's argv, fed the tar from a file; seconds."""
    with tar.open("rb") as stdin:
        started = now()
        subprocess.run(
            [runtime.cli, *_raw_args(args, iidfile)],
            stdin=stdin,
            capture_output=True,
            check=True,
            timeout=600,
        )
        return now() - started


def _pipe_build(runtime: Runtime, args: list[str], tar: Path, iidfile: Path) -> float:
    """The CLI with the library's argv, fed the tar through a pipe by ``cat``; seconds."""
    started = now()
    with subprocess.Popen(["cat", str(tar)], stdout=subprocess.PIPE) as cat:
        subprocess.run(
            [runtime.cli, *_raw_args(args, iidfile)],
            stdin=cat.stdout,
            capture_output=True,
            check=True,
            timeout=600,
        )
    return now() - started


def measure_build(
    runtime: Runtime,
    kind: str,
    tar: Path,
    tar_bytes: int,
    reps: int,
    tag: str,
    work: Path,
    deadline: float | None = None,
) -> BuildResult:
    """Library build (child: time and memory) vs raw CLI from the tar file, interleaved."""
    result = BuildResult(runtime.name, kind, 0, tar_bytes)
    # Warm-up with a one-file context and the same Dockerfile: fills the layer cache (the
    # Dockerfile copies nothing, so the cache does not depend on the files) and tells the
    # argv the library runs.
    first = run_child("build", kind, runtime.name, tag, "tiny")
    args = [str(a) for a in first["args"]]
    if kind == "big":  # and one untimed send of the whole context (page cache, temp dirs)
        _raw_build(runtime, args, tar, work / f"iid-{runtime.name}-{kind}-warm")
    for rep in range(reps):
        if rep and deadline is not None and elapsed() > deadline:
            break
        order = ["lib", "raw", "pipe"] if kind == "big" else ["lib", "raw"]
        order = order[rep % len(order) :] + order[: rep % len(order)]
        for which in order:
            # The runtimes write the context to disk: flush the previous build's dirty
            # pages first, or its writeback slows whichever build comes next.
            os.sync()
            if which == "lib":
                report = run_child("build", kind, runtime.name, tag)
                result.context_bytes = int(report["context_bytes"])
                result.lib.append(float(report["seconds"]))
                result.extra_kib.append(int(report["peak_kib"]) - int(report["baseline_kib"]))
            else:
                iidfile = work / f"iid-{runtime.name}-{kind}-{rep}"
                build = _raw_build if which == "raw" else _pipe_build
                getattr(result, which).append(build(runtime, args, tar, iidfile))
    progress(
        f"{runtime.name}: build {kind}: lib {median(result.lib):.2f}s raw {median(result.raw):.2f}s"
    )
    return result


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1:])))
