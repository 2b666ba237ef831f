"""Podman's wording of the failures the docker classifier knows."""

from __future__ import annotations

from ...core import exceptions as exc
from ..cli.errors import ErrorClassifier

__all__ = ["PodmanErrorClassifier"]


class PodmanErrorClassifier(ErrorClassifier):
    """:class:`ErrorClassifier` with podman's messages added to each family."""

    unavailable = (
        *ErrorClassifier.unavailable,
        r"cannot connect to podman",
        r"unable to connect to podman",
        r"reading system config",
        r"finding config on system",
        r"default oci runtime \S+ not found",
        r"failed to getdriver",
        # --url ssh://...: podman's own ssh client ("failed to connect: ssh: handshake
        # failed...", "failed to connect: dial tcp ...: connection refused").
        r"failed to connect: (?:ssh: |dial tcp )",
        r"service destination not found",
    )
    not_found = (
        (r"no container with (?:name or id|id)", exc.ContainerNotFoundError),
        (r"container \"[^\"]+\" does not exist", exc.ContainerNotFoundError),
        (r"no volume with name", exc.VolumeNotFoundError),
        (r"unable to find network", exc.NetworkNotFoundError),
        (r"image not known|did not resolve to an alias", exc.ImageNotFoundError),
        *ErrorClassifier.not_found,
    )
    conflict_first = (r"is not connected to (?:cni )?network",)
    conflict = (
        *ErrorClassifier.conflict,
        r"being used",
        r"associated containers",
        r"cannot remove container .* as it is running",
        r"state improper",
        r"already connected",
        r"more than one tag",  # rmi of an id with several tags: "please force removal"
    )
