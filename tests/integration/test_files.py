"""Files and images in and out of real docker and podman, and one-shot runs.

put_files/get_file (binary, nested, modes), copy_to/copy_from (round trip, hostile links,
streaming), missing paths and containers, run_once (exit codes, streams, input, secrets,
timeout), save/load (same id, several images, across runtimes), export/import_.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerEngine,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerPathError,
    ImageNotFoundError,
    InvalidConfigError,
    PullPolicy,
    RunConfig,
)

from .conftest import BASE_IMAGE, LABEL, RUN_ID, Resources, get_engine

# Every byte value, a NUL run, and bytes that are not UTF-8.
BINARY = bytes(range(256)) * 3 + b"\x00\x00\xff\xfe\xc3\x28\xa0\xa1" + b"\x80" * 5


@pytest.fixture
def box(engine: ContainerEngine, res: Resources) -> Iterator[str]:
    """A running container, removed afterwards."""
    cid = engine.containers.run(res.config(name=res.name("box")))
    try:
        yield cid
    finally:
        engine.containers.remove(cid, force=True)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """$TMPDIR for this process and the CLIs it starts: a fresh, empty directory."""
    tmp = tmp_path / "tmpdir"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
    return tmp


def sh(engine: ContainerEngine, container: str, script: str) -> str:
    result = engine.containers.exec(container, ["sh", "-c", script])
    assert result.exit_code == 0, result.stderr
    return result.stdout


# --------------------------------------------------------------------------- put/get


def test_put_get_binary_and_nested(engine: ContainerEngine, box: str) -> None:
    files = {
        "bin.dat": BINARY,
        "empty": b"",
        "text.txt": "héllo wörld\n",
        "conf/deep/er/app.toml": b"[a]\nb = 1\n",
        "run.sh": "#!/bin/sh\necho ran\n",
    }
    engine.containers.put_files(box, "/tmp", files, executable=["run.sh"])
    for name, data in files.items():
        expected = data.encode() if isinstance(data, str) else data
        assert engine.containers.get_file(box, f"/tmp/{name}") == expected
    engine.containers.put_files(box, "/tmp", {"bin.dat": b"replaced"})
    assert engine.containers.get_file(box, "/tmp/bin.dat") == b"replaced"
    with pytest.raises(ContainerPathError):
        engine.containers.get_file(box, "/tmp/conf/deep")  # a directory
    with pytest.raises(ContainerPathError):
        engine.containers.get_file(box, "/tmp/missing")
    with pytest.raises(ContainerPathError):
        engine.containers.put_files(box, "/tmp/bin.dat", {"x": b""})  # not a directory


@pytest.mark.real_only("a shell in the container")
def test_put_files_modes_and_ownership(engine: ContainerEngine, box: str) -> None:
    engine.containers.put_files(
        box,
        "/tmp",
        {"bin.dat": BINARY, "conf/deep/a": b"", "run.sh": "#!/bin/sh\necho ran\n"},
        executable=["run.sh"],
    )
    modes = sh(engine, box, "cd /tmp && stat -c '%n %a %u %g' bin.dat run.sh conf conf/deep")
    assert modes.split("\n")[:4] == [
        "bin.dat 644 0 0",
        "run.sh 755 0 0",
        "conf 755 0 0",
        "conf/deep 755 0 0",
    ]
    assert engine.containers.exec(box, ["/tmp/run.sh"]).stdout == "ran\n"
    # The mtime is now, not the build context's 1980.
    assert abs(int(sh(engine, box, "stat -c %Y /tmp/bin.dat")) - time.time()) < 300


@pytest.mark.real_only("a shell in the container")
def test_put_files_replaces_and_keeps_existing_directories(
    engine: ContainerEngine, box: str
) -> None:
    sh(engine, box, "mkdir -p /srv && chmod 1777 /srv && echo old > /srv/a")
    engine.containers.put_files(box, "/srv", {"a": b"new", "b/c": b"c"})
    assert engine.containers.get_file(box, "/srv/a") == b"new"
    assert sh(engine, box, "stat -c %a /srv").strip() == "1777"


def test_many_small_files(engine: ContainerEngine, box: str) -> None:
    files = {f"d{i % 10}/f{i:04d}.txt": f"file {i}\n".encode() for i in range(1000)}
    engine.containers.put_files(box, "/tmp", files)
    for i in (0, 1, 500, 997, 999):
        path = f"/tmp/d{i % 10}/f{i:04d}.txt"
        assert engine.containers.get_file(box, path) == f"file {i}\n".encode()


def test_put_files_on_a_stopped_container(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.create(res.config(name=res.name("stopped")))
    try:
        engine.containers.put_files(cid, "/", {"etc/dcm/x": b"x"})
        assert engine.containers.get_file(cid, "/etc/dcm/x") == b"x"
    finally:
        engine.containers.remove(cid, force=True)


@pytest.mark.parametrize("name", ["../x", "/abs", "a/../../b", "", "a/..", "x\x00y"])
def test_escaping_names_refused_before_any_process(engine: ContainerEngine, name: str) -> None:
    # A missing container: had any process started, ContainerNotFoundError would say so.
    with pytest.raises(InvalidConfigError) as caught:
        engine.containers.put_files("dcm-no-such-container", "/tmp", {name: b"x"})
    assert caught.value.field == "files key"


def test_nothing_left_in_tmpdir(engine: ContainerEngine, box: str, private_tmp: Path) -> None:
    # podman 4.3's `cp -` leaves the tar it read from stdin in $TMPDIR, one file per call.
    engine.containers.put_files(box, "/tmp", {"a": b"a" * 20000})
    assert engine.containers.get_file(box, "/tmp/a") == b"a" * 20000
    out = private_tmp.parent / "out"
    out.mkdir()
    engine.containers.copy_from(box, "/tmp/a", out)
    engine.containers.copy_to(box, str(out / "a"), "/tmp/b")
    with pytest.raises(ContainerPathError):
        engine.containers.put_files(box, "/no/such/dir", {"a": b"a"})
    assert list(private_tmp.iterdir()) == []


@pytest.mark.real_only("symbolic links in a container")
def test_get_file_errors(engine: ContainerEngine, box: str) -> None:
    sh(
        engine,
        box,
        "mkdir -p /d && echo inside > /d/f && ln -s /d/f /d/abs && ln -s ../../../../d/f /d/up"
        " && ln -s /nowhere /d/dangling",
    )
    # Links are followed as the container sees them: never out of its root filesystem.
    assert engine.containers.get_file(box, "/d/abs") == b"inside\n"
    assert engine.containers.get_file(box, "/d/up") == b"inside\n"
    for path in ("/d", "/", "/missing", "/d/dangling", "/d/f/below"):
        with pytest.raises(ContainerPathError) as caught:
            engine.containers.get_file(box, path)
        assert not isinstance(caught.value, ContainerNotFoundError)
        assert caught.value.path == path


@pytest.mark.real_only("symbolic links in a container")
def test_link_to_a_host_file_reads_the_containers(
    engine: ContainerEngine, box: str, tmp_path: Path
) -> None:
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"host only")
    sh(engine, box, f"ln -s {secret} /tmp/to-host")
    with pytest.raises(ContainerPathError):  # no such file inside the container
        engine.containers.get_file(box, "/tmp/to-host")


def test_missing_container(engine: ContainerEngine, tmp_path: Path) -> None:
    missing = "dcm-no-such-container"
    (tmp_path / "f").write_bytes(b"x")
    calls = [
        lambda: engine.containers.put_files(missing, "/tmp", {"a": b"a"}),
        lambda: engine.containers.get_file(missing, "/etc/passwd"),
        lambda: engine.containers.copy_to(missing, tmp_path / "f", "/tmp"),
        lambda: engine.containers.copy_from(missing, "/etc", tmp_path),
        lambda: engine.containers.export(missing, tmp_path / "fs.tar"),
    ]
    for call in calls:
        with pytest.raises(ContainerNotFoundError):
            call()
    assert sorted(os.listdir(tmp_path)) == ["f"]


# --------------------------------------------------------------------------- copy


def _tree(root: Path) -> dict[str, bytes | str]:
    """Every entry under root: file bytes, or 'link -> target', or 'dir'."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = f"link -> {os.readlink(path)}"
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_bytes()
    return found


