"""Volumes on docker (and, through :class:`PodmanVolumeManager`, podman)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from ...core import validation as v
from ...core.exceptions import VolumeConflictError, VolumeError, VolumeNotFoundError
from ...core.managers.volume import VolumeManager
from ...core.types import VolumeInfo
from ..cli import parsing as p
from ..cli.manager import CLIManager
from .utils import filter_args

__all__ = ["DockerVolumeManager"]


class DockerVolumeManager(CLIManager, VolumeManager):
    """:class:`VolumeManager` over the docker CLI."""

    #: docker's ``volume create`` succeeds silently on an existing name (and ignores the new
    #: labels), so the name is checked first; podman refuses by itself.
    check_existing_before_create = True

    def create(
        self,
        name: str | None = None,
        *,
        driver: str | None = None,
        labels: Mapping[str, str] | None = None,
        options: Mapping[str, str] | None = None,
        exist_ok: bool = False,
    ) -> str:
        """Create a volume; return its name. An existing name raises VolumeConflictError
        unless ``exist_ok``."""
        args = ["volume", "create"]
        if driver is not None:
            args += ["--driver", v.check_reference("driver", driver)]
        for key, value in v.check_labels("labels", labels or {}).items():
            args += ["--label", f"{key}={value}"]
        for key, value in v.check_labels("options", options or {}).items():
            args += ["--opt", f"{key}={value}"]
        if name is not None:
            v.check_name("name", name)
            if self.check_existing_before_create and self.exists(name):
                if exist_ok:
                    return name
                raise VolumeConflictError(f"volume {name!r} already exists")
            args.append(name)
        try:
            result = self._run(args, VolumeError)
        except VolumeConflictError:
            if exist_ok and name is not None:
                return name
            raise
        lines = self._lines(result)
        return lines[-1] if lines else (name or "")

    def remove(self, name: str, force: bool = False) -> None:
        """Remove a volume. ``force``: a missing volume is not an error. Neither CLI's ``-f``
        is used: podman's would delete the containers using the volume."""
        v.check_reference("name", name)
        try:
            self._run(["volume", "rm", name], VolumeError)
        except VolumeNotFoundError:
            if not force:
                raise

    def exists(self, name: str) -> bool:
        """True when the volume exists."""
        v.check_reference("name", name)
        return self._probe(["volume", "inspect", "--format", "{{.Name}}", name], VolumeError)

    def inspect(self, name: str) -> VolumeInfo:
        """The record of a volume."""
        v.check_reference("name", name)
        return self.from_json(p.first_record(self._run(["volume", "inspect", name], VolumeError)))

    def list(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[VolumeInfo]:
        """Volumes from one ``volume ls`` call. docker's list does not print creation times
        or options: those are None/empty there (``inspect`` has them)."""
        args = ["volume", "ls", "--format", "{{json .}}", *filter_args(filters)]
        return [self.from_json(r) for r in p.load_records(self._run(args, VolumeError))]

    def prune(self, *, filters: Mapping[str, str] | None = None) -> builtins.list[str]:
        """Remove every unused volume, named or anonymous (matching ``filters``); return
        their names. docker's API 1.42+ prunes only anonymous volumes unless ``--all``,
        which older daemons refuse, so the flag follows the server's API version."""
        args = ["volume", "prune", "-f", *self._prune_all_args(), *filter_args(filters)]
        result = self._run(args, VolumeError)
        return [
            ln
            for ln in self._lines(result)
            if not ln.startswith(("Deleted Volumes:", "Total reclaimed space:"))
        ]

    def _prune_all_args(self) -> builtins.list[str]:
        # Known from the engine's version probe when the factory made it; else asked once.
        if self._runner.api_version is None:
            text = self._run(["version", "--format", "{{.Server.APIVersion}}"], VolumeError)
            self._runner.api_version = p.api_version(text.stdout_text) or (1, 41)
        return ["--all"] if self._runner.api_version >= (1, 42) else []

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> VolumeInfo:
        """A :class:`VolumeInfo` from ``volume inspect`` or ``volume ls`` JSON."""
        return VolumeInfo(
            name=p.as_str(data.get("Name")),
            driver=p.as_str(data.get("Driver"), "local"),
            mountpoint=p.as_str(data.get("Mountpoint")),
            labels=p.labels_from(data.get("Labels")),
            created=p.parse_time(data.get("CreatedAt")),
            scope=p.as_str(data.get("Scope"), "local"),
            options=p.labels_from(data.get("Options")),
            raw=data,
        )
