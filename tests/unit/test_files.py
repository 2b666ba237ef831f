"""Files in and out, archives and run_once without a runtime: argv, checks before any
process, the tar reader and the safe extractor (crafted tars), run_once's exit-code
decisions and its cleanup on failure."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from dotfiles_container_manager import (
    CommandTimeoutError,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerPathError,
    ImageNotFoundError,
    InvalidConfigError,
    OutputParseError,
    RestartPolicy,
    RunConfig,
)
from dotfiles_container_manager.core.exceptions import ContainerError
from dotfiles_container_manager.implementations.cli.command import CommandResult, Input
from dotfiles_container_manager.implementations.cli.tarread import (
    SafeExtractor,
    SingleFile,
    TarReader,
)
from dotfiles_container_manager.implementations.docker.files import replacing

from .conftest import ENGINES, Call, FakeRunner, result
from .test_seams import RecordingEngine

CID = "c" * 64
BINARY = bytes(range(256)) * 2 + b"\x00\xff\xfe\xc3\x28"


# --------------------------------------------------------------------------- helpers


class StreamingRunner(FakeRunner):
    """A FakeRunner whose ``stream`` answers from a script too: ``(returncode, stdout,
    stderr)`` per streamed call, stdout handed out in chunks of ``chunk`` bytes."""

    def __init__(self, runtime: str, *responses: Any, chunk: int = 7000) -> None:
        super().__init__(runtime, *responses)
        self.streams: list[tuple[int, bytes, bytes]] = []
        self.streamed: list[tuple[tuple[str, ...], dict[str, str] | None]] = []
        self.chunk = chunk

    def stream(  # type: ignore[override]
        self,
        args: Sequence[str],
        *,
        error: type[ContainerError] = ContainerError,
        input: Input = None,
        timeout: float | None = None,
        env: dict[str, str] | None = None,
        raw: bool = False,
        interrupt_grace: float | None = None,
    ) -> Any:
        self.streamed.append((tuple(args), None if env is None else dict(env)))
        code, out, err = self.streams.pop(0)
        runner = self

        class Stream:
            returncode = code

            def __enter__(self) -> Stream:
                return self

            def __exit__(self, *exc: object) -> None:
                pass

            def __iter__(self) -> Iterator[tuple[str, bytes]]:
                for start in range(0, len(out), runner.chunk):
                    yield "stdout", out[start : start + runner.chunk]
                if code:
                    failed = CommandResult(tuple(runner.argv(args)), code, b"", err)
                    raise runner.classify(failed, error)

        return Stream()


def engine_for(runtime: str, runner: FakeRunner) -> Any:
    return ENGINES[runtime](runner=runner)


def tar_of(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def member(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    *,
    link: str = "",
    mode: int = 0o644,
    mtime: int = 1_000_000,
) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mode = mode
    info.mtime = mtime
    return info


def extract(tar: bytes, dest: Path, *, top: str | None = None, chunk: int = 1000) -> list[str]:
    extractor = SafeExtractor(str(dest), top=top)
    reader = TarReader(extractor)
    try:
        for start in range(0, len(tar), chunk):
            reader.feed(tar[start : start + chunk])
        reader.close()
    finally:
        extractor.release()
    return extractor.refused


def tree(root: Path) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            found[rel] = ("link", os.readlink(path))
        elif path.is_dir():
            found[rel] = "dir"
        else:
            found[rel] = path.read_bytes()
    return found


# --------------------------------------------------------------------------- tar reader


@pytest.mark.parametrize("chunk", [1, 511, 512, 513, 65536])
def test_reader_reads_any_chunking(chunk: int) -> None:
    long_name = "d/" + "n" * 150 + "/é-file"
    tar = tar_of(
        (member("a.bin"), BINARY),
        (member("dir/", tarfile.DIRTYPE), None),
        (member(long_name), b"long"),
        (member("empty"), b""),
        (member("ln", tarfile.SYMTYPE, link="a.bin"), None),
    )
    seen: list[tuple[str, str, bytes]] = []

    class Sink(SingleFile):
        def start(self, entry: Any) -> None:
            seen.append((entry.name, entry.kind, b""))

        def data(self, view: memoryview) -> None:
            name, kind, data = seen[-1]
            seen[-1] = (name, kind, data + bytes(view))

    reader = TarReader(Sink())
    for start in range(0, len(tar), chunk):
        reader.feed(tar[start : start + chunk])
    reader.close()
    assert seen == [
        ("a.bin", "file", BINARY),
        ("dir/", "directory", b""),
        (long_name, "file", b"long"),
        ("empty", "file", b""),
        ("ln", "symlink", b""),
    ]


def test_reader_gnu_long_names() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as archive:
        info = member("x/" * 80 + "file")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"abc"))
    sink = SingleFile()
    reader = TarReader(sink)
    reader.feed(buffer.getvalue())
    reader.close()
    assert sink.content() == b"abc" and not sink.problem


def test_reader_refuses_broken_archives() -> None:
    tar = bytearray(tar_of((member("a"), b"data")))
    with pytest.raises(OutputParseError):  # ends inside the file's data
        reader = TarReader(SingleFile())
        reader.feed(bytes(tar[:515]))
        reader.close()
    tar[0] ^= 1  # the name changes, the checksum does not
    with pytest.raises(OutputParseError):
        TarReader(SingleFile()).feed(bytes(tar))


def test_single_file_problems() -> None:
    def problem(tar: bytes) -> str:
        sink = SingleFile()
        reader = TarReader(sink)
        reader.feed(tar)
        reader.close()
        return sink.problem

    assert problem(tar_of((member("d", tarfile.DIRTYPE), None))) == "is a directory"
    assert "symbolic link" in problem(tar_of((member("l", tarfile.SYMTYPE, link="x"), None)))
    assert problem(tar_of((member("a"), b"1"), (member("b"), b"2"))) == "is not a single file"


# --------------------------------------------------------------------------- extractor


def test_extractor_writes_a_tree(tmp_path: Path) -> None:
    tar = tar_of(
        (member("top/", tarfile.DIRTYPE, mode=0o750), None),
        (member("top/bin.dat", mode=0o4755), BINARY),  # setuid dropped
        (member("top/sub/deep.txt", mode=0o666), b"deep"),  # group/other write dropped
        (member("top/rel", tarfile.SYMTYPE, link="sub/deep.txt"), None),
        (member("top/sub/up", tarfile.SYMTYPE, link="../bin.dat"), None),
        (member("top/hard", tarfile.LNKTYPE, link="top/bin.dat"), None),
        (member("top/fifo", tarfile.FIFOTYPE), None),  # skipped
    )
    assert extract(tar, tmp_path, top="renamed") == []
    assert tree(tmp_path) == {
        "renamed": "dir",
        "renamed/bin.dat": BINARY,
        "renamed/hard": BINARY,
        "renamed/rel": ("link", "sub/deep.txt"),
        "renamed/sub": "dir",
        "renamed/sub/deep.txt": b"deep",
        "renamed/sub/up": ("link", "../bin.dat"),
    }
    assert os.stat(tmp_path / "renamed").st_mode & 0o7777 == 0o750
    assert os.stat(tmp_path / "renamed" / "bin.dat").st_mode & 0o7777 == 0o755
    assert os.stat(tmp_path / "renamed" / "sub" / "deep.txt").st_mode & 0o7777 == 0o644
    assert os.stat(tmp_path / "renamed" / "bin.dat").st_mtime == 1_000_000
    assert (
        os.stat(tmp_path / "renamed" / "hard").st_ino
        == os.stat(tmp_path / "renamed" / "bin.dat").st_ino
    )


HOSTILE = [
    ("dotdot name", [(member("../evil"), b"x")]),
    ("dotdot inside", [(member("a/../../evil"), b"x")]),
    ("absolute link", [(member("l", tarfile.SYMTYPE, link="/etc"), None)]),
    ("climbing link", [(member("a/l", tarfile.SYMTYPE, link="../../outside"), None)]),
    ("dotdot after a name", [(member("l", tarfile.SYMTYPE, link="a/../../x"), None)]),
    ("hard link outside", [(member("h", tarfile.LNKTYPE, link="../victim"), None)]),
    ("hard link absolute", [(member("h", tarfile.LNKTYPE, link="/etc/passwd"), None)]),
    ("hard link to nothing copied", [(member("h", tarfile.LNKTYPE, link="victim"), None)]),
]


@pytest.mark.parametrize("members", [c[1] for c in HOSTILE], ids=[c[0] for c in HOSTILE])
def test_extractor_refuses_what_leaves_the_destination(
    tmp_path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    (tmp_path / "victim").write_bytes(b"victim")
    refused = extract(tar_of(*members), dest)
    assert len(refused) == 1
    assert tree(tmp_path) == {"dest": "dir", "victim": b"victim"}


def test_extractor_absolute_names(tmp_path: Path) -> None:
    """Under a named top an absolute name is refused; for the contents of a directory
    (docker names them "/etc/...") it is taken relative to the destination."""
    tar = tar_of((member("/etc/evil"), b"x"))
    assert len(extract(tar, tmp_path, top="etc")) == 1
    assert tree(tmp_path) == {}
    assert extract(tar, tmp_path) == []
    assert tree(tmp_path) == {"etc": "dir", "etc/evil": b"x"}


def test_extractor_never_writes_through_links(tmp_path: Path) -> None:
    """A crafted tar: a link to a host directory, then a file "inside" it; a link to a host
    file, then a file of the same name; a file through a link made earlier in the archive."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = tmp_path / "victim"
    victim.write_bytes(b"victim")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "pre").symlink_to(outside)  # already in the destination
    (dest / "prefile").symlink_to(victim)
    tar = tar_of(
        (member("pre/evil"), b"x"),
        (member("prefile"), b"replaced"),
        (member("ok", tarfile.SYMTYPE, link="."), None),  # stays inside: created
        (member("ok/through"), b"x"),  # but never written through
        (member("d/", tarfile.DIRTYPE), None),
        (member("d", tarfile.SYMTYPE, link="."), None),  # a directory is not replaced
    )
    refused = extract(tar, dest)
    assert sorted(r.split(":")[0] for r in refused) == ["d", "ok/through", "pre/evil"]
    assert victim.read_bytes() == b"victim" and list(outside.iterdir()) == []
    assert (dest / "prefile").read_bytes() == b"replaced" and not (dest / "prefile").is_symlink()


