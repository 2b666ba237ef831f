"""Volumes on podman: what differs from docker."""

from __future__ import annotations

import builtins

from ..docker.volume import DockerVolumeManager

__all__ = ["PodmanVolumeManager"]


class PodmanVolumeManager(DockerVolumeManager):
    """Podman refuses an existing volume name by itself, so no check before create; its
    ``--label`` is read as CSV."""

    check_existing_before_create = False
    list_format = "{{json .}}"  # labels come as an object: nothing to tell apart
    labels_as_csv = True

    def _prune_all_args(self) -> builtins.list[str]:
        return []  # podman prunes named and anonymous volumes, and has no --all (4.x)
