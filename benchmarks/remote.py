"""The read calls against a second dockerd's unix socket: the library with ``host=`` vs the
same argv raw (``docker --host unix://… …``). Target: lib/raw ≤ 1.03, as locally.

``python -m benchmarks.remote`` runs this alone and prints the overhead table;
``python -m benchmarks --remote`` adds it to the full report as one more column group.
The second dockerd is the one the remote-engine tests start (tests/integration/
remote_engines.py): own socket, data root and bridge, stopped and removed afterwards.
"""

from __future__ import annotations

import argparse
import sys

from .common import BASE_IMAGE, Runtime, cleanup, elapsed, find_runtime, progress
from .overhead import OpResult, measure_overhead, setup_fixture

#: The column name of these results in the report.
NAME = "docker → 2nd dockerd"
#: Containers on the second daemon (fewer than the local fixture's 50: the reads' ratios do
#: not depend on it, the fixture's start-up time does).
CONTAINERS = 20


def measure_remote(
    docker: Runtime, *, rounds: int, deadline: float, containers: int = CONTAINERS
) -> list[OpResult]:
    """Start a second dockerd, put a fixture there, measure the reads, remove it all."""
    from tests.integration.remote_engines import second_dockerd

    progress("remote: starting a second dockerd (own socket and bridge)")
    with second_dockerd(BASE_IMAGE, docker.cli) as daemon:
        remote = Runtime(docker.name, docker.cli, docker.force_rm, docker.version, host=daemon.host)
        progress(f"remote: fixture on {daemon.host} ({containers} containers)")
        fixture = setup_fixture(remote, containers)
        try:
            progress("remote: overhead per operation")
            return measure_overhead(remote, fixture, rounds, deadline)
        finally:
            cleanup(remote)


def main(argv: list[str] | None = None) -> int:
    from .report import Results, overhead_section

    parser = argparse.ArgumentParser(prog="python -m benchmarks.remote", description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=90.0, help="time for the rounds")
    args = parser.parse_args(argv)
    docker = find_runtime("docker")
    if docker is None:
        print("docker does not answer here (or has no dcm-test-base:latest)", file=sys.stderr)
        return 1
    results = Results(mode="remote")
    results.overhead[NAME] = measure_remote(
        docker, rounds=args.rounds, deadline=elapsed() + args.seconds
    )
    print(overhead_section(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
