"""Second engines for the remote-engine tests (and the remote benchmark): a second dockerd on
its own socket and bridge, an sshd on a loopback port, a podman service with its own storage.

Each is a context manager that starts its engine, yields what reaches it, and on the way out,
also after a failure, stops what it started: every process reaped, the bridge deleted, the
mounts under its directory unmounted, its directory removed. Nothing here touches ``~/.ssh``
or ``~/.docker``: ssh runs through a private ``ssh`` shim on ``PATH`` that names a private
config file, and docker contexts live in a private ``DOCKER_CONFIG``.

How each is started, and the traps met on the way, are in shared/notes/runtimes.md
("Second engines"): above all, the second dockerd gets a bridge of its own (``dcmbr2``); one
started with ``--bridge none`` left the first daemon without ``docker0`` after it stopped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

#: The second dockerd's bridge and its address (shared/notes/runtimes.md).
BRIDGE = "dcmbr2"
BRIDGE_ADDRESS = "172.29.0.1/24"
#: ssh ``Host`` aliases the private ssh config defines.
SSH_ALIAS = "dcm-ssh-engine"  # logs in with the authorized key
SSH_ALIAS_BAD_KEY = "dcm-ssh-badkey"  # offers a key the server does not authorize
SSH_ALIAS_UNKNOWN_HOST = "dcm-ssh-unknownhost"  # the server's host key is not known
#: Limits containers of the podman service need on this machine (shared/notes/runtimes.md):
#: the service does not apply containers.conf's default_ulimits to remote clients.
PODMAN_SERVICE_ULIMITS = {"nofile": (10000, 20000), "nproc": (1000, 2000)}
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 30.0


def _run(argv: list[str], *, timeout: float = 60.0) -> str:
    """Run a setup command; its stderr in the error when it fails."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return str(done.stdout)


def _tempdir(prefix: str) -> Path:
    # Under /tmp whatever TMPDIR says: socket paths must stay short (108 bytes at most), and
    # a test session's private TMPDIR must not see these.
    return Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))


def _free_port() -> int:
    """A loopback TCP port nothing listens on (now)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pipe(producer: list[str], consumer: list[str], *, timeout: float = 300.0) -> None:
    """``producer | consumer``, both checked (images move between engines this way)."""
    with subprocess.Popen(producer, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as left:
        try:
            done = subprocess.run(
                consumer, stdin=left.stdout, capture_output=True, timeout=timeout, check=False
            )
        finally:
            if left.stdout is not None:
                left.stdout.close()
            try:
                left.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                left.kill()
                left.wait()
        errors = left.stderr.read().decode() if left.stderr else ""
    if left.returncode != 0 or done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(producer)} | {' '.join(consumer)} failed: {errors}{done.stderr.decode()}"
        )


def _spawn(argv: list[str], log: Path, *, tmp: Path | None = None) -> subprocess.Popen[bytes]:
    """Start a server in a session of its own, its output in ``log``; ``tmp`` becomes its
    TMPDIR (a test session's private TMPDIR stays clean)."""
    env = None
    if tmp is not None:
        tmp.mkdir(exist_ok=True)
        env = {**os.environ, "TMPDIR": str(tmp)}
    with open(log, "wb") as out:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=env,
        )


