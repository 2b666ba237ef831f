"""Volumes on podman: what differs from docker."""

from __future__ import annotations

import builtins

from ...core.types import VolumeInfo
from ..cli import parsing as p
from ..docker.utils import filter_args
from ..docker.volume import DockerVolumeManager

__all__ = ["PodmanVolumeManager"]


class PodmanVolumeManager(DockerVolumeManager):
    """Podman refuses an existing volume name by itself, so no check before create; its
    ``--label`` is read as CSV."""

    check_existing_before_create = False
    labels_as_csv = True

    def _list(self, filters: dict[str, tuple[str, ...]]) -> builtins.list[VolumeInfo]:
        # One call: podman's `volume ls` JSON is inspect-shaped, labels as an object.
        args = ["volume", "ls", "--format", "{{json .}}", *filter_args(filters)]
        return [self.from_inspect(r) for r in p.load_records(self._call(args))]

    def _prune_all_args(self) -> builtins.list[str]:
        return []  # podman prunes named and anonymous volumes, and has no --all (4.x)
