"""The cold script: a fresh interpreter that imports the package, creates an engine and lists
the containers, against its floor (an empty interpreter plus the same raw CLI calls).

Two more interpreters per round explain the difference: one that imports only the
standard-library modules the script loads (``stdlib``: what a JSON-parsing, process-spawning
program cannot do without), and one that also imports the package's modules the script loads
without making a CLI call (``import``)."""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass, field

from .common import Runtime, child_env, elapsed, median, now, venv_python

SCRIPT = (
    "from dotfiles_container_manager import ContainerEngineFactory;"
    " ContainerEngineFactory.create({name!r}).containers.list()"
)
# Runs the script once with CommandRunner.argv recorded: the floor is made of exactly the CLI
# calls the library made (docker: `version`, `ps`; podman lists with `-a` and filters).
# It also lists the modules the script loaded (json itself is imported last, so that it
# counts as the script's).
_RECORD = """
import sys
before = set(sys.modules)
from dotfiles_container_manager.implementations.cli import runner
calls = []
real = runner.CommandRunner.argv
def argv(self, args):
    calls.append(list(args))
    return real(self, args)
runner.CommandRunner.argv = argv
from dotfiles_container_manager import ContainerEngineFactory
ContainerEngineFactory.create({name!r}).containers.list()
loaded = sorted(set(sys.modules) - before)
import json
print(json.dumps({{"calls": calls, "modules": loaded}}))
"""
#: The package's modules the script loads, without a CLI call.
_IMPORT = (
    "from dotfiles_container_manager import ContainerEngineFactory as F;"
    " F.engine_class({name!r})({name!r}).containers"
)


def library_calls(runtime: Runtime) -> tuple[list[list[str]], list[str]]:
    """The CLI argument lists the script makes on ``runtime``, and the top-level
    standard-library modules it loads (beyond the interpreter's own), recorded in a child."""
    output = subprocess.run(
        [venv_python(), "-c", _RECORD.format(name=runtime.name)],
        check=True,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    data = json.loads(output)
    stdlib = sorted(
        {m.split(".")[0] for m in data["modules"]} - {"dotfiles_container_manager", "_thread"}
    )
    return data["calls"], [m for m in stdlib if not m.startswith("_")]


@dataclass
class ColdResult:
    """Medians over interleaved rounds, in seconds; ``ratios`` one per round."""

    rounds: int = 0
    script: float = 0.0
    python: float = 0.0
    calls: dict[str, float] = field(default_factory=dict)
    #: The raw calls of the floor, as the library made them (see :func:`library_calls`).
    argv: list[list[str]] = field(default_factory=list)
    #: The standard-library modules the script loads, and the medians of an interpreter that
    #: imports them (``stdlib``), then also the package's modules (``imports``).
    stdlib_modules: list[str] = field(default_factory=list)
    stdlib: float = 0.0
    imports: float = 0.0
    ratios: list[float] = field(default_factory=list)

    @property
    def floor(self) -> float:
        return self.python + sum(self.calls.values())

    @property
    def ratio(self) -> float:
        """Median script / (median empty interpreter + median of each raw call)."""
        return self.script / self.floor if self.floor else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        """A 95% interval of the median per-round ratio (order statistics)."""
        values = sorted(self.ratios)
        n = len(values)
        if n < 3:
            return (float("nan"), float("nan"))
        half = 0.98 * math.sqrt(n)
        low = max(int(n / 2 - half), 0)
        high = min(math.ceil(n / 2 + half), n - 1)
        return values[low], values[high]


def _timed(argv: list[str], env: dict[str, str]) -> float:
    started = now()
    subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return now() - started


def measure_cold(
    runtime: Runtime, *, min_rounds: int, max_rounds: int, deadline: float, resolve: float = 0.03
) -> ColdResult:
    """Rounds of (script, ``python -c pass``, each raw call), their order rotating, until the
    95% interval of the median ratio is narrower than ``resolve`` (3%), ``max_rounds``, or
    ``deadline`` (after ``min_rounds``)."""
    env = child_env()
    python = venv_python()
    calls, modules = library_calls(runtime)
    steps: list[tuple[str, list[str]]] = [
        ("script", [python, "-c", SCRIPT.format(name=runtime.name)]),
        ("python", [python, "-c", "pass"]),
        *((" ".join(args), [runtime.cli, *args]) for args in calls),
    ]
    # Not part of the floor: what explains the difference (see the module's docstring).
    explain = [
        ("stdlib", [python, "-c", f"import {', '.join(modules)}"]),
        ("imports", [python, "-c", _IMPORT.format(name=runtime.name)]),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    result = ColdResult(argv=calls, stdlib_modules=modules)
    times.update({name: [] for name, _ in explain})
    steps_floor = len(steps)
    steps += explain
    for index in range(max_rounds + 1):  # round 0 warms the page cache and .pyc files
        turn = index % len(steps)
        for name, argv in steps[turn:] + steps[:turn]:
            seconds = _timed(argv, env)
            if index:
                times[name].append(seconds)
        if index:
            floor = sum(times[name][-1] for name, _ in steps[1:steps_floor])
            result.ratios.append(times["script"][-1] / floor)
            result.rounds = index
            low, high = result.spread
            if index >= min_rounds and (high - low < resolve or elapsed() > deadline):
                break
    result.script = median(times["script"])
    result.python = median(times["python"])
    result.calls = {name: median(times[name]) for name, _ in steps[2:steps_floor]}
    result.stdlib = median(times["stdlib"])
    result.imports = median(times["imports"])
    return result
