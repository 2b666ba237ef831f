"""Choosing and creating engines."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from .core import validation as v
from .core.base import ContainerEngine
from .core.enums import ContainerRuntime
from .core.exceptions import InvalidConfigError, RuntimeNotAvailableError
from .core.record import replace
from .core.types import EngineOptions

# Not typing's TYPE_CHECKING: the library does not import typing at run time (~2.5 ms of a
# cold script); type checkers treat any `TYPE_CHECKING` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar

__all__ = ["ENV_RUNTIME", "ContainerEngineFactory"]

#: Environment variable naming the runtime to use when none is given.
ENV_RUNTIME = "DOTFILES_CONTAINER_RUNTIME"
_PREFERENCE = (ContainerRuntime.DOCKER, ContainerRuntime.PODMAN)
#: Engines create() returns instead of making one, innermost last: set for the length of a
#: test by ``dotfiles_container_manager.testing.use_engine()``.
_overrides: list[ContainerEngine] = []


def _runtime(value: ContainerRuntime | str) -> ContainerRuntime:
    try:
        return ContainerRuntime(value.lower() if isinstance(value, str) else value)
    except ValueError:
        names = ", ".join(r.value for r in ContainerRuntime)
        raise InvalidConfigError("runtime", value, f"must be one of {names}") from None


def _docker() -> type[ContainerEngine]:
    from .implementations.docker.engine import DockerEngine

    return DockerEngine


def _podman() -> type[ContainerEngine]:
    from .implementations.podman.engine import PodmanEngine

    return PodmanEngine


class ContainerEngineFactory:
    """Creates engines and tells which runtimes work here."""

    #: The engine class of each runtime, imported on first use (an import costs time that a
    #: script using one runtime should not pay for the other).
    registry: ClassVar[dict[ContainerRuntime, Callable[[], type[ContainerEngine]]]] = {
        ContainerRuntime.DOCKER: _docker,
        ContainerRuntime.PODMAN: _podman,
    }

    @classmethod
    def engine_class(cls, runtime: ContainerRuntime | str) -> type[ContainerEngine]:
        """The engine class registered for ``runtime``."""
        return cls.registry[_runtime(runtime)]()

    @classmethod
    def create(
        cls,
        runtime: ContainerRuntime | str | None = None,
        command: str | None = None,
        *,
        timeout: float | None = None,
        host: str | None = None,
        context: str | None = None,
        global_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> ContainerEngine:
        """An engine for ``runtime``, verified to answer (one ``version`` call).

        Args:
            runtime: A :class:`ContainerRuntime` or its value. None: ``$DOTFILES_CONTAINER_RUNTIME``
                if set, else the first available of docker, podman.
            command: The CLI to run (a name on PATH or a path); default: the runtime's name.
            timeout: Default limit, in seconds, for one CLI call (120 when None).
            host: Another engine to reach: docker ``--host`` / podman ``--url``
                (``unix://``, ``tcp://``, ``ssh://``).
            context: A named docker context (``--context``) / podman connection
                (``--connection``).
            global_args: Further options put before every subcommand.
            env: Extra environment for every call (``DOCKER_CONFIG``, ``CONTAINERS_CONF``...).

        Raises:
            RuntimeNotAvailableError: The CLI is missing or its daemon/service does not answer;
                its ``hint`` says what to do when the cause is known.
            InvalidConfigError: A bad runtime name or timeout.

        A ``docker`` command that is really podman (the podman-docker shim) gives a podman
        engine running that command.
        """
        v.check_optional_timeout("timeout", timeout)
        override = _overrides[-1:]  # one atomic read: another thread may leave its block
        if override:
            if runtime is not None:
                _runtime(runtime)  # a bad name is still refused
            return override[0]
        from_env = runtime is None and bool(os.environ.get(ENV_RUNTIME))
        if runtime is None:
            runtime = os.environ.get(ENV_RUNTIME) or None
        options = EngineOptions(command, timeout, host, context, global_args, env)
        if runtime is None and command is None:
            return cls._first_available(options)
        # A command without a runtime is identified by the probe.
        try:
            return cls._probed(runtime or ContainerRuntime.DOCKER, options)
        except RuntimeNotAvailableError as exc:
            if from_env:
                note = f"{ENV_RUNTIME}={runtime} chose it; unset it to use whichever answers"
                exc.hint = f"{exc.hint}; or {note}" if exc.hint else note
            raise

    @classmethod
    def _probed(cls, runtime: ContainerRuntime | str, options: EngineOptions) -> ContainerEngine:
        """The engine of the runtime that answers the probe of ``runtime``'s engine; a
        failure carries the doctor's diagnosis as its ``.hint``."""
        try:
            engine = cls.engine_class(runtime).from_options(options)
            answered = engine.probe()
        except RuntimeNotAvailableError as exc:
            from .diagnosis import explain  # only a failure pays for the diagnosis tables

            explain(exc)
            raise
        if answered is not engine.runtime:  # a `docker` that is podman: the same command
            same_cli = replace(options, command=engine.command)
            engine = cls.engine_class(answered).from_options(same_cli)
        return engine

    @classmethod
    def _first_available(cls, options: EngineOptions) -> ContainerEngine:
        failures, hints = [], []
        for runtime in _PREFERENCE:
            try:
                return cls._probed(runtime, options)
            except RuntimeNotAvailableError as exc:
                failures.append(f"{runtime.value}: {exc.message}")
                if exc.hint:
                    hints.append(f"{runtime.value}: {exc.hint}")
        raise RuntimeNotAvailableError(
            "no container runtime is available (" + "; ".join(failures) + ")",
            runtime="any",
            hint="; ".join(hints) or None,
        )

    @classmethod
    def detect(cls) -> ContainerRuntime:
        """The runtime :meth:`create` would pick with no arguments."""
        return cls.create().runtime

    @classmethod
    def is_available(cls, runtime: ContainerRuntime | str) -> bool:
        """True when ``runtime``'s CLI runs and its daemon/service answers (exactly when
        ``create(runtime)`` gives an engine of that runtime)."""
        try:
            return cls.create(runtime).runtime is _runtime(runtime)
        except RuntimeNotAvailableError:
            return False

    @classmethod
    def available_runtimes(cls) -> list[ContainerRuntime]:
        """The runtimes that answer here, in order of preference."""
        return [r for r in _PREFERENCE if cls.is_available(r)]
