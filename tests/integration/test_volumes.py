"""Volumes on real docker and podman: every VolumeManager method."""

from __future__ import annotations

import pytest

from dotfiles_container_manager import (
    ContainerEngine,
    VolumeConflictError,
    VolumeInfo,
    VolumeMount,
    VolumeNotFoundError,
)

from .conftest import Resources


def test_create_inspect_list_remove(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("vol")
    assert engine.volumes.create(name, labels={**res.labels, "role": "data"}) == name
    try:
        info = engine.volumes.inspect(name)
        assert isinstance(info, VolumeInfo)
        assert (info.name, info.driver, info.labels["role"]) == (name, "local", "data")
        assert info.mountpoint.endswith("/_data") and info.created is not None
        listed = [v for v in engine.volumes.list(filters={"label": "role=data"}) if v.name == name]
        assert len(listed) == 1 and listed[0].labels == info.labels
        assert engine.volumes.exists(name)
    finally:
        engine.volumes.remove(name)
    assert not engine.volumes.exists(name)


def test_create_existing_name_conflicts(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("vol")
    engine.volumes.create(name, labels=res.labels)
    try:
        with pytest.raises(VolumeConflictError):
            engine.volumes.create(name, labels=res.labels)
        assert engine.volumes.create(name, labels=res.labels, exist_ok=True) == name
    finally:
        engine.volumes.remove(name)


@pytest.mark.real_only("file contents in a volume")
def test_anonymous_volume_and_data_persist(engine: ContainerEngine, res: Resources) -> None:
    name = engine.volumes.create(labels=res.labels)
    try:
        assert len(name) == 64
        mount = [VolumeMount(name, "/data")]
        writer = engine.containers.run(
            res.config(command=["sh", "-c", "echo kept > /data/f"], volumes=mount)
        )
        engine.containers.wait(writer)
        engine.containers.remove(writer)
        reader = engine.containers.run(
            res.config(command=["cat", "/data/f"], volumes=[VolumeMount(name, "/data", True)])
        )
        engine.containers.wait(reader)
        assert engine.containers.logs(reader) == "kept\n"
        engine.containers.remove(reader)
    finally:
        engine.volumes.remove(name)


def test_remove_in_use_conflicts(engine: ContainerEngine, res: Resources) -> None:
    name = engine.volumes.create(res.name("vol"), labels=res.labels)
    cid = engine.containers.create(res.config(volumes=[VolumeMount(name, "/data")]))
    try:
        with pytest.raises(VolumeConflictError):
            engine.volumes.remove(name)
        assert engine.containers.exists(cid), "removing a volume must never remove containers"
    finally:
        engine.containers.remove(cid)
        engine.volumes.remove(name)


def test_prune_and_temporary(engine: ContainerEngine, res: Resources) -> None:
    name = engine.volumes.create(res.name("vol"), labels=res.labels)
    pruned = engine.volumes.prune(filters={"label": f"dcm-test={res.labels['dcm-test']}"})
    assert name in pruned and not engine.volumes.exists(name)
    with (
        pytest.raises(RuntimeError),
        engine.volumes.temporary(res.name("tmp"), labels=res.labels) as temp,
    ):
        assert engine.volumes.exists(temp)
        raise RuntimeError("body failed")
    assert not engine.volumes.exists(temp)


def test_missing_volume_errors(engine: ContainerEngine) -> None:
    assert not engine.volumes.exists("dcm-missing-vol")
    with pytest.raises(VolumeNotFoundError):
        engine.volumes.inspect("dcm-missing-vol")
    with pytest.raises(VolumeNotFoundError):
        engine.volumes.remove("dcm-missing-vol")
    engine.volumes.remove("dcm-missing-vol", force=True)  # force: missing is fine
