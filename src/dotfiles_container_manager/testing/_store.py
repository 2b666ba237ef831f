"""The state one fake engine's four managers share, behind one lock.

Everything a manager does happens inside ``with store.lock`` and leaves the store
consistent: container <-> image/volume/network links are kept on both sides, so removing
anything is O(1) in the number of other resources.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, TypeVar

from ..core.enums import ContainerRuntime
from ..core.exceptions import (
    ContainerError,
    ContainerNotFoundError,
    ContainerOperationError,
    ImageNotFoundError,
    NetworkNotFoundError,
    VolumeNotFoundError,
)
from ..implementations.cli.parsing import normalize_reference
from ._model import Call, Container, ExecRule, Image, Network, RunRule, Volume

__all__ = ["DOCKER_VERSION", "PODMAN_VERSION", "Store", "parse_since"]

#: The versions the fake answers with: those the library's runtime notes were measured on.
DOCKER_VERSION = "20.10.24"
PODMAN_VERSION = "4.3.1"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The engine default limit of a call (what a wait that never ends reports).
DEFAULT_TIMEOUT = 120.0

# Generated container names, in docker's style (a number is added once all are used).
_ADJECTIVES = (
    "admiring", "amazing", "awesome", "blissful", "bold", "brave", "charming", "clever",
    "dreamy", "eager", "elegant", "epic", "festive", "focused", "friendly", "gallant",
    "happy", "hopeful", "jolly", "keen", "kind", "lucid", "magical", "modest", "nifty",
    "optimistic", "peaceful", "practical", "quirky", "relaxed", "serene", "sharp",
    "stoic", "sweet", "tender", "upbeat", "vibrant", "wizardly", "youthful", "zen",
)  # fmt: skip
_NAMES = (
    "albattani", "babbage", "bardeen", "bohr", "cerf", "curie", "darwin", "dijkstra",
    "einstein", "euler", "fermat", "feynman", "galileo", "gauss", "hamilton", "hopper",
    "hypatia", "jemison", "kepler", "knuth", "lamport", "liskov", "lovelace", "maxwell",
    "mendel", "meitner", "newton", "noether", "pascal", "ramanujan", "ritchie", "shannon",
    "tesla", "thompson", "torvalds", "turing", "wilson", "wozniak", "wright", "yonath",
)  # fmt: skip

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_DURATIONS = re.compile(r"(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+")
_SCALE = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}

T = TypeVar("T")


def parse_since(value: str, now: float) -> float | None:
    """A point in time, in unix seconds, from what ``--since``/``until`` accept: a Go
    duration before ``now`` (``"10m"``, ``"1h30m"``), unix seconds, or an RFC 3339 time.
    None when it is none of those."""
    if _DURATIONS.fullmatch(value):
        seconds = sum(float(n) * _SCALE[unit] for n, unit in _DURATION.findall(value))
        return now - seconds
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


@lru_cache(maxsize=256)
def regex(pattern: str) -> re.Pattern[str] | None:
    """A compiled filter pattern (None when it does not compile)."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


