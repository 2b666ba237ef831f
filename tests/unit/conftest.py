"""Unit-test helpers: recorded CLI outputs and a scripted stand-in for the command runner.

``recorded(runtime, name)`` loads ``tests/fixtures/outputs/<runtime>/<name>.json`` (real
docker/podman output, see ``tests/fixtures/record_outputs.py``) as a :class:`CommandResult`.

:class:`FakeRunner` is a :class:`CommandRunner` that starts no process: each call is recorded
(argv, env, the bytes sent on stdin...) and answered by the next scripted response, a
:class:`CommandResult` or a function of the :class:`Call`. Like the real runner, a non-zero
exit with ``check=True`` raises what the real :class:`ErrorClassifier` makes of it. A
``stream()`` call is answered the same way, by a :class:`ScriptedStream` that yields the
response's stdout lines, then its stderr lines, then raises the classified error if it
failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager.core.exceptions import ContainerError
from dotfiles_container_manager.core.record import replace
from dotfiles_container_manager.implementations.cli.command import (
    CommandResult,
    Input,
    OutputStream,
)
from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier
from dotfiles_container_manager.implementations.cli.runner import DEFAULT_TIMEOUT
from dotfiles_container_manager.implementations.docker import (
    DockerContainerManager,
    DockerEngine,
    DockerImageManager,
    DockerNetworkManager,
    DockerVolumeManager,
)
from dotfiles_container_manager.implementations.podman import PodmanEngine

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "outputs"
RUNTIMES = ("docker", "podman")

# Each runtime's manager classes, as its engine declares them.
ENGINES: dict[str, type[DockerEngine]] = {"docker": DockerEngine, "podman": PodmanEngine}
CONTAINERS: dict[str, type[DockerContainerManager]] = {
    runtime: engine.container_manager_class for runtime, engine in ENGINES.items()
}
IMAGES: dict[str, type[DockerImageManager]] = {
    runtime: engine.image_manager_class() for runtime, engine in ENGINES.items()
}
VOLUMES: dict[str, type[DockerVolumeManager]] = {
    runtime: engine.volume_manager_class() for runtime, engine in ENGINES.items()
}
NETWORKS: dict[str, type[DockerNetworkManager]] = {
    runtime: engine.network_manager_class() for runtime, engine in ENGINES.items()
}


def classifier_for(runtime: str) -> ErrorClassifier:
    """The error classifier ``runtime``'s engine uses ("docker-20.10" is docker)."""
    engine = ENGINES["podman" if runtime == "podman" else "docker"]
    return engine.classifier_class(runtime)


def _executable(runtime: str) -> str:
    # "docker-20.10" holds outputs of the older docker client.
    return "podman" if runtime == "podman" else "docker"


@cache
def _load(runtime: str, name: str) -> dict[str, Any]:
    path = FIXTURES / runtime / f"{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="ascii"))
    return data


def recorded(runtime: str, name: str) -> CommandResult:
    """The recorded call ``name`` of ``runtime`` as the runner would have returned it."""
    data = _load(runtime, name)
    return CommandResult(
        command=(_executable(runtime), *data["argv"]),
        returncode=data["returncode"],
        stdout=data["stdout"].encode("utf-8", "surrogateescape"),
        stderr=data["stderr"].encode("utf-8", "surrogateescape"),
    )


def recorded_json(runtime: str, name: str) -> Any:
    """The recorded stdout of ``name`` parsed as one JSON document."""
    return json.loads(_load(runtime, name)["stdout"])


def fixture_names(runtime: str) -> list[str]:
    """Every recorded call of ``runtime``."""
    return sorted(p.stem for p in (FIXTURES / runtime).glob("*.json"))


def result(
    stdout: bytes | str = b"", stderr: bytes | str = b"", returncode: int = 0
) -> CommandResult:
    """A scripted result (the runner fills in the command)."""
    out = stdout.encode() if isinstance(stdout, str) else stdout
    err = stderr.encode() if isinstance(stderr, str) else stderr
    return CommandResult(command=(), returncode=returncode, stdout=out, stderr=err)


@dataclass(frozen=True)
class Call:
    """One call made through a :class:`FakeRunner`."""

    args: tuple[str, ...]
    error: type[ContainerError]
    check: bool
    env: Mapping[str, str] | None
    input: bytes | None
    timeout: float | None
    merge_stderr: bool
    interrupt_grace: float | None = None
    interrupt: Callable[[int], None] | None = None
    streamed: bool = False

    def option(self, flag: str) -> str:
        """The value after ``flag`` (which must occur once)."""
        positions = [i for i, arg in enumerate(self.args) if arg == flag]
        assert len(positions) == 1, f"{flag} occurs {len(positions)} times in {self.args}"
        return self.args[positions[0] + 1]

    def values(self, flag: str) -> list[str]:
        """Every value given to ``flag``, in order."""
        return [self.args[i + 1] for i, arg in enumerate(self.args[:-1]) if arg == flag]