@pytest.mark.real_only("a shell, modes and links in a container")
def test_copy_to_and_from_round_trip(engine: ContainerEngine, box: str, tmp_path: Path) -> None:
    src = tmp_path / "proj"
    (src / "a" / "b").mkdir(parents=True)
    (src / "bin.dat").write_bytes(BINARY)
    (src / "a" / "b" / "c.txt").write_text("c\n")
    (src / "run.sh").write_text("#!/bin/sh\n")
    (src / "run.sh").chmod(0o755)
    (src / "a" / "link").symlink_to("b/c.txt")
    engine.containers.copy_to(box, src, "/work")  # missing: becomes the copy
    assert sh(engine, box, "cat /work/a/link") == "c\n"
    engine.containers.copy_to(box, src / "bin.dat", "/work/a")  # a directory: goes inside
    assert engine.containers.get_file(box, "/work/a/bin.dat") == BINARY

    out = tmp_path / "out"
    out.mkdir()
    engine.containers.copy_from(box, "/work", out)
    copied = _tree(out / "work")
    expected = _tree(src)
    expected["a/bin.dat"] = BINARY
    assert copied == expected
    assert os.stat(out / "work" / "run.sh").st_mode & 0o777 == 0o755
    # A single file lands under its own name; the contents of a directory with "/.".
    engine.containers.copy_from(box, "/work/a/b/c.txt", out)
    assert (out / "c.txt").read_text() == "c\n"
    flat = tmp_path / "flat"
    flat.mkdir()
    engine.containers.copy_from(box, "/work/a/.", flat)
    assert sorted(os.listdir(flat)) == ["b", "bin.dat", "link"]