class Store:
    """The engine's state, its lock, its call log and its error wording."""

    def __init__(self, runtime: ContainerRuntime) -> None:
        self.runtime = runtime
        self.podman = runtime is ContainerRuntime.PODMAN
        self.lock = threading.RLock()
        self.calls: list[Call] = []
        self.containers: dict[str, Container] = {}
        self.container_names: dict[str, Container] = {}
        self.images: dict[str, Image] = {}
        self.tags: dict[str, Image] = {}
        # reference -> the image pushed as it (None: one the registry held from the start)
        self.registry: dict[str, Image | None] = {}
        self.volumes: dict[str, Volume] = {}
        self.networks: dict[str, Network] = {}
        self.network_names: dict[str, Network] = {}
        self.exec_rules: list[ExecRule] = []
        self.run_rules: list[RunRule] = []
        self.builds = 0  # no_cache builds get a new id each time
        self._serial = 0
        self._names = 0
        self._ports = 32768
        self._second = 0
        self._now = datetime(1970, 1, 1, tzinfo=timezone.utc)

    # ------------------------------------------------------------------ bookkeeping

    def record(self, manager: str, method: str, args: dict[str, Any]) -> None:
        self.calls.append(Call(manager, method, args))

    def now(self) -> datetime:
        """The current time to the second (what the records carry)."""
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._now = datetime.fromtimestamp(second, timezone.utc)
        return self._now

    def new_id(self, kind: bytes) -> str:
        """A 64-hex id, deterministic for a given engine history."""
        self._serial += 1
        return hashlib.sha256(b"%s:%d" % (kind, self._serial)).hexdigest()

    def new_seq(self) -> int:
        """An increasing number: creation order."""
        self._serial += 1
        return self._serial

    def new_name(self) -> str:
        """A generated container name in docker's ``adjective_name`` style, unused."""
        while True:
            n = self._names
            self._names += 1
            size = len(_ADJECTIVES) * len(_NAMES)
            adjective = _ADJECTIVES[n % len(_ADJECTIVES)]
            name = f"{adjective}_{_NAMES[(n // len(_ADJECTIVES)) % len(_NAMES)]}"
            if n >= size:
                name += str(n // size)
            if name not in self.container_names:
                return name

    def new_port(self, taken: set[tuple[str, int, str]]) -> int:
        """A host port from the ephemeral range that no running container publishes."""
        while True:
            port = self._ports
            self._ports = 32768 if port >= 60999 else port + 1
            if not any(p == port for _, p, _ in taken):
                return port

    # ------------------------------------------------------------------ images

    def seed_config(self) -> dict[str, Any]:
        """The config of an image the fake knows only by name (given at start, or pulled
        from its registry): a busybox-like one."""
        return {
            "Env": [f"PATH={DEFAULT_PATH}"],
            "Cmd": ["/bin/sh"],
            "Entrypoint": None,
            "WorkingDir": "",
            "User": "",
            "Labels": None,
            "OnBuild": None,
        }

    def seed(self, reference: str) -> Image:
        """An image present from the start, tagged ``reference``."""
        ref = normalize_reference(reference)
        image_id = "sha256:" + hashlib.sha256(f"image:{ref}".encode()).hexdigest()
        image = self.images.get(image_id)
        if image is None:
            image = Image(image_id, self.seed_config(), created=self.now())
            self.images[image_id] = image
        self.tag(image, ref)
        return image

    def tag(self, image: Image, ref: str) -> None:
        """Point ``ref`` (normalised) at ``image``, moving it from another image."""
        old = self.tags.get(ref)
        if old is image:
            return
        if old is not None:
            old.tags.remove(ref)
            old.info = None
        self.tags[ref] = image
        image.tags.append(ref)
        image.info = None

    def untag(self, ref: str) -> None:
        image = self.tags.pop(ref)
        image.tags.remove(ref)
        image.info = None

    def children(self, image: Image) -> list[Image]:
        return [other for other in self.images.values() if other.parent == image.id]

    def delete_image(self, image: Image) -> list[str]:
        """Delete ``image`` (all its tags) and, as docker does, each untagged parent that
        nothing else uses; return the ids deleted."""
        deleted = []
        current: Image | None = image
        while current is not None:
            for ref in list(current.tags):
                self.untag(ref)
            del self.images[current.id]
            deleted.append(current.id)
            parent = self.images.get(current.parent) if current.parent else None
            if parent is None or parent.tags or parent.users or self.children(parent):
                break
            current = parent
        return deleted

    def pull(self, ref: str) -> Image:
        """Fetch ``ref`` (normalised) from the fake registry into the local images."""
        pushed = self.registry[ref]
        image = self.images.get(pushed.id) if pushed is not None else None
        if image is None and pushed is not None:
            image = Image(
                pushed.id,
                pushed.config,
                created=pushed.created,
                parent=pushed.parent if pushed.parent in self.images else None,
                size=pushed.size,
            )
            self.images[image.id] = image
        if image is None:
            image_id = "sha256:" + hashlib.sha256(f"image:{ref}".encode()).hexdigest()
            image = self.images.get(image_id)
            if image is None:
                image = Image(image_id, self.seed_config(), created=self.now())
                self.images[image_id] = image
        self.tag(image, ref)
        return image

    # ------------------------------------------------------------------ errors

    def error(
        self,
        kind: type[ContainerError],
        message: str,
        argv: Sequence[str],
        *,
        code: int | None = None,
        podman_code: int | None = None,
    ) -> ContainerError:
        """The exception a real engine's CLI call ``argv`` would have raised through this
        library: ``.command`` the equivalent argv, ``.exit_code`` the CLI's status (docker
        1, podman 125 unless given), ``.stderr`` the message as the CLI prints errors."""
        if self.podman:
            status = podman_code if podman_code is not None else code or 125
            stderr = f"Error: {message}"
        else:
            status = code or 1
            stderr = f"Error response from daemon: {message}"
        return kind(message, command=[self.runtime.value, *argv], exit_code=status, stderr=stderr)

    # ------------------------------------------------------------------ lookups

    def find_container(self, ref: str) -> Container | None:
        """By full id, name, or unique id prefix (as the CLIs resolve them)."""
        found = self.containers.get(ref) or self.container_names.get(ref)
        if found is not None:
            return found
        if ref.startswith("/"):
            return self.container_names.get(ref[1:])
        return _unique_prefix(self.containers, ref)

    def container(
        self, ref: str, argv: Sequence[str], *, podman_code: int | None = None
    ) -> Container:
        found = self.find_container(ref)
        if found is None:
            raise self.no_container(ref, argv, podman_code=podman_code)
        return found

    def no_container(
        self, ref: str, argv: Sequence[str], *, podman_code: int | None = None
    ) -> ContainerError:
        return self.error(
            ContainerNotFoundError,
            f"No such container: {ref}"
            if not self.podman
            else f'no container with name or ID "{ref}" found: no such container',
            argv,
            podman_code=podman_code,
        )

    def find_image(self, ref: str) -> Image | None:
        """By reference (normalised: ``busybox`` is ``busybox:latest``), full id, or unique
        id prefix."""
        if ref.startswith("sha256:"):
            digits = ref[7:]
            if len(digits) == 64:
                return self.images.get(ref)
            return _unique_prefix(self.images, ref) if len(digits) >= 4 else None
        found = self.tags.get(normalize_reference(ref))
        if found is not None:
            return found
        if _HEX.fullmatch(ref):
            if len(ref) == 64:
                return self.images.get(f"sha256:{ref}")
            return _unique_prefix(self.images, f"sha256:{ref}")
        return None

    def image(self, ref: str, argv: Sequence[str]) -> Image:
        found = self.find_image(ref)
        if found is None:
            raise self.error(
                ImageNotFoundError,
                f"No such image: {ref}" if not self.podman else f"{ref}: image not known",
                argv,
            )
        return found

    def find_network(self, ref: str) -> Network | None:
        found = self.network_names.get(ref) or self.networks.get(ref)
        if found is not None:
            return found
        return _unique_prefix(self.networks, ref) if _HEX.fullmatch(ref) else None

    def network(self, ref: str, argv: Sequence[str], *, podman_code: int | None = None) -> Network:
        found = self.find_network(ref)
        if found is None:
            raise self.error(
                NetworkNotFoundError,
                f"network {ref} not found"
                if not self.podman
                else f"unable to find network with name or ID {ref}: network not found",
                argv,
                podman_code=podman_code,
            )
        return found

    def attach(self, container: Container, network: Network, aliases: tuple[str, ...]) -> None:
        """Connect ``container`` to ``network`` (with the next free address)."""
        network.hosts += 1
        network.members[container.id] = network.hosts
        network.info = None
        container.networks[network.name] = network
        container.aliases[network.name] = aliases
        container.info = container.list_info = None

    def volume(self, name: str, argv: Sequence[str]) -> Volume:
        found = self.volumes.get(name)
        if found is None:
            raise self.no_volume(name, argv)
        return found

    def no_volume(
        self, name: str, argv: Sequence[str], *, podman_code: int | None = None
    ) -> ContainerError:
        return self.error(
            VolumeNotFoundError,
            f"get {name}: no such volume"
            if not self.podman
            else f'no volume with name "{name}" found: no such volume',
            argv,
            podman_code=podman_code,
        )

    def image_matches(self, target: str, image_id: str) -> bool:
        """True when ``target`` names the image ``image_id`` (reference, id or prefix)."""
        found = self.find_image(target)
        return found is not None and found.id == image_id

    def invalid_filter(
        self, kind: type[ContainerError], key: str, argv: Sequence[str]
    ) -> ContainerError:
        return self.error(
            kind,
            f"Invalid filter '{key}'" if not self.podman else f"{key} is an invalid filter",
            argv,
        )

    def ambiguous(self, ref: str, argv: Sequence[str]) -> ContainerError:
        return self.error(ContainerOperationError, f"multiple IDs found with prefix {ref}", argv)


_HEX = re.compile(r"[0-9a-f]{4,64}")


def _unique_prefix(items: dict[str, T], prefix: str) -> T | None:
    """The one item whose key starts with ``prefix`` (None when none or several)."""
    if len(prefix) < 3:
        return None
    found: T | None = None
    for key, item in items.items():
        if key.startswith(prefix):
            if found is not None:
                return None
            found = item
    return found
