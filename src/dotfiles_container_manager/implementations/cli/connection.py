"""Reaching an engine through the CLI's own connection: what to do when it fails, and where
an ``ssh://`` alias really points.

The library has no transport of its own: docker's ``--host``/``--context`` (``unix://``,
``tcp://``, ``ssh://`` through the system ``ssh``) and podman's ``--url``/``--connection``
carry every call. When the probe finds the engine unreachable, :func:`connection_hint` reads
the CLI's own message and says what to do.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping

from ...core import endpoint

__all__ = ["connection_hint", "ssh_hostname"]

# Engine addresses in a message (not http://: both CLIs print made-up http:// API URLs).
_URL = re.compile(r"\b(?:unix|tcp|ssh|npipe)://[^\s\"'`,]+", re.IGNORECASE)
_SSH_LOGIN = re.compile(r"permission denied|unable to authenticate|too many authentication", re.I)
_SSH_HOST_KEY = re.compile(r"host key verification failed|knownhosts|host key .* changed", re.I)
_REFUSED = re.compile(r"connection refused", re.I)
_NO_PERMISSION = re.compile(r"permission denied", re.I)
_NO_NAME = re.compile(r"could not resolve hostname|no such host|name or service not known", re.I)
_NO_CLI = re.compile(r"command not found|exit status 127", re.I)
_SLOW = re.compile(r"timed out|i/o timeout|no route to host|did not finish within", re.I)
_TLS = re.compile(r"\btls\b|x509|certificate|http response to https client", re.I)
_NO_CONTEXT = re.compile(
    r"context \"[^\"]*\"(?::)? (?:does not exist|context not found)|"
    r"service destination not found|failed to resolve active destination",
    re.I,
)


def _ssh_target(url: str) -> str:
    """``user@host -p PORT`` as one would type it to ``ssh``, from an ``ssh://`` URL."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        target = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
        return f"{target} -p {parts.port}" if parts.port else str(target)
    except ValueError:
        return url


def connection_hint(
    runtime: str, text: str, *, host: str | None, context: str | None
) -> str | None:
    """What to do about an engine that did not answer, from the CLI's message ``text``
    (its stderr and the error message). ``host``/``context`` are the address and the
    context in force, when known. None when the message names no cause known here."""
    if _NO_CONTEXT.search(text):
        name = context or "NAME"
        if runtime == "podman":
            return (
                f"no podman connection {name!r}: `podman system connection list` shows "
                f"them; `podman system connection add {name} URL` makes one"
            )
        return (
            f"no docker context {name!r}: `docker context ls` shows them; `docker context "
            f"create {name} --docker host=URL` makes one (contexts live in $DOCKER_CONFIG, "
            "default ~/.docker)"
        )
    seen = _URL.search(text)
    url = host or (seen.group(0).rstrip(".:") if seen else None)
    kind = endpoint.scheme(url)
    if kind == "ssh" or (url is None and "ssh" in text.lower()):  # ssh's words, no URL
        target = _ssh_target(url) if url else "the host"
        if _SSH_HOST_KEY.search(text):
            return (
                f"the ssh host key of {target} is not known (or changed): run `ssh {target}` "
                f"once to check and accept it; {runtime} runs ssh without a terminal, so it "
                "cannot ask"
            )
        if _SSH_LOGIN.search(text):
            return (
                f"ssh could not log in: `ssh {target} true` must succeed without a prompt "
                "(a key loaded in ssh-agent, or an IdentityFile in ~/.ssh/config, that the "
                "remote user authorizes)"
            )
        if _REFUSED.search(text):
            return (
                f"nothing accepts ssh connections at {target}: check the port "
                "(ssh://user@host:PORT) and that sshd runs there"
            )
        if _NO_NAME.search(text):
            return (
                f"the host of {target} does not resolve: check the URL or the ~/.ssh/config entry"
            )
        if _NO_CLI.search(text):
            return (
                f"{runtime} is not installed on {target}, or not on the PATH of a "
                "non-interactive ssh login"
            )
        if _SLOW.search(text):
            return f"{target} did not answer: the host is down or a firewall drops the connection"
        return None
    if kind == "unix" and url is not None:
        path = url[len("unix://") :]
        if not os.path.exists(path):  # a socket is on this machine: look, do not guess
            return f"no socket at {path}: start the {runtime} daemon/service, or fix the address"
        if _NO_PERMISSION.search(text):
            return f"no permission to use {path}: run as its owner or a member of its group"
        if _SLOW.search(text):
            return f"the {runtime} daemon/service on {path} did not answer in time: is it stuck?"
        return f"nothing answers on {path}: the {runtime} daemon/service that made it stopped"
    if kind in ("tcp", "http", "https") and url is not None:
        if _TLS.search(text):
            return (
                "TLS failed: a tcp:// engine needs DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH "
                "(ca.pem, cert.pem, key.pem), or a context made with "
                "`docker context create NAME --docker host=tcp://HOST:2376,ca=…,cert=…,key=…`"
            )
        if _REFUSED.search(text):
            return f"nothing listens at {url}: check the address and port, and that the engine runs"
        if _NO_NAME.search(text):
            return f"the host of {url} does not resolve: check the address"
        if _SLOW.search(text):
            return f"{url} did not answer: the host is down or a firewall drops the connection"
    return None


def ssh_hostname(url: str, env: Mapping[str, str] | None = None) -> str | None:
    """The host an ``ssh://`` URL really reaches, as ``ssh -G`` resolves it (a ``Host``
    alias of ``~/.ssh/config`` becomes its ``HostName``). ``ssh -G`` reads the configuration
    only: no connection is made. None when ssh is missing or says nothing."""
    name = endpoint.hostname(url)
    if name is None:
        return None
    environ = {**os.environ, **env} if env else None
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
