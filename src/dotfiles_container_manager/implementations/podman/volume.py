"""Volumes on podman: what differs from docker."""

from __future__ import annotations

from ..docker.volume import DockerVolumeManager

__all__ = ["PodmanVolumeManager"]


class PodmanVolumeManager(DockerVolumeManager):
    """Podman refuses an existing volume name by itself, so no check before create."""

    check_existing_before_create = False

    def _prune_all_args(self) -> list[str]:
        return []  # podman prunes named and anonymous volumes, and has no --all (4.x)
