"""Images on real docker and podman: every ImageManager method."""

from __future__ import annotations

import subprocess

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngine,
    ImageBuildError,
    ImageError,
    ImageInfo,
    ImageNotFoundError,
)

from .conftest import BASE_IMAGE, Resources


def _context(res: Resources, dockerfile: str, **kwargs: object) -> BuildContext:
    return BuildContext(dockerfile, labels=res.labels, **kwargs)  # type: ignore[arg-type]


@pytest.mark.real_only("a RUN step's output, read back from a file")
def test_build_returns_full_id_equal_to_inspect(engine: ContainerEngine, res: Resources) -> None:
    name = res.image_name()
    context = _context(
        res,
        f"FROM {BASE_IMAGE}\nARG GREETING\nCOPY app/hello.txt /hello.txt\n"
        'RUN echo "$GREETING" > /greeting\n',
        files={"app/hello.txt": b"hello\n"},
        build_args={"GREETING": "bonjour"},
    )
    image_id = engine.images.build(context, name)
    try:
        assert image_id.startswith("sha256:") and len(image_id) == 71
        info = engine.images.inspect(name)
        assert isinstance(info, ImageInfo)
        assert info.id == image_id
        assert name in info.tags
        assert info.labels["dcm-test"] == res.labels["dcm-test"]
        assert info.size > 0 and info.created is not None and info.created.tzinfo is not None
        # the build arg reached the build, through the environment
        cid = engine.containers.run(res.config(image=name, command=["cat", "/greeting"]))
        try:
            assert engine.containers.wait(cid) == 0
            assert engine.containers.logs(cid) == "bonjour\n"
        finally:
            engine.containers.remove(cid, force=True)
    finally:
        engine.images.remove(name, force=True)


@pytest.mark.real_only("a RUN step's output, read back from a file")
def test_build_target_and_extra_tags(engine: ContainerEngine, res: Resources) -> None:
    name, extra = res.image_name("a"), res.image_name("b")
    context = _context(
        res,
        f"FROM {BASE_IMAGE} AS first\nRUN echo first > /stage\n"
        f"FROM {BASE_IMAGE} AS second\nRUN echo second > /stage\n",
        target="first",
        tags=[extra],
        no_cache=True,
    )
    image_id = engine.images.build(context, name)
    try:
        assert set(engine.images.inspect(image_id).tags) >= {name, extra}
        cid = engine.containers.run(res.config(image=name, command=["cat", "/stage"]))
        try:
            engine.containers.wait(cid)
            assert engine.containers.logs(cid).strip() == "first"
        finally:
            engine.containers.remove(cid, force=True)
    finally:
        engine.images.remove(extra)
        engine.images.remove(name)


def _containers_running(engine: ContainerEngine, marker: str) -> list[str]:
    """Commands of every container (podman: build containers too) that mention ``marker``."""
    extra = ["--external"] if engine.runtime.value == "podman" else []
    listing = subprocess.run(
        [engine.command, "ps", "-a", *extra, "--no-trunc", "--format", "{{.Command}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [line for line in listing.stdout.splitlines() if marker in line]


@pytest.mark.real_only("a failing RUN step")
def test_build_failure_raises_and_leaves_no_container(
    engine: ContainerEngine, res: Resources
) -> None:
    marker = res.name("marker")
    context = _context(
        res, f"FROM {BASE_IMAGE}\nRUN echo {marker} && echo to-stderr >&2 && exit 3\n"
    )
    with pytest.raises(ImageBuildError) as info:
        engine.images.build(context, res.image_name())
    error = info.value
    assert error.exit_code not in (None, 0)
    assert "build" in error.command
    assert "to-stderr" in error.output
    assert _containers_running(engine, marker) == [], "the failed build left a container"
    assert not engine.images.exists(res.image_name())


def test_build_from_missing_base_image(engine: ContainerEngine, res: Resources) -> None:
    with pytest.raises(ImageError):
        engine.images.build(_context(res, "FROM dcm-missing-base:1\n"), res.image_name())


def test_tag_exists_list_remove(engine: ContainerEngine, res: Resources) -> None:
    name, alias = res.image_name("orig"), res.image_name("alias")
    image_id = engine.images.build(_context(res, f"FROM {BASE_IMAGE}\nLABEL x=1\n"), name)
    try:
        engine.images.tag(name, alias)
        assert engine.images.exists(alias)
        listed = engine.images.list(filters={"label": f"dcm-test={res.labels['dcm-test']}"})
        mine = [i for i in listed if i.id == image_id]
        assert len(mine) == 1, "tags of one image must be grouped into one record"
        assert {name, alias} <= set(mine[0].tags)
        assert mine[0] == engine.images.inspect(image_id)
        engine.images.remove(alias)
        assert not engine.images.exists(alias)
        assert engine.images.exists(name)
    finally:
        engine.images.remove(name)
    assert not engine.images.exists(name)


def test_remove_force_keeps_containers(engine: ContainerEngine, res: Resources) -> None:
    name = res.image_name()
    engine.images.build(_context(res, f"FROM {BASE_IMAGE}\nLABEL keep=1\n"), name)
    cid = engine.containers.create(res.config(image=name))
    try:
        engine.images.remove(name, force=True)
        assert engine.containers.exists(cid), "force-removing an image removed a container"
        assert not engine.images.exists(name)
    finally:
        engine.containers.remove(cid, force=True)
        for image in engine.images.list(filters={"label": "keep=1"}):
            if not image.tags:
                engine.images.remove(image.id, force=True)


def test_prune_removes_dangling_labelled_images(engine: ContainerEngine, res: Resources) -> None:
    name = res.image_name()
    context = _context(res, f"FROM {BASE_IMAGE}\nRUN date > /built\n", no_cache=True)
    first = engine.images.build(context, name)
    second = engine.images.build(context, name)  # `first` is now dangling
    try:
        assert first != second
        pruned = engine.images.prune(filters={"label": f"dcm-test={res.labels['dcm-test']}"})
        assert first in pruned
        assert not engine.images.exists(first)
        assert engine.images.exists(second)
    finally:
        engine.images.remove(name)


def test_missing_image_errors(engine: ContainerEngine) -> None:
    assert not engine.images.exists("dcm-missing:1")
    for call in (
        lambda: engine.images.inspect("dcm-missing:1"),
        lambda: engine.images.remove("dcm-missing:1"),
        lambda: engine.images.tag("dcm-missing:1", "dcm-missing:2"),
    ):
        with pytest.raises(ImageNotFoundError) as info:
            call()
        assert info.value.exit_code not in (None, 0)
        assert "dcm-missing:1" in info.value.command


@pytest.mark.real_only("a real registry connection")
def test_pull_and_push_fail_without_registry(engine: ContainerEngine) -> None:
    # No registry is reachable here: both must fail with an image error, quickly.
    with pytest.raises(ImageError):
        engine.images.pull("127.0.0.1:1/dcm-nothing:1", timeout=60)
    engine.images.tag(BASE_IMAGE, "127.0.0.1:1/dcm-push-test:1")
    try:
        with pytest.raises(ImageError):
            engine.images.push("127.0.0.1:1/dcm-push-test:1", timeout=60)
    finally:
        engine.images.remove("127.0.0.1:1/dcm-push-test:1")
