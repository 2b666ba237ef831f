"""Where an ``ssh://`` engine really is.

The library has no transport of its own: docker's ``ssh://`` runs the system ``ssh``, so a
host in the URL may be an alias of ``~/.ssh/config`` (``Host build`` … ``HostName
10.0.0.7``). :func:`ssh_hostname` asks ssh itself what it would connect to, which is where
the engine's published ports are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from ...core import endpoint

__all__ = ["ssh_hostname"]


def ssh_hostname(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """The host an ``ssh://`` URL really reaches, as ``ssh -G`` resolves it (a ``Host``
    alias of ``~/.ssh/config`` becomes its ``HostName``). ``ssh -G`` reads the configuration
    only: no connection is made. None when ssh is missing or says nothing."""
    name = endpoint.hostname(url)
    if name is None:
        return None
    environ = {**os.environ, **env} if env else None
    import subprocess  # here: only ssh engines pay for it (the runner does without it)

    try:
        result = subprocess.run(
            ["ssh", "-G", name],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=10,
            env=environ,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for line in result.stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "hostname" and value.strip():
            return value.strip()
    return None
