"""Import cost: fresh interpreters, wall time and ``-X importtime``; third-party modules."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field

from .common import child_env, median, now, venv_python

PACKAGE = "dotfiles_container_manager"
#: What a user's first call needs: the factory and the docker engine (every module of a
#: CLI call but tarfile, which only builds import).
FULL = (
    f"import {PACKAGE} as d; d.ContainerEngineFactory.engine_class('docker');"
    " d.ContainerEngineFactory.engine_class('podman')"
)
CASES = {
    "pass": "pass",
    "import": f"import {PACKAGE}",
    "engine": FULL,
}
# Prints the modules that importing and using the package added that are neither the
# standard library nor the package itself (the startup's own modules are excluded).
_THIRD_PARTY = f"""
import json, sys
before = set(sys.modules)
import {PACKAGE} as d
from {PACKAGE}.implementations.cli.tarstream import context_tar_bytes
d.ContainerEngineFactory.engine_class('docker'); d.ContainerEngineFactory.engine_class('podman')
context_tar_bytes(d.BuildContext('FROM scratch\\n', files={{'a': b'x'}}))
added = sorted(set(sys.modules) - before)
top = sorted({{m.split('.')[0] for m in added}})
print(json.dumps({{
    "added": len(added),
    "foreign": [m for m in top if m not in sys.stdlib_module_names and m != "{PACKAGE}"],
}}))
"""


@dataclass
class ImportResult:
    """Medians over fresh interpreters, in seconds."""

    runs: int
    wall: dict[str, float] = field(default_factory=dict)
    importtime: dict[str, float] = field(default_factory=dict)
    modules_added: int = 0
    foreign: list[str] = field(default_factory=list)
    #: Standard-library modules the package imports itself, by cumulative time (first use).
    slowest: list[tuple[str, float]] = field(default_factory=list)
    direct: dict[str, float] = field(default_factory=dict)

    @property
    def import_cost(self) -> float:
        return self.wall["import"] - self.wall["pass"]

    @property
    def engine_cost(self) -> float:
        return self.wall["engine"] - self.wall["pass"]


def _importtime(code: str) -> tuple[float, dict[str, float]]:
    """Cumulative seconds of the imports ``code`` made (after startup), and for each
    standard-library module the package imports itself, its cumulative seconds."""
    marked = f"import sys; sys.stderr.write('@@start\\n'); {code}"
    proc = subprocess.run(
        [venv_python(), "-X", "importtime", "-c", marked],
        capture_output=True,
        text=True,
        check=True,
        env=child_env(),
    )
    lines: list[tuple[int, str, float]] = []  # (depth, module, cumulative s), children first
    started = False
    for line in proc.stderr.splitlines():
        if line == "@@start":
            started = True
            continue
        if not started or not line.startswith("import time:") or "|" not in line:
            continue
        parts = line.split("|")
        try:
            cumulative = int(parts[1])
        except ValueError:
            continue
        name = parts[2]
        depth = (len(name) - len(name.lstrip(" ")) - 1) // 2
        lines.append((depth, name.strip(), cumulative / 1e6))
    total = sum(c for depth, _, c in lines if depth == 0)
    direct: dict[str, float] = {}
    for index, (level, module, seconds) in enumerate(lines):
        if module.startswith(PACKAGE):
            continue
        parent = next((n for d, n, _ in lines[index + 1 :] if d < level), "")
        if parent.startswith(PACKAGE):  # imported by the package, not by another module
            direct[module] = max(direct.get(module, 0.0), seconds)
    return total, direct


def measure_imports(runs: int) -> ImportResult:
    """Wall time of ``python -c CODE`` for each case, interleaved, and ``-X importtime``."""
    result = ImportResult(runs)
    walls: dict[str, list[float]] = {name: [] for name in CASES}
    times: dict[str, list[float]] = {"import": [], "engine": []}
    selves: dict[str, list[float]] = {}
    env = child_env()
    for index in range(runs + 1):  # the first round warms the page cache and .pyc files
        names = list(CASES)
        names = names[index % 3 :] + names[: index % 3]
        for name in names:
            started = now()
            subprocess.run([venv_python(), "-c", CASES[name]], check=True, env=env)
            if index:
                walls[name].append(now() - started)
        for name in times:
            total, self_times = _importtime(CASES[name])
            if index:
                times[name].append(total)
                if name == "engine":
                    for module, value in self_times.items():
                        selves.setdefault(module, []).append(value)
    result.wall = {name: median(values) for name, values in walls.items()}
    result.importtime = {name: median(values) for name, values in times.items()}
    ranked = sorted(((m, median(v)) for m, v in selves.items()), key=lambda item: -item[1])
    result.slowest = ranked[:8]
    result.direct = dict(ranked)
    proc = subprocess.run(
        [venv_python(), "-c", _THIRD_PARTY], capture_output=True, text=True, check=True, env=env
    )
    data = json.loads(proc.stdout)
    result.modules_added = int(data["added"])
    result.foreign = [str(m) for m in data["foreign"]]
    return result
