"""Enumerations shared by every runtime. Values are the strings the CLIs use."""

from __future__ import annotations

from enum import Enum

__all__ = ["ContainerRuntime", "ContainerState", "PullPolicy", "RestartPolicy"]


class ContainerRuntime(str, Enum):
    """A container runtime the library can drive."""

    DOCKER = "docker"
    PODMAN = "podman"

    def __str__(self) -> str:
        return self.value


class ContainerState(str, Enum):
    """The state of a container, the same on every runtime.

    Podman's extra states are mapped onto these (see :meth:`parse`): ``configured`` and
    ``initialized`` are CREATED, ``stopped`` is EXITED, ``stopping`` is RUNNING (it still
    runs until it stops). Anything unrecognised is UNKNOWN rather than an error.
    """

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, text: str | None) -> ContainerState:
        """Map a state string printed by docker or podman onto a member."""
        # a dict lookup: calling the Enum costs ten times more, once per listed container
        return _STATES.get((text or "").strip().lower(), cls.UNKNOWN)


_STATES = {
    **{state.value: state for state in ContainerState},
    # podman's extra states
    "configured": ContainerState.CREATED,
    "initialized": ContainerState.CREATED,
    "stopped": ContainerState.EXITED,
    "stopping": ContainerState.RUNNING,
}


class RestartPolicy(str, Enum):
    """What the runtime does when a container exits (``--restart``)."""

    NO = "no"
    ALWAYS = "always"
    UNLESS_STOPPED = "unless-stopped"
    ON_FAILURE = "on-failure"

    def __str__(self) -> str:
        return self.value


class PullPolicy(str, Enum):
    """When ``run``/``create`` pull the image (``--pull``)."""

    MISSING = "missing"
    ALWAYS = "always"
    NEVER = "never"

    def __str__(self) -> str:
        return self.value