def test_extractor_contents_mode_takes_absolute_names_as_relative(tmp_path: Path) -> None:
    # docker's `cp C:/ -` names entries "/", "/etc/..."; podman's "etc/...".
    tar = tar_of(
        (member("/", tarfile.DIRTYPE), None),
        (member("/etc/a"), b"a"),
        (member("./b"), b"b"),
        (member("c"), b"c"),
    )
    assert extract(tar, tmp_path) == []
    assert tree(tmp_path) == {"b": b"b", "c": b"c", "etc": "dir", "etc/a": b"a"}


def test_extractor_named_mode_refuses_other_tops(tmp_path: Path) -> None:
    tar = tar_of((member("d/a"), b"a"), (member("other/b"), b"b"))
    refused = extract(tar, tmp_path, top="d")
    assert [r.split(":")[0] for r in refused] == ["other/b"]


def test_replacing_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.tar"
    with pytest.raises(RuntimeError), replacing(str(target)) as partial:
        Path(partial).write_bytes(b"half")
        raise RuntimeError
    assert os.listdir(tmp_path) == []
    with replacing(str(target)) as partial:
        Path(partial).write_bytes(b"whole")
    assert os.listdir(tmp_path) == ["out.tar"] and target.read_bytes() == b"whole"


# --------------------------------------------------------------------------- checks first

