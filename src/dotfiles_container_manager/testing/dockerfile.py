"""A Dockerfile reader: what a build would put in the image's config, without running it.

It understands what shapes an image's metadata: ``FROM`` (stages, ``AS``, ``scratch``),
``ARG`` (build arguments and defaults, before and after ``FROM``), ``ENV``, ``LABEL``,
``CMD``, ``ENTRYPOINT``, ``SHELL``, ``WORKDIR``, ``USER``, ``EXPOSE``, ``VOLUME``,
``STOPSIGNAL``, ``HEALTHCHECK`` and ``ONBUILD``, with ``$VAR``/``${VAR}``/``${VAR:-x}``/
``${VAR:+x}`` substitution where docker does it. ``RUN`` is recorded but not run; ``COPY``
and ``ADD`` are checked against the build context's files. Anything the real builder refuses
for the same reasons (no ``FROM``, an unknown instruction, a missing ``COPY`` source, an
unknown ``--target``, a base image that is not present) raises :class:`DockerfileError`.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BuildPlan", "DockerfileError", "Instruction", "parse", "plan"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_SHELL = ["/bin/sh", "-c"]
_KNOWN = frozenset(
    {
        "ADD",
        "ARG",
        "CMD",
        "COPY",
        "ENTRYPOINT",
        "ENV",
        "EXPOSE",
        "FROM",
        "HEALTHCHECK",
        "LABEL",
        "MAINTAINER",
        "ONBUILD",
        "RUN",
        "SHELL",
        "STOPSIGNAL",
        "USER",
        "VOLUME",
        "WORKDIR",
    }
)
_VAR = re.compile(r"\\\$|\$(\w+)|\$\{(\w+)(?::([-+])([^}]*))?\}")
_DIRECTIVE = re.compile(r"#\s*(\w+)\s*=\s*(\S+)\s*$")
_FLAG = re.compile(r"--([\w-]+)(?:=(\S*))?")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)")
_NS = {"ns": 1, "us": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}


class DockerfileError(Exception):
    """The build fails: the message says why, in the builder's words."""


@dataclass(frozen=True)
class Instruction:
    """One instruction: its keyword (upper case), the text after it, and its line."""

    keyword: str
    text: str
    line: int


@dataclass
class BuildPlan:
    """What the build produces: the image config (docker's ``Config`` shape), the base
    image's id (None for ``scratch``) and a digest of everything that defines the image."""

    config: dict[str, Any]
    parent: str | None
    digest: str
    steps: list[str] = field(default_factory=list)


