"""The build context tar: readable, reproducible, streamed without copies."""

from __future__ import annotations

import io
import tarfile

import pytest

from dotfiles_container_manager import BuildContext
from dotfiles_container_manager.implementations.cli import tarstream
from dotfiles_container_manager.implementations.cli.tarstream import (
    BLOCK,
    CHUNK,
    MTIME,
    context_tar_bytes,
    context_tar_chunks,
)

DOCKERFILE = "FROM dcm-test-base:latest\nCOPY . /app\n"


def members(data: bytes) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    out: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None
            out[info.name] = (info, handle.read())
    return out


def test_readable_with_fixed_metadata() -> None:
    context = BuildContext(
        DOCKERFILE,
        files={"b.txt": "bee\n", "a/z.sh": b"#!/bin/sh\n", "a/b/c.bin": bytes(range(256))},
        executable=["a/z.sh"],
    )
    data = context_tar_bytes(context)
    assert len(data) % BLOCK == 0
    assert data.endswith(bytes(2 * BLOCK))
    found = members(data)
    assert list(found) == ["Dockerfile", "a/b/c.bin", "a/z.sh", "b.txt"]  # sorted
    assert found["Dockerfile"][1] == DOCKERFILE.encode()
    assert found["b.txt"][1] == b"bee\n"
    assert found["a/b/c.bin"][1] == bytes(range(256))
    for name, (info, content) in found.items():
        assert info.isfile()
        assert info.mtime == MTIME == 315532800
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.size == len(content)
        assert info.mode == (0o755 if name == "a/z.sh" else 0o644)


def test_identical_contexts_give_identical_bytes() -> None:
    def build(order: list[str]) -> bytes:
        files = {name: name.encode() * 3 for name in order}
        return context_tar_bytes(BuildContext(DOCKERFILE, files=files))

    first = build(["x", "y/z", "a"])
    assert build(["a", "y/z", "x"]) == first  # insertion order does not matter
    assert build(["x", "y/z", "a"]) == first
    other = context_tar_bytes(BuildContext(DOCKERFILE + "\n", files={"x": b"xxx"}))
    assert other != first


def test_dockerfile_at_its_path() -> None:
    context = BuildContext(
        DOCKERFILE, files={"Dockerfile": b"not me"}, dockerfile_path="ci/Dockerfile"
    )
    found = members(context_tar_bytes(context))
    assert found["ci/Dockerfile"][1] == DOCKERFILE.encode()
    assert found["Dockerfile"][1] == b"not me"


def test_dockerfile_path_is_normalised() -> None:
    context = BuildContext(DOCKERFILE, dockerfile_path="./build//Dockerfile.dev")
    assert context.dockerfile_path == "build/Dockerfile.dev"
    assert list(members(context_tar_bytes(context))) == ["build/Dockerfile.dev"]


def test_unicode_and_long_names() -> None:
    long_name = "d/" + "n" * 150 + "/" + "f" * 120
    context = BuildContext(DOCKERFILE, files={"données/été.txt": "ok", long_name: b"long"})
    found = members(context_tar_bytes(context))
    assert found["données/été.txt"][1] == b"ok"
    assert found[long_name][1] == b"long"


def test_large_files_are_streamed_as_views_of_the_data() -> None:
    big = bytes(range(256)) * (3 * CHUNK // 256 + 10)
    context = BuildContext(DOCKERFILE, files={"big.bin": big})
    chunks = list(context_tar_chunks(context))
    source = context.files["big.bin"]
    views = [c for c in chunks if isinstance(c, memoryview) and c.obj is source]  # no copies
    assert [len(v) for v in views] == [CHUNK, CHUNK, CHUNK, len(big) - 3 * CHUNK]
    data = b"".join(bytes(c) for c in chunks)
    assert data == context_tar_bytes(context)
    assert members(data)["big.bin"][1] == big


def test_empty_files_and_exact_blocks() -> None:
    context = BuildContext(DOCKERFILE, files={"empty": b"", "block": b"b" * BLOCK})
    found = members(context_tar_bytes(context))
    assert found["empty"][1] == b""
    assert found["block"][1] == b"b" * BLOCK


def test_a_new_stream_each_time() -> None:
    context = BuildContext(DOCKERFILE, files={"a": b"1"})
    first, second = context_tar_chunks(context), context_tar_chunks(context)
    assert b"".join(bytes(c) for c in first) == b"".join(bytes(c) for c in second)


@pytest.mark.parametrize("size", [1, BLOCK - 1, BLOCK + 1, CHUNK + 1])
def test_padding(size: int) -> None:
    context = BuildContext(DOCKERFILE, files={"f": b"x" * size})
    data = context_tar_bytes(context)
    assert len(data) % BLOCK == 0
    assert members(data)["f"][1] == b"x" * size


@pytest.mark.parametrize(
    ("name", "size", "mode"),
    [
        ("Dockerfile", 0, 0o644),
        ("a/b/c.txt", 1, 0o644),
        ("bin/run.sh", 1023, 0o755),
        ("x" * 100, 512, 0o644),  # the longest name a ustar header holds
        ("x" * 101, 5, 0o644),  # PAX record needed
        ("dir/é.txt", 7, 0o644),  # non-ASCII: PAX record needed
        ("big.bin", 8**11, 0o644),  # beyond 11 octal digits: PAX record needed
        ("n", 256 * 1024 * 1024, 0o644),
    ],
)
def test_headers_match_tarfiles(name: str, size: int, mode: int) -> None:
    # The direct ustar header and tarfile's (PAX format) hold the same fields. Python
    # versions differ only in how they fill a regular file's device numbers (NULs or
    # "0000000"), and so in the checksum: those bytes are compared apart.
    ours = tarstream._header(name, size, mode)
    theirs = tarstream._tarfile_header(name, size, mode)
    assert len(ours) == len(theirs)
    unstable = set(range(148, 156)) | set(range(329, 345))
    assert [b for i, b in enumerate(ours) if i not in unstable] == [
        b for i, b in enumerate(theirs) if i not in unstable
    ]
    if len(ours) == 512:  # a plain ustar header (not tarfile's PAX records): checksum ok?
        parsed = tarfile.TarInfo.frombuf(ours, "utf-8", "surrogateescape")
        assert (parsed.name, parsed.size, parsed.mode) == (name, size, mode)
        assert parsed.mtime == tarstream.MTIME


def test_coalesced_joins_small_chunks_and_keeps_the_bytes() -> None:
    from dotfiles_container_manager.implementations.cli.tarstream import (
        coalesced,
        files_tar_chunks,
    )

    files = {f"f{i}": b"x" * (i % 700) for i in range(500)}
    files["big"] = b"y" * (3 * 1024 * 1024)
    pieces = list(coalesced(files_tar_chunks(files)))
    assert b"".join(bytes(p) for p in pieces) == b"".join(bytes(c) for c in files_tar_chunks(files))
    assert len(pieces) < 20
