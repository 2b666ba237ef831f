"""The fake engine's files, one-shot runs and image archives: the same contract as the real
engines' (tests/integration/test_files.py runs the shared cases on it too)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    CommandTimeoutError,
    ContainerNotFoundError,
    ContainerPathError,
    ImageError,
    ImageNotFoundError,
    RunConfig,
)
from dotfiles_container_manager.testing import FakeEngine

BASE = "dcm-test-base:latest"


@pytest.fixture
def fake() -> FakeEngine:
    return FakeEngine(images=[BASE])


@pytest.fixture
def box(fake: FakeEngine) -> str:
    return fake.containers.run(RunConfig(BASE, command=["sleep", "300"]))


def test_files_round_trip_and_errors(fake: FakeEngine, box: str, tmp_path: Path) -> None:
    fake.containers.put_files(box, "/etc", {"app/a.toml": b"a", "app/b": "b"})
    assert fake.containers.get_file(box, "/etc/app/a.toml") == b"a"
    with pytest.raises(ContainerPathError) as caught:
        fake.containers.get_file(box, "/etc/app")
    assert caught.value.path == "/etc/app"
    with pytest.raises(ContainerPathError):
        fake.containers.put_files(box, "/nope", {"a": b""})
    with pytest.raises(ContainerNotFoundError):
        fake.containers.get_file("no-such-box", "/etc/app/b")

    fake.containers.copy_from(box, "/etc/app", tmp_path)
    assert sorted(os.listdir(tmp_path / "app")) == ["a.toml", "b"]
    flat = tmp_path / "flat"
    flat.mkdir()
    fake.containers.copy_from(box, "/etc/app/.", flat)
    assert (flat / "b").read_bytes() == b"b"

    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_bytes(b"f")
    fake.containers.copy_to(box, src, "/srv")  # missing: becomes the copy
    fake.containers.copy_to(box, src, "/srv")  # now a directory: goes inside
    assert fake.containers.get_file(box, "/srv/sub/f") == b"f"
    assert fake.containers.get_file(box, "/srv/src/sub/f") == b"f"
    with pytest.raises(ContainerPathError):
        fake.containers.copy_to(box, src, "/no/such/dir/x")

    calls = [c.method for c in fake.calls if c.manager == "containers"]
    assert calls.count("put_files") == 2 and "copy_from" in calls and "copy_to" in calls


def test_export_import_save_load(fake: FakeEngine, box: str, tmp_path: Path) -> None:
    fake.containers.put_files(box, "/", {"marker": b"m"})
    fs = tmp_path / "fs.tar"
    fake.containers.export(box, fs)
    with tarfile.open(fs) as archive:
        assert "marker" in archive.getnames()
    image_id = fake.images.import_(fs, "imported:1", changes=["ENV A=1", 'CMD ["true"]'])
    info = fake.images.inspect("imported:1")
    assert info.id == image_id
    archive = tmp_path / "images.tar"
    fake.images.save(["imported:1", BASE], archive)
    fake.images.remove("imported:1")
    assert fake.images.load(archive) == ["imported:1", BASE]
    assert fake.images.inspect("imported:1").id == image_id
    other = FakeEngine()  # another machine: same ids
    assert other.images.load(archive) == ["imported:1", BASE]
    assert other.images.inspect(BASE).id == fake.images.inspect(BASE).id
    with pytest.raises(ImageNotFoundError):
        fake.images.save("missing:1", tmp_path / "x.tar")
    assert not (tmp_path / "x.tar").exists()
    (tmp_path / "junk.tar").write_bytes(b"junk")
    with pytest.raises(ImageError):
        fake.images.load(tmp_path / "junk.tar")


def test_run_once(fake: FakeEngine) -> None:
    fake.script.run(BASE, ["job"], exit_code=3, stdout=b"out", stderr=b"err")
    before = fake.containers.list(all=True)
    result = fake.containers.run_once(RunConfig(BASE, command=["job"]))
    assert (result.exit_code, result.stdout_bytes, result.stderr_bytes) == (3, b"out", b"err")
    assert fake.containers.run_once(RunConfig(BASE, command=["cat"]), input=b"in").stdout == "in"
    with pytest.raises(CommandTimeoutError):
        fake.containers.run_once(RunConfig(BASE, command=["sleep", "60"]), timeout=1)
    with pytest.raises(ImageNotFoundError):
        fake.containers.run_once(RunConfig("missing:1", command=["true"]))
    assert fake.containers.list(all=True) == before
