"""Where an engine is: its address, as the CLIs write it, and what follows from it.

An engine's address is a URL: ``unix:///run/docker.sock`` (a socket on this machine),
``tcp://build.example:2376`` or ``ssh://user@build.example`` (another machine, reached over
the network). Pure functions: nothing here starts a process or touches the network.
"""

from __future__ import annotations

__all__ = ["LOOPBACK", "REMOTE_SCHEMES", "host_address", "hostname", "is_remote", "scheme"]

#: Schemes of engines reached over the network: their files and ports are on another host.
REMOTE_SCHEMES = frozenset({"ssh", "tcp", "http", "https"})
#: Where a local engine (a unix socket, a named pipe, the local podman) publishes ports.
LOOPBACK = "127.0.0.1"


def scheme(url: str | None) -> str:
    """The URL's scheme in lower case (``"unix"``, ``"ssh"``...); ``""`` for None or no
    scheme."""
    if not url or "://" not in url:
        return ""
    return url.partition("://")[0].lower()


def is_remote(url: str | None) -> bool:
    """True for an engine reached over the network (``ssh://``, ``tcp://``).

    An ``ssh://`` engine counts as remote even on this machine's loopback: the library
    cannot know that the host it logs in to shares this machine's files.
    """
    return scheme(url) in REMOTE_SCHEMES


def hostname(url: str | None) -> str | None:
    """The host part of a remote engine's URL (``"build.example"``, ``"::1"``), else None."""
    if url is None or not is_remote(url):
        return None
    from urllib.parse import urlsplit  # only remote engines pay for the import

    try:
        return urlsplit(url).hostname or None
    except ValueError:  # a malformed port or IPv6 literal
        return None


def host_address(url: str | None) -> str:
    """The address at which an engine's published ports are reached from here, by URL alone:
    the URL's host for ``ssh://`` and ``tcp://`` engines, :data:`LOOPBACK` for the others.
    (An ``ssh://`` host may be an alias of ``~/.ssh/config``: the engine resolves those.)"""
    return hostname(url) or LOOPBACK
