"""``python -m dotfiles_container_manager doctor [--json] [--run]``.

Also installed as the ``dotfiles-container-doctor`` command (the same options). The only
code of the package that prints.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

__all__ = ["doctor_main", "main"]

_DOCTOR_HELP = (
    "Report docker and podman here: CLI path, client and server versions, whether the "
    "daemon/service answers, rootless, storage driver, the podman-docker shim, the "
    "environment in force and which runtime create() would pick, with a hint for every "
    "problem. Exit status 0 when create() would succeed (and, with --run, a container "
    "started on its runtime), else 1."
)


def _doctor_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--run",
        action="store_true",
        help="also prove a container can start (builds and removes a tiny busybox image)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="limit for each CLI call (default 15)",
    )


def _doctor(args: argparse.Namespace) -> int:
    from . import doctor

    options = {} if args.timeout is None else {"timeout": args.timeout}
    try:
        report = doctor.examine(run=args.run, **options)
    except KeyboardInterrupt:
        return 130
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(doctor.render(report))
    return report.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m dotfiles_container_manager``."""
    parser = argparse.ArgumentParser(
        prog="python -m dotfiles_container_manager",
        description="dotfiles-container-manager's command line.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _doctor_options(
        commands.add_parser("doctor", help="check docker and podman here", description=_DOCTOR_HELP)
    )
    args = parser.parse_args(argv)
    return _doctor(args)


def doctor_main(argv: Sequence[str] | None = None) -> int:
    """The ``dotfiles-container-doctor`` command."""
    parser = argparse.ArgumentParser(prog="dotfiles-container-doctor", description=_DOCTOR_HELP)
    _doctor_options(parser)
    return _doctor(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