Action = Callable[[Any], object]

BAD: list[tuple[str, Action, str]] = [
    ("dotdot", lambda e: e.containers.put_files("c1", "/t", {"../x": b""}), "files key"),
    ("absolute", lambda e: e.containers.put_files("c1", "/t", {"/abs": b""}), "files key"),
    ("escape", lambda e: e.containers.put_files("c1", "/t", {"a/../../b": b""}), "files key"),
    ("empty", lambda e: e.containers.put_files("c1", "/t", {"": b""}), "files key"),
    ("dot", lambda e: e.containers.put_files("c1", "/t", {".": b""}), "files key"),
    ("backslash", lambda e: e.containers.put_files("c1", "/t", {"a\\b": b""}), "files key"),
    ("dup", lambda e: e.containers.put_files("c1", "/t", {"a": b"", "./a": b""}), "files key"),
    (
        "under-file",
        lambda e: e.containers.put_files("c1", "/t", {"a": b"", "a/b": b""}),
        "files key",
    ),
    ("content", lambda e: e.containers.put_files("c1", "/t", {"a": 1}), "files[a]"),
    ("not-mapping", lambda e: e.containers.put_files("c1", "/t", [("a", b"")]), "files"),
    (
        "exec-missing",
        lambda e: e.containers.put_files("c1", "/t", {"a": b""}, executable=["b"]),
        "executable",
    ),
    ("relative-dir", lambda e: e.containers.put_files("c1", "tmp", {"a": b""}), "directory"),
    ("newline-dir", lambda e: e.containers.put_files("c1", "/t\n", {"a": b""}), "directory"),
    ("option-container", lambda e: e.containers.put_files("-v", "/t", {"a": b""}), "container"),
    ("relative-path", lambda e: e.containers.get_file("c1", "etc/passwd"), "path"),
    (
        "copy-to-relative",
        lambda e: e.containers.copy_to("c1", "/etc/hostname", "tmp"),
        "destination",
    ),
    ("copy-to-missing", lambda e: e.containers.copy_to("c1", "/no/such/file", "/tmp"), "source"),
    (
        "copy-from-file",
        lambda e: e.containers.copy_from("c1", "/etc", "/etc/hostname"),
        "destination",
    ),
    ("copy-from-bytes", lambda e: e.containers.copy_from("c1", "/etc", b"/tmp"), "destination"),
    ("export-dir", lambda e: e.containers.export("c1", "/tmp"), "destination"),
    ("export-no-parent", lambda e: e.containers.export("c1", "/no/such/dir/x.tar"), "destination"),
    ("run-once-config", lambda e: e.containers.run_once("alpine"), "config"),
    (
        "run-once-restart",
        lambda e: e.containers.run_once(RunConfig("alpine", restart_policy=RestartPolicy.ALWAYS)),
        "config.restart_policy",
    ),
    ("run-once-input", lambda e: e.containers.run_once(RunConfig("alpine"), input="x"), "input"),
    (
        "run-once-timeout",
        lambda e: e.containers.run_once(RunConfig("alpine"), timeout=0),
        "timeout",
    ),
    ("save-none", lambda e: e.images.save([], "/tmp/x.tar"), "images"),
    ("save-bad-ref", lambda e: e.images.save(["-x"], "/tmp/x.tar"), "images"),
    ("save-dir", lambda e: e.images.save("alpine", "/tmp"), "destination"),
    ("load-missing", lambda e: e.images.load("/no/such/archive.tar"), "source"),
    ("import-missing", lambda e: e.images.import_("/no/such/fs.tar", "x:1"), "source"),
    (
        "import-change",
        lambda e: e.images.import_("/etc/hostname", "x:1", changes=["RUN x"]),
        "changes item",
    ),
    (
        "import-newline",
        lambda e: e.images.import_("/etc/hostname", "x:1", changes=["ENV a=1\nCMD x"]),
        "changes item",
    ),
    (
        "import-string",
        lambda e: e.images.import_("/etc/hostname", "x:1", changes="ENV a=1"),
        "changes",
    ),
    ("import-ref", lambda e: e.images.import_("/etc/hostname", "X:1"), "reference"),
]


