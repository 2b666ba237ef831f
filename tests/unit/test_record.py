"""The records and configurations behave as the frozen dataclasses they replaced."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from dotfiles_container_manager.core import types
from dotfiles_container_manager.core.enums import ContainerState
from dotfiles_container_manager.core.record import Record, replace
from dotfiles_container_manager.implementations.cli.command import CommandResult

RECORDS = [
    *(
        getattr(types, name)
        for name in types.__all__
        if name not in ("Filters", "HealthState", "HEALTH_STATES")  # aliases and a constant
    ),
    CommandResult,
]


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: c.__name__)
def test_fields_are_the_init_parameters_in_order(cls: type[Record]) -> None:
    assert issubclass(cls, Record)
    assert cls._fields == tuple(inspect.signature(cls).parameters)
    assert cls.__match_args__ == cls._fields


def test_equality_hash_repr_frozen_pickle_replace() -> None:
    a = types.ContainerInfo("c" * 64, "n", "img", ContainerState.RUNNING, raw={"x": 1})
    b = types.ContainerInfo("c" * 64, "n", "img", ContainerState.RUNNING, raw={"y": 2})
    assert a == b  # raw is not compared
    assert a.labels == {} and a.labels is not b.labels  # a dict of its own, as default_factory
    assert "raw" not in repr(a) and repr(a).startswith("ContainerInfo(id=")
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.name = "m"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del a.name  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(a)) == a and copy.deepcopy(a) == a  # noqa: S301
    assert replace(a, name="m").name == "m" and replace(a, name="m").raw == {"x": 1}
    assert a != replace(a, name="m") and a != object()
    r1 = CommandResult(("docker", "ps"), 0, b"out", duration=1.0)
    assert r1 == CommandResult(("docker", "ps"), 0, b"out", duration=2.0)  # duration neither
    assert hash(r1) == hash(CommandResult(("docker", "ps"), 0, b"out"))
    assert repr(r1) == (
        "CommandResult(command=('docker', 'ps'), returncode=0, stdout=b'out', stderr=b'',"
        " duration=1.0)"
    )
    assert "secret" not in repr(types.BuildContext("FROM x\n", build_args={"K": "secret"}))
    with pytest.raises(TypeError):
        hash(a)  # a dict field: unhashable, as the dataclass was
    with pytest.raises(TypeError):
        replace(a, bogus=1)
