"""Volumes on docker (and, through :class:`PodmanVolumeManager`, podman)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from ...core.exceptions import VolumeConflictError, VolumeError, VolumeNotFoundError
from ...core.managers.volume import VolumeManager
from ...core.types import VolumeInfo
from ..cli import parsing as p
from ..cli.manager import CLIManager
from .utils import filter_args, label_args

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["DockerVolumeManager"]


class DockerVolumeManager(CLIManager, VolumeManager):
    """:class:`VolumeManager` over the docker CLI."""

    kind = "volume"
    #: The `ls --format`: rows with exact labels, in one call (podman prints them exactly).
    list_format = p.LABELLED_ROW
    error = VolumeError

    #: docker's ``volume create`` succeeds silently on an existing name (and ignores the new
    #: labels), so the name is checked first; podman refuses by itself.
    check_existing_before_create = True
    #: podman 4.3 splits `volume create --label` values as CSV ("a,b" became two labels):
    #: there each label is written as a quoted CSV field, which it keeps exactly.
    labels_as_csv = False

    def _create(
        self,
        name: str | None,
        driver: str | None,
        labels: dict[str, str],
        options: dict[str, str],
        exist_ok: bool,
    ) -> str:
        args = ["volume", "create"]
        if driver is not None:
            args += ["--driver", driver]
        args += label_args(labels, csv=self.labels_as_csv)
        for key, value in options.items():
            args += ["--opt", f"{key}={value}"]
        if name is not None:
            if self.check_existing_before_create and self._exists(name):
                if exist_ok:
                    return name
                raise VolumeConflictError(f"volume {name!r} already exists")
            args.append(name)
        try:
            result = self._call(args)
        except VolumeConflictError:
            if exist_ok and name is not None:
                return name
            raise
        lines = self._lines(result)
        return lines[-1] if lines else (name or "")

    def _remove(self, name: str, force: bool) -> None:
        # Neither CLI's -f is used: podman's would delete the containers using the volume.
        try:
            self._call(["volume", "rm", name])
        except VolumeNotFoundError:
            if not force:
                raise

    def _inspect(self, name: str) -> VolumeInfo:
        return self.from_inspect(self._inspect_record(name))

    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[VolumeInfo]:
        # One `volume ls` call, its labels exact (p.LABELLED_ROW); docker's rows have no
        # creation time or options (inspect has them). Rows whose labels even that cannot
        # tell (a key holding a comma) are inspected (see _exact_labels).
        args = ["volume", "ls", "--format", self.list_format, *filter_args(filters)]
        rows = self._exact_labels(p.load_labelled_records(self._call(args)), "Name", "Name")
        return [self.from_inspect(r) for r in rows]

    def _prune(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[str]:
        # Every unused volume, named or anonymous. docker's API 1.42+ prunes only anonymous
        # volumes unless --all, which older daemons refuse: the flag follows the API version.
        args = ["volume", "prune", "-f", *self._prune_all_args(), *filter_args(filters)]
        result = self._call(args)
        return [
            ln
            for ln in self._lines(result)
            if not ln.startswith(("Deleted Volumes:", "Total reclaimed space:"))
        ]

    def _prune_all_args(self) -> builtins.list[str]:
        # Known from the engine's version probe when the factory made it; else asked once.
        if self._runner.api_version is None:
            text = self._call(["version", "--format", "{{.Server.APIVersion}}"])
            self._runner.api_version = p.api_version(text.stdout_text) or (1, 41)
        return ["--all"] if self._runner.api_version >= (1, 42) else []

    @staticmethod
    def from_inspect(data: Mapping[str, Any]) -> VolumeInfo:
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