@pytest.mark.real_only("symbolic links in a container")
def test_copy_from_hostile_links(engine: ContainerEngine, box: str, tmp_path: Path) -> None:
    """Links that lead out of the destination are not written; nothing outside changes."""
    host_file = tmp_path / "victim.txt"
    host_file.write_text("untouched\n")
    dest = tmp_path / "dest"
    dest.mkdir()
    sh(
        engine,
        box,
        "mkdir -p /h/sub && echo ok > /h/sub/ok"
        f" && ln -s {host_file} /h/to-host-file"
        f" && ln -s {tmp_path} /h/to-host-dir"
        " && ln -s /etc/passwd /h/absolute"
        " && ln -s ../../../../.. /h/sub/up"
        " && ln -s ../.. /h/sub/up2"
        " && ln -s sub/ok /h/fine",
    )
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(ContainerPathError) as caught:
        engine.containers.copy_from(box, "/h", dest)
    refused = sorted(r.split(":")[0] for r in caught.value.refused)
    assert refused == ["h/absolute", "h/sub/up", "h/to-host-dir", "h/to-host-file"]
    assert _tree(dest / "h") == {
        "fine": "link -> sub/ok",
        "sub": "dir",
        "sub/ok": b"ok\n",
        "sub/up2": "link -> ../..",  # the destination itself: inside
    }
    assert host_file.read_text() == "untouched\n"
    assert sorted(os.listdir(tmp_path)) == before


@pytest.mark.real_only("a shell in the container")
def test_copy_from_streams_large_files(engine: ContainerEngine, box: str, tmp_path: Path) -> None:
    size = 64 * 1024 * 1024
    sh(engine, box, f"mkdir /big && dd if=/dev/zero of=/big/zero bs=1048576 count={size >> 20}")
    tracemalloc.start()
    try:
        engine.containers.copy_from(box, "/big", tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert os.path.getsize(tmp_path / "big" / "zero") == size
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes for a {size}-byte copy"


def test_copy_errors(engine: ContainerEngine, box: str, tmp_path: Path) -> None:
    with pytest.raises(ContainerPathError):
        engine.containers.copy_from(box, "/no/such/path", tmp_path)
    with pytest.raises(InvalidConfigError):
        engine.containers.copy_from(box, "/etc", tmp_path / "missing-dir")
    with pytest.raises(InvalidConfigError):
        engine.containers.copy_to(box, tmp_path / "missing-file", "/tmp")
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ContainerPathError):
        engine.containers.copy_to(box, tmp_path / "f", "/no/such/dir/f")


