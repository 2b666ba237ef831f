"""The cold script: a fresh interpreter that imports the package, creates an engine and lists
the containers, against its floor (an empty interpreter plus the same raw CLI calls)."""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass, field

from .common import Runtime, child_env, elapsed, median, now, venv_python

SCRIPT = (
    "from dotfiles_container_manager import ContainerEngineFactory;"
    " ContainerEngineFactory.create({name!r}).containers.list()"
)
#: The raw CLI calls the script makes: create()'s probe and list()'s one `ps`.
RAW_CALLS = (
    ("version", "--format", "{{json .}}"),
    ("ps", "--no-trunc", "--format", "{{json .}}"),
)


@dataclass
class ColdResult:
    """Medians over interleaved rounds, in seconds; ``ratios`` one per round."""

    rounds: int = 0
    script: float = 0.0
    python: float = 0.0
    calls: dict[str, float] = field(default_factory=dict)
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
    steps: list[tuple[str, list[str]]] = [
        ("script", [python, "-c", SCRIPT.format(name=runtime.name)]),
        ("python", [python, "-c", "pass"]),
        *((args[0], [runtime.cli, *args]) for args in RAW_CALLS),
    ]
    times: dict[str, list[float]] = {name: [] for name, _ in steps}
    result = ColdResult()
    for index in range(max_rounds + 1):  # round 0 warms the page cache and .pyc files
        turn = index % len(steps)
        for name, argv in steps[turn:] + steps[:turn]:
            seconds = _timed(argv, env)
            if index:
                times[name].append(seconds)
        if index:
            floor = sum(times[name][-1] for name, _ in steps[1:])
            result.ratios.append(times["script"][-1] / floor)
            result.rounds = index
            low, high = result.spread
            if index >= min_rounds and (high - low < resolve or elapsed() > deadline):
                break
    result.script = median(times["script"])
    result.python = median(times["python"])
    result.calls = {name: median(times[name]) for name, _ in steps[2:]}
    return result
