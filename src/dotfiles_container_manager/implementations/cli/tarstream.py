"""The build context as a tar stream, made in memory, chunk by chunk.

The tar is never held whole: :func:`context_tar_chunks` yields each header, then slices of
the file's own bytes (memoryviews, no copies), then padding. Entries are sorted, with a
fixed mtime, uid/gid 0 and fixed modes, so the same context always gives the same bytes
(and the runtimes' layer cache keeps working).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...core.types import BuildContext

__all__ = ["context_tar_bytes", "context_tar_chunks"]

BLOCK = 512
CHUNK = 1024 * 1024
#: 1980-01-01T00:00:00Z, the usual reproducible-build timestamp.
MTIME = 315532800


def _header(name: str, size: int, mode: int) -> bytes:
    import tarfile  # only builds pay for it

    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = mode
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    return info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")


def context_tar_chunks(context: BuildContext) -> Iterator[bytes | memoryview]:
    """Yield the tar of ``context`` (its Dockerfile and files) piece by piece."""
    entries: dict[str, bytes] = dict(context.files)  # type: ignore[arg-type]
    entries[context.dockerfile_path] = context.dockerfile.encode("utf-8")
    executable = set(context.executable)
    for name in sorted(entries):
        data = entries[name]
        yield _header(name, len(data), 0o755 if name in executable else 0o644)
        view = memoryview(data)
        for start in range(0, len(view), CHUNK):
            yield view[start : start + CHUNK]
        if len(data) % BLOCK:
            yield bytes(BLOCK - len(data) % BLOCK)
    yield bytes(2 * BLOCK)  # end-of-archive marker


def context_tar_bytes(context: BuildContext) -> bytes:
    """The whole tar as one bytes object (for tests and small contexts)."""
    return b"".join(bytes(c) for c in context_tar_chunks(context))
