"""Volumes in memory."""

from __future__ import annotations

import builtins
import time
from collections.abc import Sequence

from ..core.exceptions import VolumeConflictError, VolumeError
from ..core.managers.volume import VolumeManager
from ..core.types import VolumeInfo
from ._filters import label_match, name_match, select
from ._model import Volume
from ._store import Store, parse_since

__all__ = ["FakeVolumeManager"]

_DOCKER_KEYS = frozenset({"dangling", "driver", "label", "name"})
_PODMAN_KEYS = _DOCKER_KEYS | {"opt", "scope", "until", "after", "since"}


def _dangling(volume: Volume, value: str) -> bool:
    return (not volume.users) == (value.lower() in ("true", "1"))


class FakeVolumeManager(VolumeManager):
    """:class:`VolumeManager` in memory (see :class:`~.engine.FakeEngine`)."""

    def __init__(self, store: Store) -> None:
        self._s = store

    def _create(
        self,
        name: str | None,
        driver: str | None,
        labels: dict[str, str],
        options: dict[str, str],
        exist_ok: bool,
    ) -> str:
        s = self._s
        with s.lock:
            s.record(
                "volumes",
                "create",
                {
                    "name": name,
                    "driver": driver,
                    "labels": labels,
                    "options": options,
                    "exist_ok": exist_ok,
                },
            )
            argv = ["volume", "create", *([name] if name else [])]
            if name is not None and name in s.volumes:
                if exist_ok:
                    return name
                raise s.error(
                    VolumeConflictError,
                    f"volume with name {name} already exists: volume already exists"
                    if s.podman
                    else f"volume {name!r} already exists",
                    argv,
                )
            if driver not in (None, "local"):
                raise s.error(
                    VolumeError,
                    f"volume {name} uses volume plugin {driver} but it could not be retrieved: "
                    f"no volume plugin with name {driver} available: required plugin missing"
                    if s.podman
                    else f"create {name}: error looking up volume plugin {driver}: plugin "
                    f'"{driver}" not found',
                    argv,
                )
            name = name or s.new_id(b"volume")
            root = "/var/lib/containers/storage/volumes" if s.podman else "/var/lib/docker/volumes"
            s.volumes[name] = Volume(
                name,
                driver="local",
                labels=dict(labels),
                options=dict(options),
                created=s.now(),
                mountpoint=f"{root}/{name}/_data",
            )
            return name

    def _remove(self, name: str, force: bool) -> None:
        s = self._s
        with s.lock:
            s.record("volumes", "remove", {"name": name, "force": force})
            argv = ["volume", "rm", name]
            volume = s.volumes.get(name)
            if volume is None:
                if force:
                    return
                raise s.no_volume(name, argv, podman_code=1)
            if volume.users:
                users = sorted(volume.users)
                raise s.error(
                    VolumeConflictError,
                    f"volume {name} is being used by the following container(s): "
                    f"{', '.join(users)}: volume is being used"
                    if s.podman
                    else f"remove {name}: volume is in use - [{', '.join(users)}]",
                    argv,
                    podman_code=2,
                )
            del s.volumes[name]

    def _exists(self, name: str) -> bool:
        s = self._s
        with s.lock:
            s.record("volumes", "exists", {"name": name})
            return name in s.volumes

    def _inspect(self, name: str) -> VolumeInfo:
        s = self._s
        with s.lock:
            s.record("volumes", "inspect", {"name": name})
            return self._info(s.volume(name, ["volume", "inspect", name]), listed=False)

    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[VolumeInfo]:
        s = self._s
        with s.lock:
            s.record("volumes", "list", {"filters": filters})
            volumes = sorted(s.volumes.values(), key=lambda v: v.name)
            chosen = self._select(volumes, filters, ["volume", "ls"], prune=False)
            return [self._info(v, listed=True) for v in chosen]

    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        s = self._s
        with s.lock:
            s.record("volumes", "prune", {"filters": filters})
            # docker's 20.10 daemon (API 1.41) keeps volumes created with driver options
            unused = [v for v in s.volumes.values() if not v.users and (s.podman or not v.options)]
            chosen = self._select(unused, filters, ["volume", "prune", "-f"], prune=True)
            for volume in chosen:
                del s.volumes[volume.name]
            return [v.name for v in chosen]

    def _select(
        self,
        volumes: builtins.list[Volume],
        filters: dict[str, tuple[str, ...]],
        argv: Sequence[str],
        *,
        prune: bool,
    ) -> builtins.list[Volume]:
        s = self._s
        now = time.time()

        def until(volume: Volume, value: str) -> bool:
            moment = parse_since(value, now)
            if moment is None:
                raise s.error(VolumeError, f"invalid until {value!r}", argv)
            return volume.created.timestamp() < moment

        predicates = (
            {"label": lambda v, x: label_match(v.labels, x), "until": until}
            if prune
            else {
                "name": lambda v, x: name_match(v.name, x),
                "label": lambda v, x: label_match(v.labels, x),
                "driver": lambda v, x: v.driver == x,
                "dangling": _dangling,
            }
        )
        if not prune and s.podman:
            predicates["until"] = until
        known = (
            frozenset({"label", "until", "all"})
            if prune
            else (_PODMAN_KEYS if s.podman else _DOCKER_KEYS)
        )
        return select(s, volumes, filters, predicates, known=known, error=VolumeError, argv=argv)

    def _info(self, volume: Volume, *, listed: bool) -> VolumeInfo:
        # docker's `volume ls` prints neither the creation time nor the options
        brief = listed and not self._s.podman
        return VolumeInfo(
            name=volume.name,
            driver=volume.driver,
            mountpoint=volume.mountpoint,
            labels=dict(volume.labels),
            created=None if brief else volume.created,
            scope="local",
            options={} if brief else dict(volume.options),
            raw={
                "Name": volume.name,
                "Driver": volume.driver,
                "Mountpoint": volume.mountpoint,
                "Labels": dict(volume.labels),
                "Options": dict(volume.options),
                "Scope": "local",
                **({} if brief else {"CreatedAt": volume.created.isoformat()}),
            },
        )