def _stop(process: subprocess.Popen[bytes], *, timeout: float = _STOP_TIMEOUT) -> None:
    """SIGTERM, then SIGKILL to the whole process group; always reaped."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # helpers left in its group (it has its own)
    process.wait()


def _unmount_under(directory: Path) -> None:
    """Lazily unmount whatever is still mounted under ``directory``, deepest first."""
    prefix = str(directory) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        points = [line.split()[1] for line in mounts]
    for point in sorted({p for p in points if p.startswith(prefix)}, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, timeout=30, check=False)


def _helpers_of(directory: Path) -> dict[int, list[str]]:
    """Living processes whose command line names ``directory`` (this fixture's, unique):
    ``{pid: argv}``."""
    found = {}
    needle = str(directory).encode()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            raw = Path(f"/proc/{entry}/cmdline").read_bytes()
            if needle in raw and int(entry) != os.getpid():
                found[int(entry)] = [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    return found


def _kill(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _remove_dir(directory: Path) -> None:
    _unmount_under(directory)
    shutil.rmtree(directory, ignore_errors=True)


def _wait_until(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, what: str
) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if ready():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"{what} did not start (exit status {process.poll()}):\n{tail}")


def _answers(argv: list[str]) -> bool:
    try:
        done = subprocess.run(argv, capture_output=True, timeout=10, check=False)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


@dataclass
class SecondEngine:
    """An engine started here: ``host`` is its ``unix://`` address, which ``command`` reaches
    with ``host_option`` (docker ``--host``, podman ``--url``)."""

    directory: Path
    host: str
    command: str
    host_option: str = "--host"

    def cli(self, *args: str, timeout: float = 60.0) -> str:
        """Run the CLI against this engine (setup and checks, not the library)."""
        return _run([self.command, self.host_option, self.host, *args], timeout=timeout)


# --------------------------------------------------------------------------- second dockerd


def _bridge_users(name: str) -> list[int]:
    """Pids of running processes whose command line names ``name`` (a dockerd using it)."""
    users = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
            if name.encode() in argv and int(entry) != os.getpid():
                users.append(int(entry))
    return users


def _make_bridge() -> None:
    if _answers(["ip", "link", "show", BRIDGE]):
        users = _bridge_users(BRIDGE)
        if users:
            raise RuntimeError(f"bridge {BRIDGE} is in use by pid(s) {users}: another run?")
        _run(["ip", "link", "del", BRIDGE])  # left by a run that was killed
    _run(["ip", "link", "add", "name", BRIDGE, "type", "bridge"])
    _run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE])
    _run(["ip", "link", "set", BRIDGE, "up"])


@contextlib.contextmanager
def second_dockerd(base_image: str | None = None, docker: str = "docker") -> Iterator[SecondEngine]:
    """A second dockerd with its own socket, data root, exec root, pidfile and bridge
    (``dcmbr2``, no iptables, no masquerading). ``base_image`` is copied from the first
    daemon (``docker save | docker --host … load``: no registry)."""
    dockerd = shutil.which("dockerd")
    cli = shutil.which(docker)
    if dockerd is None or cli is None:
        raise RuntimeError("dockerd and the docker CLI are needed")
    if os.geteuid() != 0:
        raise RuntimeError("a second dockerd needs root")
    directory = _tempdir("dcmr-docker-")
    process: subprocess.Popen[bytes] | None = None
    bridge = False
    try:
        _make_bridge()
        bridge = True
        log = directory / "dockerd.log"
        host = f"unix://{directory}/docker.sock"
        process = _spawn(
            [
                dockerd,
                "--host",
                host,
                "--data-root",
                str(directory / "data"),
                "--exec-root",
                str(directory / "exec"),
                "--pidfile",
                str(directory / "docker.pid"),
                "--bridge",
                BRIDGE,
                "--iptables=false",
                "--ip-masq=false",
            ],
            log,
            tmp=directory / "tmp",
        )
        _wait_until(
            lambda: _answers([cli, "--host", host, "version"]), process, log, "second dockerd"
        )
        if base_image:
            _pipe([cli, "save", base_image], [cli, "--host", host, "load"])
        yield SecondEngine(directory, host, cli)
    finally:
        if process is not None:
            if process.poll() is None:
                # Containers first: dockerd would otherwise wait for each one to stop.
                with contextlib.suppress(Exception):
                    ids = _run([cli, "--host", host, "ps", "-aq"], timeout=30).split()
                    if ids:
                        _run([cli, "--host", host, "rm", "-f", *ids], timeout=120)
            _stop(process)
        if bridge:
            subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, timeout=30)
        _remove_dir(directory)


# --------------------------------------------------------------------------- sshd


@dataclass
class SshServer:
    """An sshd on a loopback port, logged in to as root with a generated key.

    ``env`` puts a private ``ssh`` first on ``PATH`` (docker's ``ssh://`` runs the system
    ssh): it reads the private config that defines the aliases, so ``~/.ssh`` is untouched.
    """

    directory: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)

    def url(self, alias: str = SSH_ALIAS) -> str:
        return f"ssh://{alias}"


_SSH_CONFIG = """\
Host {alias}
  HostName 127.0.0.1
  Port {port}
  User root
  IdentityFile {key}
  IdentitiesOnly yes
  UserKnownHostsFile {known_hosts}
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ConnectTimeout 10
  LogLevel ERROR
"""


@contextlib.contextmanager
def ssh_server(remote_env: dict[str, str] | None = None) -> Iterator[SshServer]:
    """An sshd on 127.0.0.1 (a free port), its own host key, one authorized key.

    ``remote_env`` is set in every session (sshd ``SetEnv``): ``DOCKER_HOST`` there makes
    ``docker system dial-stdio`` on the "remote" side reach the second dockerd.
    """
    sshd = "/usr/sbin/sshd"
    ssh = shutil.which("ssh")
    if not os.path.exists(sshd) or ssh is None or shutil.which("ssh-keygen") is None:
        raise RuntimeError("openssh-server and openssh-client are needed")
    directory = _tempdir("dcmr-ssh-")
    process: subprocess.Popen[bytes] | None = None
    privsep = Path("/run/sshd")  # sshd refuses to start without it
    made_privsep = not privsep.exists()
    try:
        if made_privsep:
            privsep.mkdir(mode=0o755, parents=True)
        for name in ("host_key", "id", "bad_id"):
            _run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    name,
                    "-f",
                    str(directory / name),
                ]
            )
        (directory / "authorized_keys").write_text((directory / "id.pub").read_text())
        port = _free_port()
        settings = [
            "ListenAddress 127.0.0.1",
            f"Port {port}",
            f"HostKey {directory / 'host_key'}",
            f"PidFile {directory / 'sshd.pid'}",
            f"AuthorizedKeysFile {directory / 'authorized_keys'}",
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",  # the files are in a /tmp directory
        ]
        if remote_env:
            settings.append("SetEnv " + " ".join(f"{k}={v}" for k, v in remote_env.items()))
        (directory / "sshd_config").write_text("\n".join(settings) + "\n")
        host_key = " ".join((directory / "host_key.pub").read_text().split()[:2])
        (directory / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
        (directory / "empty_known_hosts").write_text("")
        blocks = [
            (SSH_ALIAS, "id", "known_hosts"),
            (SSH_ALIAS_BAD_KEY, "bad_id", "known_hosts"),
            (SSH_ALIAS_UNKNOWN_HOST, "id", "empty_known_hosts"),
        ]
        (directory / "ssh_config").write_text(
            "\n".join(
                _SSH_CONFIG.format(
                    alias=alias,
                    port=port,
                    key=directory / key,
                    known_hosts=directory / known,
                )
                for alias, key, known in blocks
            )
        )
        bin_dir = directory / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "ssh"
        shim.write_text(f'#!/bin/sh\nexec {ssh} -F {directory / "ssh_config"} "$@"\n')
        shim.chmod(0o755)
        log = directory / "sshd.log"
        process = _spawn([sshd, "-D", "-e", "-f", str(directory / "sshd_config")], log)

        def listening() -> bool:
            with socket.socket() as sock:
                return sock.connect_ex(("127.0.0.1", port)) == 0

        _wait_until(listening, process, log, "sshd")
        yield SshServer(directory, port, {"PATH": f"{bin_dir}:{os.environ.get('PATH', '')}"})
    finally:
        if process is not None:
            _stop(process)
        shutil.rmtree(directory, ignore_errors=True)
        if made_privsep:
            with contextlib.suppress(OSError):
                privsep.rmdir()


# --------------------------------------------------------------------------- podman service


@dataclass
class PodmanService(SecondEngine):
    """A podman API service with its own storage: ``host`` is its ``unix://`` address."""

    host_option: str = "--url"

    def reap_exec_helpers(self) -> list[int]:
        """Kill the service's ``conmon`` processes whose container is gone; return their pids.

        For every exec through the API, podman 4.3's service starts a conmon with
        ``--exit-delay 300``: it stays five minutes after the command ended (so that a
        client can still read the exit code), then runs ``podman --root <this storage>
        container cleanup``, even when the container was removed in between.
        """
        live = set(self.cli("ps", "-aq", "--no-trunc").split())
        gone = []
        for pid, argv in _helpers_of(self.directory).items():
            conmon = os.path.basename(argv[0]).startswith("conmon") and "-c" in argv
            if conmon and argv[argv.index("-c") + 1] not in live:
                gone.append(pid)
        _kill(gone)
        return gone


@contextlib.contextmanager
def podman_service(
    base_image: str | None = None, podman: str = "podman"
) -> Iterator[PodmanService]:
    """``podman --root … --runroot … system service --time=0 unix://…``. Images and volumes
    are its own; networks are shared configuration. ``base_image`` is copied from the local
    storage (``podman save | podman --url … load``)."""
    cli = shutil.which(podman)
    if cli is None:
        raise RuntimeError("podman is needed")
    directory = _tempdir("dcmr-podman-")
    process: subprocess.Popen[bytes] | None = None
    host = f"unix://{directory}/podman.sock"
    storage = ["--root", str(directory / "root"), "--runroot", str(directory / "run")]
    try:
        log = directory / "service.log"
        process = _spawn(
            [cli, *storage, "system", "service", "--time=0", host], log, tmp=directory / "tmp"
        )
        _wait_until(
            lambda: (
                (directory / "podman.sock").exists() and _answers([cli, "--url", host, "ps", "-q"])
            ),
            process,
            log,
            "podman service",
        )
        service = PodmanService(directory, host, cli)
        if base_image:
            _pipe([cli, "save", base_image], [cli, "--url", host, "load"])
        yield service
    finally:
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(Exception):
                    _run([cli, "--url", host, "rm", "-a", "-f", "-t", "0"], timeout=120)
            _stop(process)
        _kill(list(_helpers_of(directory)))  # exec conmons waiting out their exit delay
        _remove_dir(directory)  # unmounts what the storage left mounted (its overlay home)