Response = CommandResult | Callable[[Call], CommandResult]


def split_lines(data: bytes) -> list[str]:
    """Lines as the real runner hands them out (one trailing CR dropped, a last line
    without newline kept)."""
    parts = data.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    return [
        (part[:-1] if part.endswith(b"\r") else part).decode("utf-8", errors="replace")
        for part in parts
    ]


class ScriptedStream:
    """A :class:`ProcessStream` stand-in over one scripted :class:`CommandResult`."""

    def __init__(
        self, answer: CommandResult, classifier: ErrorClassifier, error: type[ContainerError]
    ) -> None:
        self.answer = answer
        self.command = list(answer.command)
        self.closed = False
        self._classifier = classifier
        self._error = error
        self._ended = False
        self._items: Iterator[tuple[str, str]] = iter(
            [("stdout", line) for line in split_lines(answer.stdout)]
            + [("stderr", line) for line in split_lines(answer.stderr)]
        )

    @property
    def returncode(self) -> int | None:
        return self.answer.returncode if self._ended else None

    def __iter__(self) -> ScriptedStream:
        return self

    def __next__(self) -> tuple[str, str]:
        if self.closed:
            raise StopIteration
        try:
            return next(self._items)
        except StopIteration:
            self._ended = True
            self.closed = True
            if self.answer.returncode != 0:
                raise self._classifier.classify(self.answer, self._error) from None
            raise

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> ScriptedStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class FakeRunner:
    """A :class:`~dotfiles_container_manager.implementations.cli.command.Runner` that runs
    nothing and answers from a script. Engines take it as their ``runner=``."""

    def __init__(self, runtime: str = "docker", *responses: Response) -> None:
        self.runtime = runtime
        self.classifier = classifier_for(runtime)
        self.timeout = DEFAULT_TIMEOUT
        self.api_version: tuple[int, int] | None = None
        self.calls: list[Call] = []
        self.streams: list[ScriptedStream] = []
        self._responses: list[Response] = list(responses)

    def queue(self, *responses: Response) -> FakeRunner:
        """Add responses for the next calls."""
        self._responses.extend(responses)
        return self

    @property
    def pending(self) -> int:
        """Responses not consumed yet."""
        return len(self._responses)

    def argv(self, args: Sequence[str]) -> list[str]:
        """The argv the real runner would start."""
        return [self.runtime, *args]

    def classify(self, result: CommandResult, error: type[ContainerError]) -> ContainerError:
        """What the real classifier makes of ``result``."""
        return self.classifier.classify(result, error)

    def run(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ContainerError,
        check: bool = True,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        merge_stderr: bool = False,
        interrupt_grace: float | None = None,
    ) -> CommandResult:
        answer = self._answer(
            args,
            error=error,
            check=check,
            input=input,
            timeout=timeout,
            env=env,
            merge_stderr=merge_stderr,
            interrupt_grace=interrupt_grace,
        )
        if check and answer.returncode != 0:
            raise self.classifier.classify(answer, error)
        return answer

    def _answer(
        self,
        args: Sequence[str],
        *,
        input: Input,
        **options: Any,
    ) -> CommandResult:
        data: bytes | None = None
        if isinstance(input, (bytes, bytearray, memoryview)):
            data = bytes(input)
        elif input is not None:
            data = b"".join(bytes(chunk) for chunk in input)
        env = options.pop("env")
        call = Call(args=tuple(args), input=data, env=None if env is None else dict(env), **options)
        self.calls.append(call)
        if not self._responses:
            raise AssertionError(f"unscripted call: {list(args)}")
        response = self._responses.pop(0)
        answer = response(call) if callable(response) else response
        return replace(answer, command=tuple(self.argv(args)))

    def stream(
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ContainerError,
        input: Input = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        raw: bool = False,
        interrupt_grace: float | None = None,
        interrupt: Callable[[int], None] | None = None,
    ) -> OutputStream[Any]:
        assert not raw, "raw streams are not scripted"
        answer = self._answer(
            args,
            error=error,
            check=True,
            input=input,
            timeout=timeout,
            env=env,
            merge_stderr=False,
            interrupt_grace=interrupt_grace,
            interrupt=interrupt,
            streamed=True,
        )
        self.streams.append(ScriptedStream(answer, self.classifier, error))
        return self.streams[-1]


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest) -> str:
    """Each test taking ``runtime`` runs once for docker and once for podman."""
    value: str = request.param
    return value
