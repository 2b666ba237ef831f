"""The doctor: which runtimes work here, which one ``create()`` would pick, and for every
problem what to do.

``python -m dotfiles_container_manager doctor [--json] [--run]`` prints :func:`examine`'s
:class:`Report` (the command-line entry point in ``__main__`` is the only code that prints).
Problems and hints come from the same :mod:`.diagnosis` the library's exceptions use.

``run=True`` also proves that a container can start on each runtime that answers: ``podman
info`` and ``podman ps`` succeed even where every start fails with rc 126 (rlimits above
the machine's hard limits, crun on a hybrid cgroup layout). The proof builds a two-file image
in memory (``FROM scratch`` plus the host's static busybox), runs ``busybox true`` in it and
removes both.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import Any

from .core.base import ContainerEngine
from .core.enums import ContainerRuntime
from .core.exceptions import ContainerError, RuntimeNotAvailableError
from .core.types import BuildContext, RunConfig
from .diagnosis import diagnose_error
from .factory import _PREFERENCE, ENV_RUNTIME, ContainerEngineFactory
from .implementations.docker.engine import DockerEngine

__all__ = [
    "ENVIRONMENT",
    "Report",
    "RunCheck",
    "RuntimeReport",
    "examine",
    "find_static_busybox",
    "render",
]

#: The environment variables that change what the library or the CLIs reach.
ENVIRONMENT = (
    ENV_RUNTIME,
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "CONTAINER_HOST",
    "CONTAINERS_CONF",
)
#: Seconds the doctor gives one CLI call (the factory's probe included).
DEFAULT_TIMEOUT = 15.0
_LABEL = "dcm-doctor"
_VERSION = re.compile(r"version\s+v?(\d[^\s,]*)", re.IGNORECASE)


@dataclass
class RunCheck:
    """Whether a container could start (``doctor --run``).

    ``ok`` is None when the check could not be made (no static busybox to build from).
    """

    ok: bool | None
    seconds: float = 0.0
    problem: str | None = None
    hint: str | None = None
    cause: str | None = None


@dataclass
class RuntimeReport:
    """One runtime as the doctor found it. ``available`` is what
    ``ContainerEngineFactory.is_available(runtime)`` says."""

    runtime: str
    available: bool = False
    #: The CLI found on PATH (its path), or None.
    command: str | None = None
    #: The server/engine version, as ``engine.version()`` reports it.
    version: str | None = None
    client_version: str | None = None
    server_version: str | None = None
    #: Whether the daemon/service answered the factory's probe.
    answers: bool = False
    rootless: bool | None = None
    storage_driver: str | None = None
    cgroup_version: str | None = None
    oci_runtime: str | None = None
    #: docker's current context, as the CLI reports it.
    context: str | None = None
    #: A ``docker`` command that is podman (the podman-docker shim), by path.
    shim: str | None = None
    #: Further CLIs of that name on PATH, shadowed by ``command``.
    other_commands: list[str] = field(default_factory=list)
    problem: str | None = None
    hint: str | None = None
    #: The diagnosis' cause (``diagnosis`` module) when known.
    cause: str | None = None
    run: RunCheck | None = None

    def note(self, problem: str, hint: str | None, cause: str | None) -> None:
        """Record a problem unless one is recorded already (the first is the one to fix)."""
        if self.problem is None:
            self.problem, self.hint, self.cause = problem, hint, cause

    def add_problem(self, error: ContainerError) -> None:
        """Record ``error`` as the diagnosis explains it."""
        found = diagnose_error(error)
        if found is None:
            self.note(error.message, error.hint, None)
        else:
            self.note(found.problem, error.hint or found.hint, found.cause)


@dataclass
class Report:
    """What :func:`examine` found. ``selected`` is the runtime ``create()`` would give (None:
    it would raise); ``ok`` is True when it would succeed and, after ``run``, a container
    started on it. ``to_dict()`` is the ``--json`` document."""

    selected: str | None
    selected_command: str | None
    ok: bool
    environment: dict[str, str | None]
    runtimes: list[RuntimeReport]
    problem: str | None = None
    hint: str | None = None
    ran: bool = False

    @property
    def exit_status(self) -> int:
        """0 when :attr:`ok`, else 1."""
        return 0 if self.ok else 1

    def to_dict(self) -> dict[str, Any]:
        """The report as one JSON-ready object (the contract's doctor shape plus details)."""
        return asdict(self)


# ------------------------------------------------------------------ facts


def _on_path(name: str, environ: Mapping[str, str]) -> list[str]:
    """Every executable called ``name`` on PATH, in PATH order (``which -a``)."""
    found: list[str] = []
    for directory in environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(directory or ".", name)
        real = os.path.realpath(candidate)
        if (
            os.path.isfile(candidate)
            and os.access(candidate, os.X_OK)
            and real not in (os.path.realpath(f) for f in found)
        ):
            found.append(candidate)
    return found


def _is_podman_shim(path: str) -> bool:
    """True for a ``docker`` that is podman: a link to it, or the podman-docker script."""
    if os.path.basename(os.path.realpath(path)) == "podman":
        return True
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return head.startswith(b"#!") and b"podman" in head


def _client_version(command: str | None, timeout: float) -> str | None:
    """``CLI --version``: needs no daemon, so it answers when the server does not."""
    if command is None:
        return None
    try:
        result = subprocess.run(
            [command, "--version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(result.stdout)
    return match.group(1) if match else None


def find_static_busybox(environ: Mapping[str, str] | None = None) -> str | None:
    """A statically linked busybox on this host (``/bin/busybox`` from busybox-static), or
    None. Only a static one runs in a ``FROM scratch`` image."""
    environ = os.environ if environ is None else environ
    for path in (*_on_path("busybox", environ), "/bin/busybox", "/usr/bin/busybox"):
        if os.path.isfile(path) and is_static_elf(path):
            return path
    return None


def is_static_elf(path: str) -> bool:
    """True when ``path`` is an ELF executable without a program interpreter (PT_INTERP)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(64)
            if len(header) < 52 or header[:4] != b"\x7fELF":
                return False
            wide, big = header[4] == 2, header[5] == 2

            def num(offset: int, size: int, data: bytes = header) -> int:
                return int.from_bytes(data[offset : offset + size], "big" if big else "little")

            phoff = num(0x20, 8) if wide else num(0x1C, 4)
            phentsize = num(0x36, 2) if wide else num(0x2A, 2)
            phnum = num(0x38, 2) if wide else num(0x2C, 2)
            for index in range(phnum):
                handle.seek(phoff + index * phentsize)
                if num(0, 4, handle.read(4)) == 3:  # PT_INTERP: dynamic
                    return False
            return phnum > 0
    except OSError:
        return False


def _describe(report: RuntimeReport, engine: ContainerEngine) -> None:
    """Versions, context, rootless, storage driver and OCI runtime of an engine that answers."""
    try:
        if isinstance(engine, DockerEngine):  # docker and podman: one version document
            data = engine.version_document()
            client = data.get("Client")
            client = client if isinstance(client, dict) else {}
            report.client_version = str(client.get("Version") or "") or None
            report.context = str(client.get("Context") or "") or None
            report.server_version = engine.server_version(data) or None
        else:
            report.server_version = engine.version() or None
        report.version = report.server_version
        info = engine.info()
        report.rootless = info.rootless
        report.storage_driver = info.storage_driver or None
        report.cgroup_version = info.cgroup_version or None
        raw = info.raw
        oci = raw.get("DefaultRuntime")
        host = raw.get("host")
        if oci is None and isinstance(host, dict) and isinstance(host.get("ociRuntime"), dict):
            oci = host["ociRuntime"].get("name")
        report.oci_runtime = str(oci) if oci else None
    except ContainerError as exc:
        report.add_problem(exc)


def run_check(engine: ContainerEngine) -> RunCheck:
    """Build a tiny image in memory, run ``busybox true`` in it, remove both."""
    busybox = find_static_busybox()
    if busybox is None:
        return RunCheck(
            ok=None,
            problem="no static busybox here to build the test image from: not checked",
            hint="install busybox-static (`sudo apt-get install busybox-static`)",
            cause="busybox-missing",
        )
    with open(busybox, "rb") as handle:
        binary = handle.read()
    tag = uuid.uuid4().hex[:12]
    image, name, labels = f"dcm-doctor-{tag}:1", f"dcm-doctor-{tag}", {_LABEL: tag}
    context = BuildContext(
        'FROM scratch\nCOPY busybox /bin/busybox\nCMD ["/bin/busybox", "true"]\n',
        files={"busybox": binary},
        executable=["busybox"],
        labels=labels,
    )
    started = time.monotonic()
    built, container = False, None
    try:
        engine.images.build(context, image)
        built = True
        container = engine.containers.run(
            RunConfig(image, name=name, command=["/bin/busybox", "true"], labels=labels)
        )
        code = engine.containers.wait(container, timeout=60)
        if code != 0:
            return RunCheck(
                ok=False,
                seconds=time.monotonic() - started,
                problem=f"a test container (`busybox true`) exited with {code}",
                hint=f"run a container by hand (`{engine.command} run --rm IMAGE true`) to "
                "see the runtime's own error",
            )
        return RunCheck(ok=True, seconds=time.monotonic() - started)
    except ContainerError as exc:
        found = diagnose_error(exc)
        problem = found.problem if found else f"a test container could not start: {exc.message}"
        return RunCheck(
            ok=False,
            seconds=time.monotonic() - started,
            problem=problem,
            hint=exc.hint or (found.hint if found else None),
            cause=found.cause if found else None,
        )
    finally:
        _remove_quietly(engine, container or name, built and image)


def _remove_quietly(engine: ContainerEngine, container: str, image: str | bool) -> None:
    with suppress(ContainerError):
        if engine.containers.exists(container):
            engine.containers.remove(container, force=True)
    if isinstance(image, str):
        try:
            engine.images.remove(image)  # its one container is gone
        except ContainerError:
            with suppress(ContainerError):
                engine.images.remove(image, force=True)


# ------------------------------------------------------------------ the report


def examine(*, run: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Report:
    """Look at docker and podman here and say which one ``create()`` would pick.

    Args:
        run: Also prove that a container can start on each runtime that answers.
        timeout: Limit, in seconds, for each CLI call of the examination.

    The CLIs run in this process's environment, as the library's calls do.
    """
    environ = os.environ
    reports: list[RuntimeReport] = []
    engines: dict[ContainerRuntime, ContainerEngine | None] = {}
    for runtime in _PREFERENCE:
        report = RuntimeReport(runtime.value)
        paths = _on_path(runtime.value, environ)
        report.command = paths[0] if paths else None
        report.other_commands = paths[1:]
        if runtime is ContainerRuntime.DOCKER:
            report.shim = next((p for p in paths if _is_podman_shim(p)), None)
        engine: ContainerEngine | None
        try:
            engine = ContainerEngineFactory.create(runtime, timeout=timeout)
        except RuntimeNotAvailableError as exc:
            engine = None
            report.add_problem(exc)
            report.client_version = _client_version(report.command, timeout)
        engines[runtime] = engine
        if engine is not None:
            report.answers = True
            report.available = engine.runtime is runtime
            _describe(report, engine)
            if not report.available:  # a docker that is podman
                report.shim = report.shim or report.command
                report.note(
                    f"the docker command {report.shim} is podman (the podman-docker shim)",
                    "nothing to do if podman is what you want: create() uses it as podman; "
                    "to use Docker itself, install Docker Engine and put its CLI first on PATH",
                    "podman-docker-shim",
                )
            if run:
                report.run = run_check(engine)
                if report.run.ok is False and report.run.problem:
                    report.note(report.run.problem, report.run.hint, report.run.cause)
        reports.append(report)

    selected: ContainerEngine | None = None
    problem = hint = None
    chosen = environ.get(ENV_RUNTIME)
    if chosen:
        try:
            wanted = ContainerRuntime(chosen.lower())
        except ValueError:
            problem = f"{ENV_RUNTIME}={chosen!r} names no runtime: create() raises"
            hint = f"set {ENV_RUNTIME} to docker or podman, or unset it"
        else:
            selected = engines.get(wanted)
            if selected is None:
                problem = f"{ENV_RUNTIME}={chosen} chooses {wanted.value}, which is not available"
                hint = f"fix {wanted.value} (its hint above), or unset {ENV_RUNTIME}"
    else:
        selected = next((e for e in engines.values() if e is not None), None)
        if selected is None:
            problem = "neither docker nor podman is available: create() raises"
            hint = "fix either runtime (its hint above)"
    ok = selected is not None
    if ok and run:  # the selected engine's report: its runtime's, or docker's for a shim
        source = next(r for r, e in zip(reports, engines.values(), strict=True) if e is selected)
        ok = source.run is None or source.run.ok is not False
    return Report(
        selected=None if selected is None else selected.runtime.value,
        selected_command=None if selected is None else _resolved(selected.command, environ),
        ok=ok,
        environment={name: environ.get(name) for name in ENVIRONMENT},
        runtimes=reports,
        problem=problem,
        hint=hint,
        ran=run,
    )


def _resolved(command: str, environ: Mapping[str, str]) -> str:
    return shutil.which(command, path=environ.get("PATH")) or command


def render(report: Report) -> str:
    """The report as text for a terminal."""
    lines = []
    for rt in report.runtimes:
        state = "available" if rt.available else ("answers" if rt.answers else "NOT AVAILABLE")
        where = rt.command or "(not on PATH)"
        if rt.other_commands:
            where += f" (also on PATH: {', '.join(rt.other_commands)})"
        lines.append(f"{rt.runtime:<7} {state:<14} {where}")
        facts = []
        if rt.client_version:
            facts.append(f"client {rt.client_version}")
        if rt.server_version:
            facts.append(f"server {rt.server_version}")
        if rt.answers:
            facts.append("rootless" if rt.rootless else "rootful")
        if rt.storage_driver:
            facts.append(f"storage {rt.storage_driver}")
        if rt.cgroup_version:
            facts.append(f"cgroup v{rt.cgroup_version}")
        if rt.oci_runtime:
            facts.append(f"OCI runtime {rt.oci_runtime}")
        if rt.context:
            facts.append(f"context {rt.context}")
        if rt.shim:
            facts.append(f"podman-docker shim: {rt.shim}")
        if facts:
            lines.append(f"{'':<8}{', '.join(facts)}")
        if rt.run is not None:
            if rt.run.ok:
                lines.append(f"{'':<8}run: a container started ({rt.run.seconds:.1f} s)")
            elif rt.run.ok is None:
                lines.append(f"{'':<8}run: not checked")
            else:
                lines.append(f"{'':<8}run: FAILED")
        if rt.problem:
            lines.append(f"{'':<8}problem: {rt.problem}")
        if rt.hint:
            lines.append(f"{'':<8}hint: {rt.hint}")
    lines.append("")
    env = [f"{k}={v}" if v is not None else f"{k} unset" for k, v in report.environment.items()]
    lines.append(f"environment: {', '.join(env)}")
    if report.selected:
        lines.append(f"create() picks: {report.selected} ({report.selected_command})")
    else:
        lines.append("create() picks: nothing (it raises)")
    if report.problem:
        lines.append(f"problem: {report.problem}")
    if report.hint:
        lines.append(f"hint: {report.hint}")
    if not report.ran:
        lines.append(
            "(podman info and ps answer even where no container can start: "
            "add --run to prove one can)"
        )
    return "\n".join(lines)
