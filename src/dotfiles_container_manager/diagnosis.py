"""What went wrong, and what to do about it.

One diagnosis serves every place that explains a failure: the error classifier (each
exception it makes gets a ``.hint``), the factory (a runtime that is missing or does not
answer) and ``python -m dotfiles_container_manager doctor``. :func:`diagnose` reads what a
CLI printed (or the library's own message) and returns a :class:`Diagnosis`: a stable
``cause``, the ``problem`` in words and a ``hint`` that says what to do.

The causes, matched on the wording docker and podman really print (recorded in
``tests/fixtures/outputs/*/diag_*.json`` by ``tests/fixtures/record_failures.py``):

======================  =====================================================
cause                   what happened
======================  =====================================================
cli-missing             the CLI is not installed (not on PATH)
cli-not-executable      the CLI exists but cannot be run
socket-permission       permission denied on the daemon's/service's socket
ssh-failed              the ssh connection to a remote engine failed
daemon-down             the docker daemon / podman service does not answer
context-missing         the docker context / podman connection does not exist
endpoint-invalid        docker cannot resolve its endpoint (DOCKER_HOST...)
containers-conf         podman cannot read its containers.conf
oci-runtime-missing     the OCI runtime (runc, crun) is not installed
oci-runtime             containers cannot start: rlimits, cgroups (rc 126)
buildkit-missing        DOCKER_BUILDKIT=1 without the buildx plugin
name-conflict           the container name is taken
registry-unreachable    an image is missing and no registry can be reached
short-name              podman cannot resolve an unqualified image name
image-denied            the registry has no such image, or needs a login
======================  =====================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .core.exceptions import ContainerError

__all__ = ["Diagnosis", "diagnose", "diagnose_error", "explain"]

_E = TypeVar("_E", bound="ContainerError")


@dataclass(frozen=True)
class Diagnosis:
    """A failure understood: ``cause`` (a stable identifier, see the module's table),
    ``problem`` (what is wrong, in words) and ``hint`` (what to do about it)."""

    cause: str
    problem: str
    hint: str


# The fix for podman's OCI failures on machines like this project's (runtimes.md): runc
# instead of crun, rlimits within the machine's hard limits.
PODMAN_CONF_HINT = (
    'write a containers.conf with `[containers] default_ulimits = ["nofile=10000:20000", '
    '"nproc=1000:2000"]` (values at most the hard limits: `ulimit -Hn`, `ulimit -Hu`) and '
    '`[engine] runtime = "runc"` (install runc if missing), then '
    "`export CONTAINERS_CONF=/path/to/containers.conf` (README: Podman setup); only a real "
    "`podman run` proves it (`python -m dotfiles_container_manager doctor --run`)"
)
_OFFLINE_HINT = (
    "offline, load the image from an archive (`{cli} load -i image.tar`) or import a root "
    "filesystem (`{cli} import rootfs.tar NAME:TAG`), or build FROM an image that is present "
    "(`{cli} images`); online, check the network and proxy settings (HTTPS_PROXY)"
)


@dataclass(frozen=True)
class _Rule:
    cause: str
    patterns: tuple[str, ...]
    problem: str
    #: The hint by runtime ("docker", "podman"); "*" for both. ``{cli}`` and the patterns'
    #: named groups are filled in.
    hints: Mapping[str, str]
    #: Values for named groups a pattern did not capture.
    defaults: Mapping[str, str] = field(default_factory=dict)


# Most specific first: the first rule with a matching pattern wins.
_RULES: tuple[_Rule, ...] = (
    _Rule(
        "cli-missing",
        (r"\bCLI not found: '(?P<command>[^']*)'",),
        "the {runtime} CLI ({command}) is not installed, or not on PATH",
        {
            "docker": "install Docker Engine (Debian/Ubuntu: `sudo apt-get install docker.io`; "
            "elsewhere: https://docs.docker.com/engine/install/), or pass command= the path "
            "of a docker CLI; podman works too",
            "podman": "install podman (Debian/Ubuntu: `sudo apt-get install podman`, Fedora: "
            "`sudo dnf install podman`; elsewhere: https://podman.io/docs/installation), or "
            "pass command= the path of a podman CLI",
        },
    ),
    _Rule(
        "cli-not-executable",
        (r"cannot execute \w+ CLI '(?P<command>[^']*)': (?P<reason>[^\n]*)",),
        "the {runtime} CLI {command} cannot be run: {reason}",
        {"*": "check that {command} is an executable file (`ls -l {command}`), or reinstall {cli}"},
    ),
    _Rule(
        "socket-permission",
        (
            r"permission denied while trying to connect to the docker daemon socket at "
            r"(?P<address>[^\s:]+://[^\s:]+)",
            r"dial unix (?P<address>\S+): connect: permission denied",
        ),
        "permission denied on the {runtime} socket {address}",
        {
            "docker": "add your user to the docker group (`sudo usermod -aG docker $USER`, then "
            "log out and in again), or use rootless Docker "
            "(https://docs.docker.com/engine/security/rootless/) or podman, which needs no "
            "daemon",
            "podman": "use a socket your user owns: rootless podman's (`systemctl --user start "
            "podman.socket`, CONTAINER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock), or "
            "local podman without --url or CONTAINER_HOST",
        },
    ),
    _Rule(
        "ssh-failed",
        (
            r"command \[ssh [^\]]*\] has exited[^\n]*?stderr=(?P<reason>[^\n]+)",
            r"failed to connect: (?P<reason>(?:ssh: |dial tcp )[^\n]+)",
            r"(?P<reason>host key verification failed|permission denied \(publickey[^\n]*)",
        ),
        "the ssh connection to the remote {runtime} failed: {reason}",
        {
            "docker": "make `ssh USER@HOST docker version` work without any prompt first: "
            "connect once with ssh to accept the host key (~/.ssh/known_hosts), load a key "
            "(`ssh-add`, or IdentityFile in ~/.ssh/config), check the host and port; docker "
            "must be installed on the remote host",
            "podman": "make `ssh USER@HOST` work with a key first (its host key in "
            "~/.ssh/known_hosts), then give podman that key: `podman system connection add "
            "NAME ssh://USER@HOST/run/podman/podman.sock --identity ~/.ssh/KEY` (or "
            "CONTAINER_SSHKEY=~/.ssh/KEY); the remote host needs its podman socket "
            "(`systemctl enable --now podman.socket`)",
        },
    ),
    _Rule(
        "daemon-down",
        (r"cannot connect to the docker daemon at (?P<address>unix:///(?:var/)?run/docker\.sock)",),
        "the Docker daemon does not answer at {address}",
        {
            "*": "start it: `sudo systemctl start docker` (without systemd: "
            "`sudo dockerd > /var/log/dockerd.log 2>&1 &`), or use podman, which needs no daemon"
        },
    ),
    _Rule(
        "daemon-down",
        (r"cannot connect to the docker daemon at (?P<address>unix:///run/user/\d+/docker\.sock)",),
        "the rootless Docker daemon does not answer at {address}",
        {"*": "start it: `systemctl --user start docker` (or `dockerd-rootless.sh &`)"},
    ),
    _Rule(
        "daemon-down",
        (
            r"cannot connect to the docker daemon at (?P<address>\S+?)\.?\s+is the docker",
            r"cannot connect to the docker daemon",
            r"error during connect: (?P<reason>[^\n]*)",
        ),
        "the Docker daemon does not answer at {address}",
        {
            "*": "start the daemon that should listen at {address}, or point the CLI at a "
            "running one: unset DOCKER_HOST (and DOCKER_CONTEXT), or `docker context use "
            "default` for the local daemon"
        },
        {"address": "its address"},
    ),
    _Rule(
        "daemon-down",
        (
            r"unable to connect to podman socket: [^\n]*?dial unix (?P<unix_path>\S+?): connect",
            r"unable to connect to podman socket: [^\n]*?dial tcp (?P<tcp_address>\S+?): connect",
            r"cannot connect to podman",
        ),
        "no podman service answers at {address}",
        {
            "*": "start one (`podman system service --time=0 {address} &`, or `systemctl "
            "--user start podman.socket`), or unset CONTAINER_HOST and drop --url/--remote: "
            "local podman needs no service"
        },
        {"address": "the remote address"},
    ),
    _Rule(
        "context-missing",
        (
            r"context \"(?P<name>[^\"]+)\": context not found",
            r"\"(?P<name>[^\"]+)\" service destination not found",
        ),
        "the {runtime} {noun} {name} does not exist",
        {
            "docker": "`docker context ls` lists the contexts: unset DOCKER_CONTEXT, run "
            "`docker context use default`, or create it (`docker context create {name} "
            "--docker host=ssh://USER@HOST`)",
            "podman": "`podman system connection list` lists them: unset CONTAINER_CONNECTION, "
            "or add it (`podman system connection add {name} "
            "ssh://USER@HOST/run/podman/podman.sock`)",
        },
    ),
    _Rule(
        "endpoint-invalid",
        (r"unable to resolve docker endpoint: (?P<reason>[^\n]*)",),
        "docker cannot resolve its endpoint: {reason}",
        {"*": "check DOCKER_HOST and DOCKER_CONTEXT (`docker context ls`), or unset them"},
    ),
    _Rule(
        "containers-conf",
        (r"(?:reading system config|finding config on system)[^\n]*?: (?P<reason>[^\n\"]*)",),
        "podman cannot read its configuration: {reason}",
        {
            "*": "fix the file CONTAINERS_CONF names, or unset CONTAINERS_CONF to use "
            "/etc/containers/containers.conf"
        },
    ),
    _Rule(
        "oci-runtime-missing",
        (r"default oci runtime \"?(?P<name>[^\"\s]+)\"? not found",),
        "the OCI runtime {name} that {runtime} is configured to use is not installed",
        {
            "podman": "install runc (`sudo apt-get install runc`) or crun, or name an installed "
            'one in containers.conf (`[engine] runtime = "runc"`) and export CONTAINERS_CONF '
            "to point at it",
            "docker": "install runc (`sudo apt-get install runc`), or set the daemon's "
            "default-runtime (/etc/docker/daemon.json) to an installed one",
        },
    ),
    _Rule(
        "oci-runtime",
        (
            r"(?P<reason>error setting rlimits?[^\n]*)",
            r"(?P<reason>crun: [^\n]*cgroup[^\n]*)",
        ),
        "containers cannot start: the OCI runtime failed ({reason})",
        {
            "podman": PODMAN_CONF_HINT,
            "docker": "lower the daemon's default ulimits below the machine's hard limits "
            '(`ulimit -Hn`): "default-ulimits" in /etc/docker/daemon.json, or --ulimit',
        },
    ),
    _Rule(
        "buildkit-missing",
        (r"buildkit is enabled but the buildx component is missing",),
        "DOCKER_BUILDKIT=1 asks for BuildKit, but the buildx plugin is not installed",
        {
            "*": "install buildx (Debian/Ubuntu: `sudo apt-get install docker-buildx`; "
            "https://docs.docker.com/go/buildx/), or unset DOCKER_BUILDKIT to build with the "
            "legacy builder"
        },
    ),
    _Rule(
        "name-conflict",
        (r"the container name \"/?(?P<name>[^\"]+)\" is already in use",),
        "the container name {name} is already in use",
        {
            "*": "remove the old container (`{cli} rm -f {name}`) or choose another name "
            "(RunConfig.name)"
        },
    ),
    _Rule(
        "registry-unreachable",
        (
            r"pinging container registry (?P<registry>[^\s:]+)[^\n]*?"
            r"(?:no such host|i/o timeout|connection refused|network is unreachable|"
            r"no route to host|handshake timeout|deadline exceeded|client\.timeout)",
            r"\"https://(?P<registry>[^/\"]+)/v2/[^\"]*\": [^\n]*?"
            r"(?:no such host|i/o timeout|connection refused|network is unreachable|"
            r"no route to host|handshake timeout|deadline exceeded|client\.timeout)",
        ),
        "an image is not present here and the registry {registry} cannot be reached",
        {"*": _OFFLINE_HINT},
    ),
    _Rule(
        "short-name",
        (r"short-name \"(?P<name>[^\"]+)\" did not resolve to an alias",),
        "the image name {name} is not present here and, not being fully qualified, names no "
        "registry",
        {
            "*": "a local image: load or import it first (`{cli} load -i image.tar`, `{cli} "
            "import rootfs.tar {name}`); a registry's: use its full name (docker.io/library/"
            "{name}), or list registries under unqualified-search-registries in "
            "/etc/containers/registries.conf"
        },
    ),
    _Rule(
        "image-denied",
        (
            r"pull access denied",
            r"requested access to the resource is denied",
            r"manifest unknown",
        ),
        "the registry has no such image, or refuses it without a login",
        {
            "*": "check the image's name and tag; for a private registry, `{cli} login "
            "REGISTRY` first; offline, load or import the image instead (`{cli} load -i "
            "image.tar`)"
        },
    ),
)

_NOUNS = {"docker": "context", "podman": "connection"}


@cache
def _compiled() -> tuple[tuple[_Rule, tuple[re.Pattern[str], ...]], ...]:
    # Compiled on first use: importing the library costs nothing for a rule never needed.
    return tuple(
        (rule, tuple(re.compile(p, re.IGNORECASE) for p in rule.patterns)) for rule in _RULES
    )


def _runtime(runtime: str) -> str:
    return "podman" if "podman" in runtime.lower() else "docker"


def diagnose(runtime: str, text: str) -> Diagnosis | None:
    """The diagnosis of a failure of ``runtime`` (``"docker"``, ``"podman"``) from what was
    printed (the CLI's stderr and stdout, or the library's message), or None when no known
    cause matches."""
    name = _runtime(runtime)
    for rule, patterns in _compiled():
        for pattern in patterns:
            match = pattern.search(text)
            if match is None:
                continue
            values = {"runtime": name, "cli": name, "noun": _NOUNS[name]}
            values.update(dict(rule.defaults))
            values.update({k: v.strip() for k, v in match.groupdict().items() if v})
            if "unix_path" in values:  # podman names the socket without its scheme
                values["address"] = f"unix://{values['unix_path']}"
            if "tcp_address" in values:
                values["address"] = f"tcp://{values['tcp_address']}"
            hint = rule.hints.get(name) or rule.hints["*"]
            return Diagnosis(rule.cause, rule.problem.format_map(values), hint.format_map(values))
    return None


def diagnose_error(error: ContainerError) -> Diagnosis | None:
    """:func:`diagnose` for an exception the library raised (its message and stderr)."""
    runtime = getattr(error, "runtime", None)
    if not isinstance(runtime, str) or not runtime:
        runtime = error.command[0].rsplit("/", 1)[-1] if error.command else "docker"
    return diagnose(runtime, f"{error.message}\n{error.stderr}")


def explain(error: _E) -> _E:
    """``error`` with its ``hint`` filled in from :func:`diagnose_error` when it had none."""
    if error.hint is None:
        found = diagnose_error(error)
        if found is not None:
            error.hint = found.hint
    return error
