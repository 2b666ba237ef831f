"""Choosing and creating engines."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .core.base import ContainerEngine
from .core.enums import ContainerRuntime
from .core.exceptions import ContainerError, InvalidConfigError, RuntimeNotAvailableError

if TYPE_CHECKING:
    from .implementations.docker.engine import DockerEngine

__all__ = ["ENV_RUNTIME", "ContainerEngineFactory"]

#: Environment variable naming the runtime to use when none is given.
ENV_RUNTIME = "DOTFILES_CONTAINER_RUNTIME"
_PREFERENCE = (ContainerRuntime.DOCKER, ContainerRuntime.PODMAN)


def _runtime(value: ContainerRuntime | str) -> ContainerRuntime:
    try:
        return ContainerRuntime(value.lower() if isinstance(value, str) else value)
    except ValueError:
        names = ", ".join(r.value for r in ContainerRuntime)
        raise InvalidConfigError("runtime", value, f"must be one of {names}") from None


def _is_podman(document: Mapping[str, Any]) -> bool:
    """True when a ``version`` document comes from podman (also behind a ``docker`` name)."""
    client = document.get("Client")
    if not isinstance(client, dict):
        return False
    # podman: "APIVersion", "OsArch", "BuiltTime"; docker: "ApiVersion", "Os", "Arch".
    return "OsArch" in client or "BuiltTime" in client or "APIVersion" in client


class ContainerEngineFactory:
    """Creates engines and tells which runtimes work here."""

    @staticmethod
    def engine_class(runtime: ContainerRuntime | str) -> type[DockerEngine]:
        """The engine class for ``runtime`` (imported on first use)."""
        if _runtime(runtime) is ContainerRuntime.PODMAN:
            from .implementations.podman.engine import PodmanEngine

            return PodmanEngine
        from .implementations.docker.engine import DockerEngine

        return DockerEngine

    @classmethod
    def create(
        cls,
        runtime: ContainerRuntime | str | None = None,
        command: str | None = None,
        *,
        timeout: float | None = None,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> ContainerEngine:
        """An engine for ``runtime``, verified to answer.

        Args:
            runtime: A :class:`ContainerRuntime` or its value. None: ``$DOTFILES_CONTAINER_RUNTIME``
                if set, else the first available of docker, podman.
            command: The CLI to run (a name on PATH or a path); default: the runtime's name.
            timeout: Default limit, in seconds, for one CLI call (120 when None).
            global_args: Options put before every subcommand (``--context``, ``--url``...).
            env: Extra environment for every call (``DOCKER_HOST``, ``CONTAINER_HOST``...).

        Raises:
            RuntimeNotAvailableError: The CLI is missing or its daemon/service does not answer.

        A ``docker`` command that is really podman (the podman-docker shim) gives a
        :class:`PodmanEngine` running that command.
        """
        if runtime is None:
            runtime = os.environ.get(ENV_RUNTIME) or None
        if runtime is None:
            if command is not None:
                runtime = ContainerRuntime.DOCKER  # identified by the probe below
            else:
                return cls._first_available(timeout=timeout, global_args=global_args, env=env)
        wanted = _runtime(runtime)
        engine = cls.engine_class(wanted)(
            command, timeout=timeout, global_args=global_args, env=env
        )
        try:
            document = engine.version_document()
        except RuntimeNotAvailableError:
            raise
        except ContainerError as exc:
            raise RuntimeNotAvailableError(
                f"{wanted.value} does not answer: {exc.message}",
                runtime=wanted.value,
                command=exc.command,
                exit_code=exc.exit_code,
                stderr=exc.stderr,
            ) from exc
        if _is_podman(document) and wanted is ContainerRuntime.DOCKER:
            from .implementations.podman.engine import PodmanEngine

            return PodmanEngine(engine.command, timeout=timeout, global_args=global_args, env=env)
        if not _is_podman(document) and not engine.server_version(document):
            raise RuntimeNotAvailableError(
                f"{wanted.value} server did not report a version", runtime=wanted.value
            )
        return engine

    @classmethod
    def _first_available(cls, **kwargs: Any) -> ContainerEngine:
        failures = []
        for runtime in _PREFERENCE:
            try:
                return cls.create(runtime, **kwargs)
            except RuntimeNotAvailableError as exc:
                failures.append(f"{runtime.value}: {exc.message}")
        raise RuntimeNotAvailableError(
            "no container runtime is available (" + "; ".join(failures) + ")", runtime="any"
        )

    @classmethod
    def detect(cls) -> ContainerRuntime:
        """The runtime :meth:`create` would pick with no arguments."""
        return cls.create().runtime

    @classmethod
    def is_available(cls, runtime: ContainerRuntime | str) -> bool:
        """True when ``runtime``'s CLI runs and its daemon/service answers."""
        try:
            return cls.create(runtime).runtime is _runtime(runtime)
        except RuntimeNotAvailableError:
            return False

    @classmethod
    def available_runtimes(cls) -> list[ContainerRuntime]:
        """The runtimes that answer here, in order of preference."""
        return [r for r in _PREFERENCE if cls.is_available(r)]