# --------------------------------------------------------------------------- run_once


@pytest.mark.real_only("a shell's exit code and output")
@pytest.mark.parametrize("code", [0, 1, 3, 125, 126, 127, 255])
def test_run_once_exit_codes_are_the_containers(
    engine: ContainerEngine, res: Resources, code: int
) -> None:
    script = f"echo out; echo err >&2; exit {code}"
    result = engine.containers.run_once(res.config(command=["sh", "-c", script]))
    assert (result.exit_code, result.stdout, result.stderr) == (code, "out\n", "err\n")


@pytest.mark.real_only("the CLI's own failures")
def test_run_once_cli_failures_raise(engine: ContainerEngine, res: Resources) -> None:
    with pytest.raises(ContainerOperationError) as not_found:
        engine.containers.run_once(res.config(command=["dcm-no-such-command"]))
    assert "dcm-no-such-command" in str(not_found.value)
    with pytest.raises(ContainerOperationError):
        engine.containers.run_once(res.config(command=["/etc/passwd"]))  # not executable
    with pytest.raises(ImageNotFoundError):
        engine.containers.run_once(
            RunConfig("dcm-no-such-image:1", command=["true"], pull=PullPolicy.NEVER)
        )
    with pytest.raises(ContainerOperationError):  # the daemon refuses the options
        engine.containers.run_once(res.config(command=["true"], user="no-such-user-dcm"))


@pytest.mark.real_only("a process reading its input")
def test_run_once_input_binary_output_and_secrets(engine: ContainerEngine, res: Resources) -> None:
    result = engine.containers.run_once(res.config(command=["cat"]), input=BINARY)
    assert result.stdout_bytes == BINARY and result.ok
    result = engine.containers.run_once(
        res.config(
            command=["sh", "-c", 'printf %s "$TOKEN"; printf %s "$HOME" >&2'],
            environment={"TOKEN": "s3cr3t value", "HOME": "/home/x"},
        )
    )
    assert (result.stdout, result.stderr) == ("s3cr3t value", "/home/x")


def _mine(engine: ContainerEngine) -> set[str]:
    return {c.id for c in engine.containers.list(all=True, filters={"label": f"{LABEL}={RUN_ID}"})}


@pytest.mark.real_only("a command that cannot start")
def test_run_once_leaves_nothing(engine: ContainerEngine, res: Resources) -> None:
    before = _mine(engine)
    engine.containers.run_once(res.config(command=["true"], name=res.name("once")))
    assert _mine(engine) == before
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        engine.containers.run_once(
            res.config(command=["sleep", "60"], name=res.name("slow")), timeout=3
        )
    assert time.monotonic() - started < 30
    assert _mine(engine) == before
    assert not engine.containers.exists(res.name("slow"))
    with pytest.raises(ContainerOperationError):
        engine.containers.run_once(res.config(command=["dcm-no-such-command"]))
    assert _mine(engine) == before


# --------------------------------------------------------------------------- images


def _build(engine: ContainerEngine, res: Resources, what: str) -> tuple[str, str]:
    tag = res.image_name(what)
    context = BuildContext(
        f"FROM {BASE_IMAGE}\nCOPY f /f\n", files={"f": what.encode()}, labels=res.labels
    )
    return tag, engine.images.build(context, tag)


def test_save_remove_load_same_id(engine: ContainerEngine, res: Resources, tmp_path: Path) -> None:
    tag, image_id = _build(engine, res, "one")
    other, other_id = _build(engine, res, "two")
    archive = tmp_path / "images.tar"
    engine.images.save([tag, other], archive)
    engine.images.save(tag, tmp_path / "one.tar")
    assert sorted(os.listdir(tmp_path)) == ["images.tar", "one.tar"]  # no partial file left
    engine.images.remove(tag)
    engine.images.remove(other)
    loaded = engine.images.load(archive)
    try:
        assert sorted(loaded) == sorted([tag, other])
        assert engine.images.inspect(tag).id == image_id
        assert engine.images.inspect(other).id == other_id
    finally:
        for ref in loaded:
            engine.images.remove(ref)


