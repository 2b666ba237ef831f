"""In-memory files as a tar stream, made chunk by chunk: the build context, ``put_files``.

The tar is never held whole: :func:`files_tar_chunks` yields each header, then slices of
the file's own bytes (memoryviews, no copies), then padding. Entries are sorted, with
uid/gid 0 and fixed modes (0644, 0755 for the executable ones). The build context
(:func:`context_tar_chunks`) also has a fixed mtime, so the same context always gives the
same bytes (and the runtimes' layer cache keeps working). No directory entries are written:
the CLI creates missing parent directories (root-owned, 0755) and leaves existing ones as
they are.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterator, Mapping

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ...core.types import BuildContext

__all__ = [
    "coalesced",
    "context_files",
    "context_tar_bytes",
    "context_tar_chunks",
    "files_tar_chunks",
]

BLOCK = 512
CHUNK = 1024 * 1024
#: 1980-01-01T00:00:00Z, the usual reproducible-build timestamp.
MTIME = 315532800


# The ustar fields after the checksum, the same for every entry here: typeflag, linkname,
# magic "ustar\0" + version "00", empty uname/gname, devmajor/devminor (empty for a
# regular file, as current tarfile writes them), empty prefix, padding to 512.
_USTAR_TAIL = (
    b"0"  # typeflag: regular file
    + bytes(100)  # linkname
    + b"ustar\x0000"
    + bytes(64)  # uname, gname
    + bytes(16)  # devmajor, devminor
    + bytes(155 + 12)  # prefix, padding
)
_ID_AND_MTIME = b"0000000\x00" * 2  # uid, gid
_MTIME_FIELD = b"%011o\x00" % MTIME
_CHECKSUM_BLANK = b" " * 8
_SIZE_LIMIT = 8**11  # what 11 octal digits hold (8 GiB)


def _header(name: str, size: int, mode: int, mtime: int = MTIME) -> bytes:
    """The tar header of one regular file, as ``tarfile`` makes it (PAX format).

    Short ASCII names (nearly all build contexts) get the 512-byte ustar header written
    here directly, about ten times faster than through ``tarfile.TarInfo``; anything else
    (long or non-ASCII names, huge files) goes through ``tarfile``, which adds PAX records.
    """
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) <= 100 and name.isascii() and size < _SIZE_LIMIT:
        head = (
            encoded.ljust(100, b"\x00")
            + b"%07o\x00" % mode
            + _ID_AND_MTIME
            + b"%011o\x00" % size
            + (_MTIME_FIELD if mtime == MTIME else b"%011o\x00" % mtime)
        )
        checksum = sum(head) + sum(_CHECKSUM_BLANK) + sum(_USTAR_TAIL)
        return head + b"%06o\x00 " % checksum + _USTAR_TAIL
    return _tarfile_header(name, size, mode, mtime)


def _tarfile_header(name: str, size: int, mode: int, mtime: int = MTIME) -> bytes:
    import tarfile  # only unusual entries pay for it

    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def _ignore_rules(data: bytes) -> list[tuple[re.Pattern[str], bool]]:
    """The rules of a ``.dockerignore``: (regex, excludes) per pattern, in order.

    As docker's patternmatcher reads them: ``#`` comments and blank lines skipped, a leading
    ``!`` re-includes, each pattern cleaned like a path (leading ``/`` dropped), ``*`` and
    ``?`` stay within one path segment, ``**`` spans any number of them.
    """
    rules = []
    for raw in data.decode("utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        pattern = posixpath.normpath(line.lstrip("!").strip()).lstrip("/")
        if pattern in ("", "."):
            continue
        rules.append((re.compile(_glob_regex(pattern)), excludes))
    return rules


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
                i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _ignored(name: str, rules: list[tuple[re.Pattern[str], bool]]) -> bool:
    """True when the last rule matching ``name`` or one of its parent directories
    excludes it."""
    parents = [name]
    while "/" in parents[-1]:
        parents.append(parents[-1].rsplit("/", 1)[0])
    ignored = False
    for regex, excludes in rules:
        if any(regex.fullmatch(path) for path in parents):
            ignored = excludes
    return ignored


def context_files(context: BuildContext) -> dict[str, bytes]:
    """The files of ``context`` that reach the build: ``.dockerignore`` applied, as docker
    applies it to a directory context (its CLI does not for a tar on stdin, and podman does
    always), so both runtimes build from the same files. The Dockerfile is always sent."""
    entries: dict[str, bytes] = dict(context.files)  # type: ignore[arg-type]
    ignore = entries.get(".dockerignore")
    if ignore is not None:
        rules = _ignore_rules(ignore)
        if rules:
            entries = {k: v for k, v in entries.items() if not _ignored(k, rules)}
    entries[context.dockerfile_path] = context.dockerfile.encode("utf-8")
    return entries


def files_tar_chunks(
    files: Mapping[str, bytes], executable: Collection[str] = (), mtime: int = MTIME
) -> Iterator[bytes | memoryview]:
    """Yield the tar of ``files`` (normalised relative names → contents) piece by piece:
    mode 0644, or 0755 for the names in ``executable``; uid/gid 0; ``mtime``."""
    for name in sorted(files):
        data = files[name]
        yield _header(name, len(data), 0o755 if name in executable else 0o644, mtime)
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            yield view[start : start + CHUNK]
        if len(data) % BLOCK:
            yield bytes(BLOCK - len(data) % BLOCK)
    yield bytes(2 * BLOCK)  # end-of-archive marker


def coalesced(
    chunks: Iterator[bytes | memoryview], size: int = 64 * 1024
) -> Iterator[bytes | memoryview]:
    """``chunks`` with the small ones joined into pieces of about ``size`` bytes (large ones
    pass through as they are): a tar of many small files is then written with a few large
    writes instead of three per file."""
    pending: list[bytes | memoryview] = []
    held = 0
    for chunk in chunks:
        if len(chunk) >= size:
            if pending:
                yield b"".join(pending)
                pending, held = [], 0
            yield chunk
            continue
        pending.append(chunk)
        held += len(chunk)
        if held >= size:
            yield b"".join(pending)
            pending, held = [], 0
    if pending:
        yield b"".join(pending)


def context_tar_chunks(context: BuildContext) -> Iterator[bytes | memoryview]:
    """Yield the tar of ``context`` (its Dockerfile and the files ``.dockerignore`` keeps)
    piece by piece."""
    return files_tar_chunks(context_files(context), frozenset(context.executable))


def context_tar_bytes(context: BuildContext) -> bytes:
    """The whole tar as one bytes object (for tests and small contexts)."""
    return b"".join(bytes(c) for c in context_tar_chunks(context))
