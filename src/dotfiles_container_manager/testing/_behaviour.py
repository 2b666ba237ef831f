"""What a fake container's processes do: the scripts first, then a few builtin commands.

A script rule applies to a container when its target names the container (name, id or an
id prefix of 12+ digits), the container's image (reference or id), or is None (any
container), and its command prefix starts the command. The most specific target wins
(container, then image, then any); among equals, the rule added last.

Without a rule, a few commands behave as a busybox image's would (``true``, ``false``,
``echo``, ``sleep``, ``pwd``, ``env``, ``hostname``, ``cat`` of its standard
input, and ``sh -c "exit N"``). Any other ``exec`` is a missing executable (127); any other
main command runs until it is stopped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

from ..core.types import ExecResult
from ..implementations.cli.parsing import normalize_reference
from ._model import SERVICE, Container, ExecCall, ExecRule, Main, RunRule
from ._store import Store

__all__ = ["exec_result", "main_for"]

R = TypeVar("R", ExecRule, RunRule)

_EXIT = re.compile(r"\s*exit\s+(\d{1,3})\s*;?\s*")
_NOOP = frozenset({"true", ":", ""})
_SHELLS = frozenset({"sh", "ash", "bash", "dash", "zsh"})


def _rank(store: Store, target: str | None, container: Container) -> int | None:
    """0: the rule names the container; 1: its image; 2: any container; None: not this one."""
    if target is None:
        return 2
    if target in (container.name, container.id) or (
        len(target) >= 12 and container.id.startswith(target)
    ):
        return 0
    if normalize_reference(target) == container.image or store.image_matches(
        target, container.image_id
    ):
        return 1
    return None


def _best(store: Store, rules: Sequence[R], container: Container, argv: Sequence[str]) -> R | None:
    best: R | None = None
    best_rank = 3
    for rule in reversed(rules):
        if tuple(argv[: len(rule.prefix)]) != rule.prefix:
            continue
        rank = _rank(store, rule.target, container)
        if rank is not None and rank < best_rank:
            best, best_rank = rule, rank
            if rank == 0:
                break
    return best


def _name(argv: Sequence[str]) -> str:
    return argv[0].rsplit("/", 1)[-1] if argv else ""


def _lines(items: Sequence[str]) -> bytes:
    return "".join(f"{item}\n" for item in items).encode()


def _simple(argv: Sequence[str], env: Mapping[str, str], working_dir: str) -> ExecResult | None:
    """The builtin commands that need no standard input."""
    name, args = _name(argv), list(argv[1:])
    if name == "true":
        return ExecResult(0)
    if name == "false":
        return ExecResult(1)
    if name == "echo":
        newline = True
        if args[:1] == ["-n"]:
            newline, args = False, args[1:]
        text = " ".join(args) + ("\n" if newline else "")
        return ExecResult(0, text.encode())
    if name == "sleep" and len(args) == 1:
        return ExecResult(0)
    if name == "pwd" and not args:
        return ExecResult(0, f"{working_dir}\n".encode())
    if name == "env" and not args:
        return ExecResult(0, _lines([f"{k}={v}" for k, v in env.items()]))
    if name == "hostname" and not args:
        return ExecResult(0, f"{env.get('HOSTNAME', '')}\n".encode())
    if name in _SHELLS and len(args) == 2 and args[0] == "-c":
        script = args[1].strip()
        if script in _NOOP:
            return ExecResult(0)
        if script == "false":
            return ExecResult(1)
        match = _EXIT.fullmatch(script)
        if match:
            return ExecResult(int(match.group(1)) % 256)
    return None


def _not_found(store: Store, argv: Sequence[str]) -> ExecResult:
    command = argv[0]
    reason = (
        f"stat {command}: no such file or directory"
        if "/" in command
        else "executable file not found in $PATH"
    )
    detail = f'exec failed: unable to start container process: exec: "{command}": {reason}'
    message = (
        f"Error: runc: {detail}: OCI runtime attempted to invoke a command that was not found\n"
        if store.podman
        else f"OCI runtime exec failed: {detail}: unknown\r\n"
    )
    hint = "(fake engine: not a builtin and not scripted; see engine.script.exec)\n"
    return ExecResult(127, b"", (message + hint).encode())


def exec_result(store: Store, container: Container, call: ExecCall) -> ExecResult:
    """What ``exec`` returns for ``call`` in ``container``."""
    rule = _best(store, store.exec_rules, container, call.command)
    if rule is not None:
        if isinstance(rule.result, ExecResult):
            return rule.result
        result = rule.result(call)
        if not isinstance(result, ExecResult):
            raise TypeError(f"a scripted exec handler must return an ExecResult, not {result!r}")
        return result
    name = _name(call.command)
    if name == "cat":
        if len(call.command) == 1:
            return ExecResult(0, call.input or b"")
        missing = "".join(
            f"cat: can't open '{a}': No such file or directory\n" for a in call.command[1:]
        )
        return ExecResult(1, b"", missing.encode())
    if name in _SHELLS and len(call.command) == 1:
        return ExecResult(0)  # reads its (empty) standard input and ends
    found = _simple(call.command, call.environment, call.working_dir)
    return found if found is not None else _not_found(store, call.command)


@lru_cache(maxsize=64)
def _sleeper(duration: str) -> Main:
    try:
        return Main(sleep=float(duration))
    except ValueError:
        return SERVICE  # "infinity", or a suffix: runs until stopped


def main_for(store: Store, container: Container) -> Main:
    """What the container's main process does when it starts."""
    argv = container.argv
    if store.run_rules:
        rule = _best(store, store.run_rules, container, argv)
        if rule is not None:
            return rule.main
    name = _name(argv)
    if name == "sleep" and len(argv) == 2:
        return _sleeper(argv[1])
    if name in ("cat", *_SHELLS) and len(argv) == 1:
        return Main(exit_code=0)  # standard input is empty: they end at once
    env = {**container.env, "HOSTNAME": container.hostname}
    found = _simple(argv, env, container.working_dir or "/")
    if found is not None and name != "sleep":
        return Main(found.stdout_bytes, found.stderr_bytes, exit_code=found.exit_code)
    return SERVICE