def test_save_errors_leave_nothing(engine: ContainerEngine, tmp_path: Path) -> None:
    with pytest.raises(ImageNotFoundError):
        engine.images.save("dcm-no-such-image:1", tmp_path / "x.tar")
    assert os.listdir(tmp_path) == []
    with pytest.raises(InvalidConfigError):
        engine.images.save(BASE_IMAGE, tmp_path)  # a directory
    with pytest.raises(InvalidConfigError):
        engine.images.load(tmp_path / "missing.tar")


@pytest.mark.parametrize(("source", "target"), [("docker", "podman"), ("podman", "docker")])
def test_cross_runtime_load(source: str, target: str, tmp_path: Path) -> None:
    """An archive saved on one runtime loads on the other with the same image id. Docker
    keeps podman's ``localhost/`` prefix in the loaded name."""
    saver, loader = get_engine(source), get_engine(target)
    res = Resources(saver)
    tag, image_id = _build(saver, res, "cross")
    archive = tmp_path / "cross.tar"
    try:
        saver.images.save(tag, archive)
    finally:
        saver.images.remove(tag)
    loaded = loader.images.load(archive)
    try:
        assert len(loaded) == 1
        expected = f"localhost/{tag}" if (source, target) == ("podman", "docker") else tag
        assert loaded == [expected]
        assert loader.images.inspect(loaded[0]).id == image_id
        assert loader.containers.run_once(RunConfig(loaded[0], command=["cat", "/f"])).stdout == (
            "cross"
        )
    finally:
        loader.images.remove(loaded[0])


@pytest.mark.real_only("a shell in the imported image")
def test_export_then_import(
    engine: ContainerEngine, box: str, res: Resources, tmp_path: Path
) -> None:
    engine.containers.put_files(box, "/", {"marker/file": b"exported"})
    fs = tmp_path / "fs.tar"
    engine.containers.export(box, fs)
    assert os.listdir(tmp_path) == ["fs.tar"]
    tag = res.image_name("imported")
    image_id = engine.images.import_(
        fs,
        tag,
        changes=[
            "ENV PATH=/bin",  # one variable per ENV line: podman reads the rest as the value
            "ENV GREETING=hi",
            'CMD ["sh", "-c", "cat /marker/file; echo $GREETING"]',
            f"LABEL {LABEL}={RUN_ID}",
            "WORKDIR /marker",
        ],
    )
    try:
        assert engine.images.inspect(tag).id == image_id
        result = engine.containers.run_once(RunConfig(tag, labels=res.labels))
        assert result.stdout == "exportedhi\n"
        assert engine.containers.run_once(RunConfig(tag, command=["pwd"])).stdout == "/marker\n"
    finally:
        engine.images.remove(tag)
    with pytest.raises(InvalidConfigError):
        engine.images.import_(fs, tag, changes=["RUN rm -rf /"])


@pytest.mark.real_only("a shell in the container")
def test_copy_to_follows_a_symlinked_source(
    engine: ContainerEngine, box: str, tmp_path: Path
) -> None:
    """A dotfile that is a symbolic link arrives as its content, on both runtimes; links
    inside a copied directory stay links."""
    (tmp_path / "real.rc").write_text("set -o vi\n")
    (tmp_path / ".bashrc").symlink_to(tmp_path / "real.rc")
    engine.containers.copy_to(box, tmp_path / ".bashrc", "/root/.bashrc")
    assert sh(engine, box, "test -L /root/.bashrc || cat /root/.bashrc") == "set -o vi\n"
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "f").write_text("f\n")
    (tree / "l").symlink_to("f")
    engine.containers.copy_to(box, tree, "/tree")
    assert sh(engine, box, "readlink /tree/l").strip() == "f"