def parse(text: str) -> list[Instruction]:
    """The instructions of a Dockerfile (comments, blank lines and continuations handled;
    the ``escape`` parser directive is honoured)."""
    escape = "\\"
    lines = text.splitlines()
    # parser directives: only at the very top, before any other line
    for raw in lines:
        match = _DIRECTIVE.match(raw.strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            escape = match.group(2)
    instructions: list[Instruction] = []
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(lines, 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not buffer):
            continue
        if not buffer:
            start = number
        if stripped.endswith(escape):
            buffer.append(stripped[:-1].strip())
            continue
        buffer.append(stripped)
        joined = " ".join(part for part in buffer if part).strip()
        buffer = []
        if joined:
            keyword, _, rest = joined.partition(" ")
            instructions.append(Instruction(keyword.upper(), rest.strip(), start))
    if buffer:
        joined = " ".join(part for part in buffer if part).strip()
        if joined:
            keyword, _, rest = joined.partition(" ")
            instructions.append(Instruction(keyword.upper(), rest.strip(), start))
    return instructions


def substitute(text: str, env: Mapping[str, str]) -> str:
    """``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:+alternative}``; ``\\$`` is a
    literal ``$``. Unset variables are empty."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "\\$":
            return "$"
        name = match.group(1) or match.group(2)
        value = env.get(name, "")
        operator = match.group(3)
        if operator == "-":
            return value or substitute(match.group(4), env)
        if operator == "+":
            return substitute(match.group(4), env) if value else ""
        return value

    return _VAR.sub(replace, text) if "$" in text else text


def _json_list(text: str) -> list[str] | None:
    if not text.startswith("["):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    return None


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text, posix=True)
    except ValueError as exc:
        raise DockerfileError(f"cannot parse {text!r}: {exc}") from None


def _flags(text: str) -> tuple[dict[str, str], str]:
    """Leading ``--flag[=value]`` options, and the rest."""
    flags: dict[str, str] = {}
    rest = text
    while rest.startswith("--"):
        word, _, remainder = rest.partition(" ")
        match = _FLAG.fullmatch(word)
        if not match:
            break
        flags[match.group(1)] = match.group(2) or ""
        rest = remainder.strip()
    return flags, rest


def _pairs(text: str, keyword: str) -> list[tuple[str, str]]:
    """``k=v k2="v 2"`` pairs, or the legacy ``key value with spaces`` form."""
    words = _words(text)
    if not words:
        raise DockerfileError(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        key, _, value = text.partition(" ")
        if not value.strip():
            raise DockerfileError(f"{keyword} names can not be blank")
        return [(key, " ".join(_words(value)) if value.strip() else "")]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise DockerfileError(f"{keyword} syntax: expected key=value, got {word!r}")
        pairs.append((key, value))
    return pairs


def _duration(value: str) -> int:
    if not re.fullmatch(r"(?:\d+(?:\.\d+)?(?:ns|us|ms|s|m|h))+", value):
        raise DockerfileError(f"invalid duration {value!r}")
    return int(sum(float(n) * _NS[unit] for n, unit in _DURATION.findall(value)))


def _base_config() -> dict[str, Any]:
    """What ``FROM scratch`` starts from."""
    return {"Env": [f"PATH={DEFAULT_PATH}"], "Cmd": None, "Entrypoint": None, "Labels": None}


def _env_dict(config: Mapping[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in config.get("Env") or []:
        key, _, value = str(item).partition("=")
        env[key] = value
    return env


def plan(
    text: str,
    *,
    files: Mapping[str, bytes],
    build_args: Mapping[str, str],
    labels: Mapping[str, str],
    target: str | None,
    resolve: Callable[[str], tuple[str, Mapping[str, Any]] | None],
    docker: bool = True,
    nonce: int | None = None,
) -> BuildPlan:
    """The image a build of ``text`` makes.

    ``resolve(reference)`` gives ``(image id, config)`` of a local image, or None when it is
    not present (the build then fails as it does offline). ``docker=False`` gives podman's
    (buildah's) reading where it differs: ``SHELL`` does not change ``CMD``/``ENTRYPOINT``'s
    shell form, and ``EXPOSE`` keeps port ranges as written. ``nonce`` (``no_cache`` builds)
    makes the digest differ from any earlier build.
    """
    instructions = parse(text)
    if not instructions:
        raise DockerfileError(
            "failed to parse Dockerfile: file with no instructions"
            if docker
            else "no FROM statement found"
        )
    global_args: dict[str, str] = {}
    stages: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for ins in instructions:
        if ins.keyword not in _KNOWN:
            raise DockerfileError(
                f"dockerfile parse error line {ins.line}: unknown instruction: {ins.keyword}"
            )
        if ins.keyword == "FROM":
            current = _new_stage(ins, global_args, stages, resolve, docker)
            stages.append(current)
            continue
        if current is None:
            if ins.keyword != "ARG":
                raise DockerfileError(
                    "no build stage in current context" if docker else "no FROM statement found"
                )
            for name, default in _arg_decls(ins.text, global_args):
                global_args[name] = build_args.get(name, default or "")
            continue
        _apply(current, ins, build_args, global_args, files, resolve, stages, docker)
    if not stages:
        raise DockerfileError(
            "no build stage in current context" if docker else "no FROM statement found"
        )
    final = stages[-1]
    if target is not None:
        named = [s for s in stages if s["name"] == target.lower()]
        if not named:
            raise DockerfileError(
                f"failed to reach build target {target} in Dockerfile"
                if docker
                else f'The target "{target}" was not found in the provided Dockerfile'
            )
        final = named[0]
    config: dict[str, Any] = final["config"]
    merged = dict(config.get("Labels") or {})
    merged.update(labels)
    config["Labels"] = merged or None
    config["Image"] = final["parent"] or ""
    steps = [step for stage in stages[: stages.index(final) + 1] for step in stage["steps"]]
    digest_input = {
        "parent": final["parent"],
        "steps": steps,
        "labels": sorted(labels.items()),
        "files": sorted((p, hashlib.sha256(d).hexdigest()) for p, d in files.items()),
        "nonce": nonce,
    }
    digest = hashlib.sha256(json.dumps(digest_input, sort_keys=True).encode()).hexdigest()
    return BuildPlan(config=config, parent=final["parent"], digest=digest, steps=steps)


def _arg_decls(text: str, env: Mapping[str, str]) -> list[tuple[str, str | None]]:
    decls = []
    for word in _words(text):
        name, sep, default = word.partition("=")
        decls.append((name, substitute(default, env) if sep else None))
    if not decls:
        raise DockerfileError("ARG requires exactly one argument")
    return decls


def _new_stage(
    ins: Instruction,
    global_args: Mapping[str, str],
    stages: list[dict[str, Any]],
    resolve: Callable[[str], tuple[str, Mapping[str, Any]] | None],
    docker: bool,
) -> dict[str, Any]:
    _, rest = _flags(ins.text)
    words = substitute(rest, global_args).split()
    if not words:
        raise DockerfileError(f"dockerfile parse error line {ins.line}: FROM requires an image")
    reference = words[0]
    name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
    earlier = _stage(reference, stages)
    if earlier is not None:
        config = json.loads(json.dumps(earlier["config"]))
        parent = earlier["parent"]
    elif reference == "scratch":
        config, parent = _base_config(), None
    else:
        found = resolve(reference)
        if found is None:
            raise DockerfileError(
                f"pull access denied for {reference}, repository does not exist or may require "
                "'docker login': the fake engine has no registry (only local images and "
                "FakeEngine(registry=...) can be used)"
                if docker
                else f'creating build container: short-name "{reference}" did not resolve '
                "(the fake engine has no registry: only local images can be used)"
            )
        parent, base = found
        config = json.loads(json.dumps(dict(base)))  # a private copy of JSON values
        config.setdefault("Env", [f"PATH={DEFAULT_PATH}"])
    config["OnBuild"] = None  # a base image's triggers are not passed on
    return {
        "name": name,
        "config": config,
        "parent": parent,
        "args": {},
        "env": _env_dict(config),
        "shell": list(config.get("Shell") or _SHELL),
        "cmd_set": False,
        "steps": [f"FROM {parent or reference}"],
    }


def _stage(reference: str, stages: list[dict[str, Any]]) -> dict[str, Any] | None:
    for stage in stages:
        if stage["name"] is not None and stage["name"] == reference.lower():
            return stage
    if reference.isdigit() and int(reference) < len(stages):
        return stages[int(reference)]
    return None


def _apply(
    stage: dict[str, Any],
    ins: Instruction,
    build_args: Mapping[str, str],
    global_args: Mapping[str, str],
    files: Mapping[str, bytes],
    resolve: Callable[[str], tuple[str, Mapping[str, Any]] | None],
    stages: list[dict[str, Any]],
    docker: bool,
) -> None:
    config: dict[str, Any] = stage["config"]
    env: dict[str, str] = stage["env"]
    args: dict[str, str] = stage["args"]
    scope = {**args, **env}  # ENV wins over ARG of the same name
    keyword, text = ins.keyword, ins.text
    step = f"{keyword} {text}"
    if keyword == "ARG":
        for name, default in _arg_decls(text, scope):
            if name in build_args:
                args[name] = build_args[name]
            elif default is not None:
                args[name] = default
            elif name in global_args:
                args[name] = global_args[name]
        step = f"ARG {sorted(args.items())}"
    elif keyword == "ENV":
        for key, value in _pairs(text, "ENV"):
            env[key] = substitute(value, scope)
            scope[key] = env[key]
        config["Env"] = [f"{k}={v}" for k, v in env.items()]
        step = f"ENV {config['Env']}"
    elif keyword == "LABEL":
        labels = dict(config.get("Labels") or {})
        for key, value in _pairs(text, "LABEL"):
            labels[substitute(key, scope)] = substitute(value, scope)
        config["Labels"] = labels
        step = f"LABEL {sorted(labels.items())}"
    elif keyword in ("CMD", "ENTRYPOINT"):
        words = _json_list(text)
        if words is None:
            words = [*(stage["shell"] if docker else _SHELL), text]
        if keyword == "CMD":
            config["Cmd"] = words
            stage["cmd_set"] = True
        else:
            config["Entrypoint"] = words
            if not stage["cmd_set"]:
                config["Cmd"] = None
    elif keyword == "SHELL":
        words = _json_list(text)
        if not words:
            raise DockerfileError("SHELL requires the arguments to be in JSON form")
        stage["shell"] = words
        if docker:
            config["Shell"] = words
    elif keyword == "WORKDIR":
        path = substitute(text, scope)
        base = config.get("WorkingDir") or "/"
        config["WorkingDir"] = posixpath.normpath(posixpath.join(base, path))
        step = f"WORKDIR {config['WorkingDir']}"
    elif keyword == "USER":
        config["User"] = substitute(text, scope)
        step = f"USER {config['User']}"
    elif keyword == "EXPOSE":
        ports = dict(config.get("ExposedPorts") or {})
        for word in substitute(text, scope).split():
            number, _, protocol = word.partition("/")
            protocol = (protocol or "tcp").lower()
            low, dash, high = number.partition("-")
            if not low.isdigit() or (dash and not high.isdigit()):
                raise DockerfileError(f"invalid containerPort: {number}")
            if dash and docker:
                for port in range(int(low), int(high) + 1):
                    ports[f"{port}/{protocol}"] = {}
            else:
                ports[f"{number}/{protocol}"] = {}
        config["ExposedPorts"] = ports
        step = f"EXPOSE {sorted(ports)}"
    elif keyword == "VOLUME":
        paths = _json_list(text) or substitute(text, scope).split()
        volumes = dict(config.get("Volumes") or {})
        for path in paths:
            volumes[path] = {}
        config["Volumes"] = volumes
    elif keyword == "STOPSIGNAL":
        config["StopSignal"] = substitute(text, scope)
    elif keyword == "HEALTHCHECK":
        config["Healthcheck"] = _healthcheck(text)
    elif keyword == "ONBUILD":
        config["OnBuild"] = [*(config.get("OnBuild") or []), text]
    elif keyword in ("COPY", "ADD"):
        _check_copy(keyword, text, scope, files, resolve, stages)
        step = f"{keyword} {substitute(text, scope)}"
    elif keyword == "RUN":
        step = f"RUN {text} {sorted(args.items())}"
    stage["steps"].append(step)


def _healthcheck(text: str) -> dict[str, Any]:
    flags, rest = _flags(text)
    kind, _, command = rest.partition(" ")
    if kind.upper() == "NONE":
        return {"Test": ["NONE"]}
    if kind.upper() != "CMD" or not command.strip():
        raise DockerfileError("HEALTHCHECK requires NONE or CMD followed by a command")
    words = _json_list(command.strip())
    check: dict[str, Any] = {"Test": ["CMD", *words] if words else ["CMD-SHELL", command.strip()]}
    for flag, key in (
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start-period", "StartPeriod"),
    ):
        if flag in flags:
            check[key] = _duration(flags[flag])
    if "retries" in flags:
        check["Retries"] = int(flags["retries"]) if flags["retries"].isdigit() else 0
    return check


def _check_copy(
    keyword: str,
    text: str,
    scope: Mapping[str, str],
    files: Mapping[str, bytes],
    resolve: Callable[[str], tuple[str, Mapping[str, Any]] | None],
    stages: list[dict[str, Any]],
) -> None:
    flags, rest = _flags(text)
    words = _json_list(rest) or _words(rest)
    words = [substitute(word, scope) for word in words]
    if len(words) < 2:
        raise DockerfileError(f"{keyword} requires at least two arguments")
    source_from = flags.get("from")
    if source_from is not None:
        if _stage(source_from, stages) is None and resolve(source_from) is None:
            raise DockerfileError(
                f"{keyword} --from={source_from}: no stage or local image of that name "
                "(the fake engine has no registry)"
            )
        return  # the files of another stage or image are not known: nothing to check
    for source in words[:-1]:
        if keyword == "ADD" and source.startswith(("http://", "https://")):
            raise DockerfileError(
                f"ADD {source}: the fake engine has no network (download it into the "
                "build context instead)"
            )
        if not _in_context(source, files):
            raise DockerfileError(
                f"{keyword} failed: file not found in build context or excluded by "
                f".dockerignore: stat {source}: file does not exist"
            )


def _in_context(source: str, files: Mapping[str, bytes]) -> bool:
    path = posixpath.normpath(source.lstrip("/")) if source.strip("/") else "."
    if path in (".", ""):
        return True
    if any(ch in path for ch in "*?["):
        return any(
            fnmatch.fnmatchcase(name, path)
            or any(fnmatch.fnmatchcase(parent, path) for parent in _parents(name))
            for name in files
        )
    return path in files or any(name.startswith(path + "/") for name in files)


def _parents(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