@pytest.mark.parametrize(("call", "field"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
@pytest.mark.parametrize("kind", ["docker", "podman", "abc-only"])
def test_bad_input_refused_before_anything(kind: str, call: Action, field: str) -> None:
    if kind == "abc-only":
        engine: Any = RecordingEngine()
        activity: Callable[[], list[str]] = lambda: engine.hooks  # noqa: E731
    else:
        runner = FakeRunner(kind)  # unscripted: any call raises AssertionError
        engine = engine_for(kind, runner)
        activity = lambda: [" ".join(c.args) for c in runner.calls]  # noqa: E731
    with pytest.raises(InvalidConfigError) as caught:
        call(engine)
    assert caught.value.field == field
    assert activity() == []


# --------------------------------------------------------------------------- put/get argv


def test_put_files_streams_a_root_owned_tar_with_a_private_tmpdir(runtime: str) -> None:
    runner = FakeRunner(runtime, result())
    engine_for(runtime, runner).containers.put_files(
        "c1", "/etc/app", {"conf/a.toml": "x = 1\n", "run": BINARY}, executable=["run"]
    )
    call = runner.calls[0]
    assert call.args == ("cp", "-", "c1:/etc/app")
    assert call.env is not None and set(call.env) == {"TMPDIR"}
    assert not os.path.exists(call.env["TMPDIR"])  # removed afterwards
    assert call.input is not None
    with tarfile.open(fileobj=io.BytesIO(call.input)) as archive:
        members = {m.name: m for m in archive.getmembers()}
        assert sorted(members) == ["conf/a.toml", "run"]  # no directory entries
        assert [(m.uid, m.gid, m.mode) for m in members.values()] == [(0, 0, 0o644), (0, 0, 0o755)]
        run = archive.extractfile("run")
        assert run is not None and run.read() == BINARY


def test_cp_path_errors_are_container_path_errors(runtime: str) -> None:
    stderr = {
        "docker": 'destination "c1:/nope" must be a directory',
        "podman": "Error: destination must be a directory when copying from stdin",
    }[runtime]
    runner = FakeRunner(runtime, result(stderr=stderr, returncode=1), result(stdout="c1"))
    with pytest.raises(ContainerPathError) as caught:
        engine_for(runtime, runner).containers.put_files("c1", "/nope", {"a": b""})
    assert caught.value.path == "/nope"
    # docker says the same for a missing container: its existence decides.
    missing = "Error: no such object" if runtime == "docker" else "Error: no such container"
    runner = FakeRunner(
        runtime, result(stderr=stderr, returncode=1), result(stderr=missing, returncode=1)
    )
    with pytest.raises(ContainerNotFoundError):
        engine_for(runtime, runner).containers.put_files("c1", "/nope", {"a": b""})


def test_get_file_follows_links_and_reads_the_tar(runtime: str) -> None:
    runner = StreamingRunner(runtime)
    runner.streams.append((0, tar_of((member("passwd"), BINARY)), b""))
    data = engine_for(runtime, runner).containers.get_file("c1", "/etc/link")
    assert data == BINARY
    args, env = runner.streamed[0]
    follow = ("-L",) if runtime == "docker" else ()
    assert args == ("cp", *follow, "c1:/etc/link", "-")
    assert env is not None and not os.path.exists(env["TMPDIR"])


def test_get_file_directory_and_missing(runtime: str) -> None:
    runner = StreamingRunner(runtime, result(stdout="c1"))
    runner.streams.append((0, tar_of((member("d", tarfile.DIRTYPE), None)), b""))
    runner.streams.append((1, b"", b"Error response from daemon: Could not find the file /x"))
    engine = engine_for(runtime, runner)
    with pytest.raises(ContainerPathError, match="is a directory"):
        engine.containers.get_file("c1", "/d")
    with pytest.raises(ContainerPathError) as caught:
        engine.containers.get_file("c1", "/x")
    assert caught.value.path == "/x" and not isinstance(caught.value, ContainerNotFoundError)


def test_copy_from_reports_refused_entries_after_copying_the_rest(
    runtime: str, tmp_path: Path
) -> None:
    runner = StreamingRunner(runtime)
    tar = tar_of(
        (member("etc/", tarfile.DIRTYPE), None),
        (member("etc/ok"), b"ok"),
        (member("etc/mtab", tarfile.SYMTYPE, link="/proc/mounts"), None),
    )
    runner.streams.append((0, tar, b""))
    with pytest.raises(ContainerPathError) as caught:
        engine_for(runtime, runner).containers.copy_from("c1", "/etc/", tmp_path)
    assert [r.split(":")[0] for r in caught.value.refused] == ["etc/mtab"]
    assert tree(tmp_path) == {"etc": "dir", "etc/ok": b"ok"}


# --------------------------------------------------------------------------- run_once


def _cid_writer(code: int, out: bytes = b"", err: bytes = b"") -> Callable[[Call], CommandResult]:
    def answer(call: Call) -> CommandResult:
        with open(call.option("--cidfile"), "w", encoding="ascii") as handle:
            handle.write(CID)
        return result(out, err, code)

    return answer


def _events(*statuses: str) -> CommandResult:
    return result("\n".join(statuses) + "\n")


def test_run_once_argv_input_and_secrets(runtime: str) -> None:
    runner = FakeRunner(runtime, _cid_writer(0, b"out", b"err"))
    config = RunConfig("alpine", command=["cat"], environment={"TOKEN": "s3cret"}, name="xx")
    got = engine_for(runtime, runner).containers.run_once(config, input=b"in", timeout=5)
    assert (got.exit_code, got.stdout_bytes, got.stderr_bytes) == (0, b"out", b"err")
    call = runner.calls[0]
    assert call.args[:2] == ("run", "--rm") and "-i" in call.args
    assert call.args[-2:] == ("alpine", "cat") and call.option("--name") == "xx"
    assert "s3cret" not in " ".join(call.args) and call.env == {"TOKEN": "s3cret"}
    assert (call.input, call.timeout, call.check) == (b"in", 5, False)
    assert not os.path.exists(os.path.dirname(call.option("--cidfile")))
    assert len(runner.calls) == 1  # no other process on the common path


@pytest.mark.parametrize("code", [125, 126, 127])
def test_run_once_code_of_a_container_that_started(runtime: str, code: int) -> None:
    runner = FakeRunner(
        runtime, _cid_writer(code, b"o", b"Error: my own"), _events("create", "start", "die")
    )
    got = engine_for(runtime, runner).containers.run_once(RunConfig("alpine"))
    assert got.exit_code == code and got.stderr == "Error: my own"
    assert runner.calls[1].args[0] == "events"
    assert f"container={CID}" in runner.calls[1].args


@pytest.mark.parametrize("code", [126, 127])
def test_run_once_command_that_cannot_start_raises(runtime: str, code: int) -> None:
    stderr = 'Error: runc create failed: exec: "nope": executable file not found'
    runner = FakeRunner(
        runtime, _cid_writer(code, b"", stderr.encode()), _events("create"), result()
    )
    with pytest.raises(ContainerOperationError) as caught:
        engine_for(runtime, runner).containers.run_once(RunConfig("alpine"))
    assert caught.value.exit_code == code and "executable file not found" in caught.value.message
    assert runner.calls[2].args[:2] == ("rm", "-f") and runner.calls[2].args[-1] == CID


@pytest.mark.parametrize(
    ("stderr", "theirs"),
    [
        ("docker: Error response from daemon: oops.\nRun 'docker run --help' for more", False),
        ("Error: oops", False),
        ("the container's own complaint", True),
    ],
)
def test_run_once_without_events_reads_stderr(runtime: str, stderr: str, theirs: bool) -> None:
    if runtime == "docker" and stderr == "Error: oops":
        theirs = True  # docker's own failures look different
    if runtime == "podman" and stderr.startswith("docker:"):
        theirs = True
    runner = FakeRunner(runtime, _cid_writer(125, b"", stderr.encode()), _events(), result())
    engine = engine_for(runtime, runner)
    if theirs:
        assert engine.containers.run_once(RunConfig("alpine")).exit_code == 125
    else:
        with pytest.raises(ContainerOperationError):
            engine.containers.run_once(RunConfig("alpine"))


def test_run_once_missing_image(runtime: str) -> None:
    stderr = {
        "docker": "docker: Error response from daemon: No such image: x:1",
        "podman": "Error: x:1: image not known",
    }
    runner = FakeRunner(runtime, result(stderr=stderr[runtime], returncode=125))
    with pytest.raises(ImageNotFoundError):
        engine_for(runtime, runner).containers.run_once(RunConfig("x:1"))
    assert len(runner.calls) == 1  # no cidfile: no events, nothing to remove


@pytest.mark.parametrize("failure", [CommandTimeoutError("late", timeout=1), KeyboardInterrupt()])
def test_run_once_removes_the_container_when_cut_short(
    runtime: str, failure: BaseException
) -> None:
    def cut(call: Call) -> CommandResult:
        _cid_writer(0)(call)
        raise failure

    runner = FakeRunner(runtime, cut, result(CID))
    with pytest.raises(type(failure)):
        engine_for(runtime, runner).containers.run_once(RunConfig("alpine", command=["sleep", "9"]))
    rm = runner.calls[1].args
    assert rm[0] == "rm" and rm[-1] == CID and "-f" in rm


def test_run_once_no_cid_yet_nothing_to_remove(runtime: str) -> None:
    def cut(call: Call) -> CommandResult:
        raise KeyboardInterrupt

    runner = FakeRunner(runtime, cut)
    with pytest.raises(KeyboardInterrupt):
        engine_for(runtime, runner).containers.run_once(RunConfig("alpine"))
    assert len(runner.calls) == 1


def test_podman_events_read_without_until() -> None:
    runner = FakeRunner("podman", _cid_writer(127), _events("create", "init", "start"))
    assert engine_for("podman", runner).containers.run_once(RunConfig("alpine")).exit_code == 127
    events = runner.calls[1].args
    assert "--stream=false" in events and "--until" not in events


# --------------------------------------------------------------------------- archives


def test_save_argv_and_multi_image(runtime: str, tmp_path: Path) -> None:
    def write(call: Call) -> CommandResult:
        Path(call.option("-o")).write_bytes(b"archive")
        return result()

    runner = FakeRunner(runtime, write, write)
    engine = engine_for(runtime, runner)
    engine.images.save("a:1", tmp_path / "one.tar")
    engine.images.save(["a:1", "b:2"], tmp_path / "two.tar")
    assert sorted(os.listdir(tmp_path)) == ["one.tar", "two.tar"]
    multi = ["-m"] if runtime == "podman" else []
    assert list(runner.calls[0].args[-1:]) == ["a:1"]
    assert runner.calls[1].args[0] == "save" and list(runner.calls[1].args[1:-4]) == multi
    assert runner.calls[1].args[-2:] == ("a:1", "b:2")


def test_failed_save_leaves_nothing(runtime: str, tmp_path: Path) -> None:
    runner = FakeRunner(runtime, result(stderr="Error: No such image: a:1", returncode=1))
    with pytest.raises(ImageNotFoundError):
        engine_for(runtime, runner).images.save("a:1", tmp_path / "x.tar")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    ("runtime_", "output", "loaded"),
    [
        ("docker", "Loaded image: a:1\nLoaded image: reg.io/b/c:2\n", ["a:1", "reg.io/b/c:2"]),
        ("docker", "Loaded image: localhost/a:1\n", ["localhost/a:1"]),
        ("docker", f"Loaded image ID: sha256:{'a' * 64}\n", [f"sha256:{'a' * 64}"]),
        ("podman", "Getting image source signatures\nLoaded image: localhost/a:1\n", ["a:1"]),
        ("podman", "Loaded image(s): localhost/a:1,docker.io/library/b:2\n", ["a:1", "b:2"]),
    ],
)
def test_load_references(runtime_: str, output: str, loaded: list[str], tmp_path: Path) -> None:
    archive = tmp_path / "a.tar"
    archive.write_bytes(b"x")
    runner = FakeRunner(runtime_, result(output))
    assert engine_for(runtime_, runner).images.load(archive) == loaded
    assert runner.calls[0].args == ("load", "-i", str(archive))


def test_import_argv_and_id(runtime: str, tmp_path: Path) -> None:
    fs = tmp_path / "fs.tar"
    fs.write_bytes(b"x")
    runner = FakeRunner(runtime, result(f"sha256:{'b' * 64}\n"))
    image_id = engine_for(runtime, runner).images.import_(
        fs, "base:1", changes=["ENV PATH=/bin", 'CMD ["/bin/sh"]']
    )
    assert image_id == f"sha256:{'b' * 64}"
    assert runner.calls[0].args == (
        "import",
        "--change",
        "ENV PATH=/bin",
        "--change",
        'CMD ["/bin/sh"]',
        str(fs),
        "base:1",
    )


def test_export_writes_beside_then_renames(runtime: str, tmp_path: Path) -> None:
    def write(call: Call) -> CommandResult:
        assert os.path.dirname(call.option("-o")) == str(tmp_path)
        Path(call.option("-o")).write_bytes(b"fs")
        return result()

    runner = FakeRunner(runtime, write)
    engine_for(runtime, runner).containers.export("c1", tmp_path / "fs.tar")
    assert os.listdir(tmp_path) == ["fs.tar"]
    assert runner.calls[0].args[0] == "export" and runner.calls[0].args[-1] == "c1"


def test_extractor_many_directories_and_no_descriptor_left(tmp_path: Path) -> None:
    # More directories than the extractor keeps open, visited out of order.
    members = [(member(f"t/d{i % 300}/f{i}"), str(i).encode()) for i in range(900)]
    members.append((member("t/hard", tarfile.LNKTYPE, link="t/d5/f5"), None))
    before = len(os.listdir("/proc/self/fd"))
    assert extract(tar_of(*members), tmp_path, top="t") == []
    assert len(os.listdir("/proc/self/fd")) == before
    assert (tmp_path / "t" / "d299" / "f899").read_bytes() == b"899"
    assert (tmp_path / "t" / "hard").read_bytes() == b"5"
    assert len(list((tmp_path / "t").iterdir())) == 301
