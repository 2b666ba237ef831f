"""Command-line construction: configuration objects → CLI arguments (and child env).

Secrets policy: environment values never go on argv. ``-e KEY`` is passed and the value is
put in the CLI process's own environment, which the CLI forwards into the container. Keys
that would change the CLI's *own* behaviour if set in its environment (``DOCKER_HOST``,
``PATH``, ``CONTAINERS_CONF``, proxies...) go through a private env-file instead, as does
everything when ``RunConfig.env_file`` is set. The env-file lives in a 0700 temporary
directory, is written 0600, and is removed when the call ends, whatever happens.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from ...core.enums import RestartPolicy
from ...core.exceptions import InvalidConfigError
from ...core.types import HealthCheck, PortMapping, RunConfig, VolumeMount
from ...core.validation import (
    REDACTED,
    check_label_values_for_cli,
    check_labels,
    cli_sensitive,
)

__all__ = [
    "cli_sensitive",
    "command_args",
    "csv_field",
    "filter_args",
    "format_env_vars",
    "format_port_mappings",
    "format_volume_mounts",
    "go_duration",
    "healthcheck_args",
    "label_args",
    "mount_spec",
    "port_spec",
    "private_tempdir",
    "run_args",
]


@contextmanager
def private_tempdir() -> Iterator[str]:
    """A 0700 temporary directory, removed on exit."""
    import shutil  # tempfile and shutil cost ~8 ms to import: only calls that need them pay
    import tempfile

    path = tempfile.mkdtemp(prefix="dcm-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def format_env_vars(
    environment: Mapping[str, str], *, use_file: bool = False
) -> Iterator[tuple[list[str], dict[str, str]]]:
    """Yield ``(args, child_env)`` that give the container ``environment``.

    ``args`` hold only keys (``-e KEY``) and, if needed, ``--env-file PATH``; ``child_env``
    holds the values, to be merged into the CLI's environment for this call only.
    """
    args: list[str] = []
    child_env: dict[str, str] = {}
    in_file: dict[str, str] = {}
    for key, value in environment.items():
        if use_file or cli_sensitive(key):
            # One line per variable: a newline would cut the value and start another one.
            # (Keys never hold one: check_env refuses them for every caller.)
            if "\n" in value:
                raise InvalidConfigError(
                    f"environment[{key}]", REDACTED, "must not contain a newline (env-file)"
                )
            in_file[key] = value
        else:
            args += ["-e", key]
            child_env[key] = value
    if not in_file:
        yield args, child_env
        return
    with private_tempdir() as tmp:
        path = os.path.join(tmp, "env")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.writelines(f"{k}={v}\n" for k, v in in_file.items())
        yield [*args, "--env-file", path], child_env


def port_spec(port: PortMapping) -> str:
    """The ``-p`` value, e.g. ``127.0.0.1:8080:80/tcp``."""
    ip = port.host_ip or ""
    if ":" in ip:
        ip = f"[{ip}]"
    host = "" if port.host_port is None else str(port.host_port)
    if ip:
        spec = f"{ip}:{host}:{port.container_port}"
    else:
        spec = f"{host}:{port.container_port}" if host else str(port.container_port)
    return f"{spec}/{port.protocol}"


def format_port_mappings(ports: Sequence[PortMapping]) -> list[str]:
    """``-p`` options."""
    args: list[str] = []
    for port in ports:
        args += ["-p", port_spec(port)]
    return args


def csv_field(text: str) -> str:
    """``text`` as one field of a CSV record, as Go's encoding/csv reads it.

    Quoted (``"`` doubled) when it holds ``,``, ``"``, a line break or leading space;
    otherwise as it is. Used for ``--mount`` and for flags parsed as string slices
    (podman's ``volume create --label``).
    """
    if any(ch in text for ch in ',"\r\n') or text[:1].isspace():
        return '"' + text.replace('"', '""') + '"'
    return text


def mount_spec(mount: VolumeMount) -> str:
    """The ``--mount`` value, e.g. ``type=bind,source=/src,target=/dst,ro``.

    ``--mount`` is one CSV record on both runtimes: a path holding ``,`` or ``"`` is written
    as a quoted field (``"source=/a,b"``); ``:`` needs nothing (unlike ``-v``).
    """
    kind = "bind" if mount.is_bind else "volume"
    spec = ",".join(
        (
            f"type={kind}",
            csv_field(f"source={mount.source}"),
            csv_field(f"target={mount.target}"),
        )
    )
    if mount.read_only:
        spec += ",ro"  # "readonly" is refused for volumes by podman 4.3
    return spec


def format_volume_mounts(volumes: Sequence[VolumeMount]) -> list[str]:
    """``--mount`` options (a missing bind source is an error on every runtime)."""
    args: list[str] = []
    for mount in volumes:
        args += ["--mount", mount_spec(mount)]
    return args


def filter_args(filters: Mapping[str, Sequence[str]]) -> list[str]:
    """``--filter key=value`` options, one per value (checked by ``check_filters``)."""
    args: list[str] = []
    for key, values in filters.items():
        for value in values:
            args += ["--filter", f"{key}={value}"]
    return args


def label_args(labels: Mapping[str, str], *, flag: str = "--label", csv: bool = False) -> list[str]:
    """``--label key=value`` options.

    ``csv=True`` for a flag the CLI splits as CSV (podman 4.3 ``volume create``): each
    ``key=value`` is written as a quoted CSV field when needed, after
    :func:`check_label_values_for_cli` refused what even quoting cannot carry.
    """
    checked = (
        check_label_values_for_cli("labels", labels) if csv else check_labels("labels", labels)
    )
    args: list[str] = []
    for key, value in checked.items():
        item = f"{key}={value}"
        args += [flag, csv_field(item) if csv else item]
    return args


def go_duration(seconds: float) -> str:
    """Seconds as a Go duration the CLIs parse (``30s``, ``0.5s``; milliseconds at most)."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text}s"


def healthcheck_args(check: str | HealthCheck) -> list[str]:
    """``--health-*`` options: a bare command keeps the runtime's default timing."""
    if isinstance(check, str):
        return ["--health-cmd", check]
    return [
        "--health-cmd",
        check.command,
        "--health-interval",
        go_duration(check.interval),
        "--health-timeout",
        go_duration(check.timeout),
        "--health-retries",
        str(check.retries),
        "--health-start-period",
        go_duration(check.start_period),
    ]


def run_args(config: RunConfig) -> list[str]:
    """Options of ``create``/``run`` for ``config`` (environment excluded), up to the image.

    The image and command are appended by the caller.
    """
    args: list[str] = []
    if config.name:
        args += ["--name", config.name]
    args += label_args(config.labels)
    args += format_volume_mounts(config.volumes)
    args += format_port_mappings(config.ports)
    if config.network:
        args += ["--network", config.network]
    for alias in config.network_aliases:
        args += ["--network-alias", alias]
    if config.restart_policy is not RestartPolicy.NO:
        policy = config.restart_policy.value
        if config.restart_max_retries is not None:
            policy += f":{config.restart_max_retries}"
        args += ["--restart", policy]
    if config.entrypoint is not None:
        # --entrypoint takes one word; further words go before the command.
        args += ["--entrypoint", config.entrypoint[0] if config.entrypoint else ""]
    simple: dict[str, str | None] = {
        "--workdir": config.working_dir,
        "--user": config.user,
        "--hostname": config.hostname,
        "--memory": config.memory,
        "--stop-signal": config.stop_signal,
    }
    for flag, option in simple.items():
        if option is not None:
            args += [flag, option]
    if config.healthcheck is not None:
        args += healthcheck_args(config.healthcheck)
    if config.cpus is not None:
        # Fixed-point: "1e+06" is not a number docker's --cpus parser takes everywhere.
        args += ["--cpus", f"{config.cpus:.9f}".rstrip("0").rstrip(".")]
    if config.stop_timeout is not None:
        args += ["--stop-timeout", str(config.stop_timeout)]
    if config.pull is not None:
        args += ["--pull", config.pull.value]
    for host, ip in config.extra_hosts.items():
        args += ["--add-host", f"{host}:{ip}"]
    for path in config.tmpfs:
        args += ["--tmpfs", path]
    for name, limit in config.ulimits.items():
        soft, hard = limit if isinstance(limit, tuple) else (limit, limit)
        args += ["--ulimit", f"{name}={soft}:{hard}"]
    for cap in config.cap_add:
        args += ["--cap-add", cap]
    for cap in config.cap_drop:
        args += ["--cap-drop", cap]
    for flag, on in (
        ("--rm", config.remove),
        ("--read-only", config.read_only),
        ("--privileged", config.privileged),
        ("--init", config.init),
    ):
        if on:
            args.append(flag)
    return args


def command_args(config: RunConfig) -> list[str]:
    """The words after the image: the rest of a multi-word entrypoint, then the command."""
    words: list[str] = []
    if config.entrypoint:
        words += list(config.entrypoint[1:])
    if config.command is not None:
        words += list(config.command)
    return words
