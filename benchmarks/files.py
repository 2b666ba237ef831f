"""Files in and out, and one-shot runs: the library against the raw CLI with the same tar.

``python -m benchmarks.files [--runtime docker|podman|all] [--rounds N]`` prints a markdown
table. Cases (each interleaved with its baseline, medians of per-round ratios):

- ``put_files`` of one 1 MiB file and of 1,000 small files, against ``cp - C:/dir`` fed the
  very same tar bytes by ``subprocess.run`` (with a private ``TMPDIR`` too, as podman
  litters it);
- ``get_file`` of the 1 MiB file, against ``cp C:path -`` read whole by ``subprocess.run``;
- ``copy_from`` of the 1,000 files, against the CLI's own extraction ``cp C:dir HOSTDIR``
  (the same work), and, for information, against ``cp C:dir -`` read whole (no file
  written: the difference is the cost of writing 1,000 files). Note the CPU columns count
  this process only: the raw CLI's extraction happens in the child;
- ``run_once(true)`` against ``run --rm IMAGE true``;
- on docker, build → ``run_once`` against docker-py's build → ``containers.run(remove=True)``
  (the ``bench`` extra; skipped when docker-py is missing).

Targets (the issue): put/get ≤ 1.05 of raw, run_once ≤ 1.03 of raw, build → run_once no
slower than docker-py.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dotfiles_container_manager import BuildContext, ContainerEngineFactory, RunConfig
from dotfiles_container_manager.implementations.cli.tarstream import files_tar_chunks

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
    ms,
    now,
    progress,
    quartiles,
    table,
)

MIB = 1024 * 1024
ONE_MIB = {"big.bin": os.urandom(MIB)}
SMALL = {f"d{i % 10}/f{i:04d}.txt": f"small file {i}\n".encode() * 4 for i in range(1000)}
DOCKERFILE = 'FROM dcm-test-base:latest\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n'
MESSAGE = {"msg.txt": b"hello from dcm-bench\n"}


def _tar(files: dict[str, bytes]) -> bytes:
    return b"".join(bytes(c) for c in files_tar_chunks(files, (), 315532800))


@dataclass
class Row:
    runtime: str
    case: str
    ours: float
    raw: float
    ratio: float
    q: tuple[float, float]
    target: str
    #: Median CPU seconds of this process per call, ours and the baseline's.
    cpu: tuple[float, float] = (0.0, 0.0)
    rounds: int = 0
    #: Medians of the steps of a workflow, in seconds ("build, ours": ...).
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def floor(self) -> float:
        """ours/baseline predicted from CPU alone: (baseline + our extra CPU) / baseline.
        On a loaded machine wall times swing far more than CPU times do."""
        return (self.raw + max(self.cpu[0] - self.cpu[1], 0.0)) / self.raw


def _pair(
    runtime: str,
    case: str,
    ours: Callable[[], object],
    raw: Callable[[], object],
    rounds: int,
    target: str,
    baseline: str = "raw",
) -> Row:
    cpu: dict[str, list[float]] = {}
    samples = interleaved([[("ours", ours), (baseline, raw)]], rounds, warmup=2, cpu=cpu)
    ratios = [a / b for a, b in zip(samples["ours"], samples[baseline], strict=True)]
    return Row(
        runtime,
        case,
        median(samples["ours"]),
        median(samples[baseline]),
        median(ratios),
        quartiles(ratios),
        target,
        (median(cpu["ours"]), median(cpu[baseline])),
        len(ratios),
    )


def measure(
    runtime: Runtime, rounds: int, work: str, *, copies: bool = True, workflow_rounds: int = 0
) -> list[Row]:
    """Every case on ``runtime``; ``copies=False`` leaves out the two ``copy_from`` cases
    (seconds per call: ``python -m benchmarks`` does without them). The docker workflow takes
    ``workflow_rounds`` (default: ``rounds``)."""
    engine: Any = ContainerEngineFactory.create(runtime.name)
    rows: list[Row] = []
    name = f"{PREFIX}-files"
    container = engine.containers.run(
        RunConfig(BASE_IMAGE, name=name, command=["sleep", "3600"], labels=LABELS)
    )
    raw_tmp = tempfile.mkdtemp(prefix=f"{PREFIX}-raw-tmp-", dir=work)
    raw_env = {**os.environ, "TMPDIR": raw_tmp}
    cli = runtime.cli
    heavy = max(rounds // 3, 3)  # the 1,000-file cases take seconds per call

    def raw_put(tar: bytes, directory: str) -> Callable[[], object]:
        return lambda: subprocess.run(
            [cli, "cp", "-", f"{container}:{directory}"],
            input=tar,
            capture_output=True,
            check=True,
            env=raw_env,
        )

    def raw_get(path: str) -> Callable[[], object]:
        return lambda: subprocess.run(
            [cli, "cp", f"{container}:{path}", "-"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=True,
            env=raw_env,
        )

    try:
        engine.containers.exec(container, ["mkdir", "-p", "/b1", "/b2"])
        progress(f"{runtime.name}: put_files / get_file")
        rows.append(
            _pair(
                runtime.name,
                "put_files 1 MiB",
                lambda: engine.containers.put_files(container, "/b1", ONE_MIB),
                raw_put(_tar(ONE_MIB), "/b1"),
                rounds,
                "≤ 1.05",
            )
        )
        rows.append(
            _pair(
                runtime.name,
                "put_files 1,000 files",
                lambda: engine.containers.put_files(container, "/b2", SMALL),
                raw_put(_tar(SMALL), "/b2"),
                heavy,
                "≤ 1.05",
            )
        )
        rows.append(
            _pair(
                runtime.name,
                "get_file 1 MiB",
                lambda: engine.containers.get_file(container, "/b1/big.bin"),
                raw_get("/b1/big.bin"),
                rounds,
                "≤ 1.05",
            )
        )
        outputs = tempfile.mkdtemp(prefix="out-", dir=work)
        counter = [0]

        def fresh_out() -> str:
            # A new empty directory per call (removed with the work directory): no cleanup
            # inside the timed calls.
            counter[0] += 1
            path = os.path.join(outputs, str(counter[0]))
            os.mkdir(path)
            return path

        def ours_copy() -> None:
            engine.containers.copy_from(container, "/b2", fresh_out())

        def raw_extract() -> None:
            subprocess.run(
                [cli, "cp", f"{container}:/b2", fresh_out()],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=True,
                env=raw_env,
            )

        def raw_stdout() -> None:
            fresh_out()  # the same mkdir as the others
            raw_get("/b2")()

        if copies:
            rows.append(
                _pair(
                    runtime.name,
                    "copy_from 1,000 files vs cp C:dir - (no files written)",
                    ours_copy,
                    raw_stdout,
                    heavy,
                    "—",
                )
            )
            rows.append(
                _pair(
                    runtime.name,
                    "copy_from 1,000 files vs cp C:dir HOSTDIR (the CLI extracts)",
                    ours_copy,
                    raw_extract,
                    heavy,
                    "≤ 1.05",
                )
            )
        progress(f"{runtime.name}: run_once")
        config = RunConfig(BASE_IMAGE, command=["true"])
        rows.append(
            _pair(
                runtime.name,
                "run_once(true) vs run --rm",
                lambda: engine.containers.run_once(config),
                lambda: subprocess.run(
                    [cli, "run", "--rm", BASE_IMAGE, "true"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    check=True,
                ),
                rounds,
                "≤ 1.03",
            )
        )
        if runtime.name == "docker":
            row = _workflow(engine, workflow_rounds or rounds)
            if row is not None:
                rows.append(row)
    finally:
        engine.containers.remove(container, force=True)
        shutil.rmtree(raw_tmp, ignore_errors=True)
    return rows


def _workflow(engine: Any, rounds: int) -> Row | None:
    try:
        import docker  # type: ignore[import-untyped]
    except ImportError:
        progress("docker-py not installed (pip install -e '.[bench]'): workflow skipped")
        return None
    client = docker.from_env()
    ours_tag, theirs_tag = f"{PREFIX}-wf-lib:1", f"{PREFIX}-wf-dpy:1"
    steps: dict[str, list[float]] = {}

    def timed(step: str, call: Callable[[], Any]) -> Any:
        started = now()
        value = call()
        steps.setdefault(step, []).append(now() - started)
        return value

    def ours() -> None:
        context = BuildContext(DOCKERFILE, files=MESSAGE, labels=LABELS)
        timed("build, ours", lambda: engine.images.build(context, ours_tag))
        result = timed(
            "run, ours", lambda: engine.containers.run_once(RunConfig(ours_tag, labels=LABELS))
        )
        if "hello" not in result.stdout:
            raise RuntimeError("no output")

    def theirs() -> None:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in {"Dockerfile": DOCKERFILE.encode(), **MESSAGE}.items():
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        buffer.seek(0)
        timed(
            "build, docker-py",
            lambda: client.images.build(
                fileobj=buffer, custom_context=True, tag=theirs_tag, labels=LABELS, rm=True
            ),
        )
        output = timed(
            "run, docker-py", lambda: client.containers.run(theirs_tag, remove=True, labels=LABELS)
        )
        if b"hello" not in output:
            raise RuntimeError("no output")

    progress("docker: build → run_once vs docker-py build → containers.run(remove=True)")
    row = _pair(
        "docker",
        "build → run_once vs docker-py build → run(remove=True)",
        ours,
        theirs,
        rounds,
        "≤ 1.00",
        baseline="docker-py",
    )
    row.steps = {step: median(times) for step, times in steps.items()}
    return row


def render(rows: list[Row]) -> str:
    return table(
        [
            "runtime",
            "case",
            "rounds",
            "ours ms",
            "baseline ms",
            "ratio (median)",
            "ratio q1-q3",
            "CPU ms ours/baseline",
            "CPU floor",
            "target",
        ],
        [
            (
                r.runtime,
                r.case,
                r.rounds,
                ms(r.ours),
                ms(r.raw),
                f"{r.ratio:.3f}",
                f"{r.q[0]:.3f}-{r.q[1]:.3f}",
                f"{ms(r.cpu[0])}/{ms(r.cpu[1])}",
                f"{r.floor:.3f}",
                r.target,
            )
            for r in rows
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files", description=__doc__)
    parser.add_argument("--runtime", choices=[*RUNTIMES, "all"], default="all")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", help="also write the table (markdown) to this file")
    args = parser.parse_args(argv)
    names = RUNTIMES if args.runtime == "all" else (args.runtime,)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix=f"{PREFIX}-") as work:
        for name in names:
            runtime = find_runtime(name)
            if runtime is None:
                continue
            try:
                rows += measure(runtime, args.rounds, work)
            finally:
                removed = cleanup(runtime)
                if removed:
                    progress(f"{name}: removed {', '.join(removed)}")
    text = render(rows)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
