"""Tar archives read as they stream in, and written to the host without leaving a directory.

``cp CONTAINER:PATH -`` prints a tar. :class:`TarReader` parses it chunk by chunk (ustar,
GNU long names, PAX records), handing each entry and its data slices to a sink, so memory
does not grow with the archive. Two sinks:

- :class:`SingleFile` keeps the bytes of one regular file (``get_file``);
- :class:`SafeExtractor` writes a tree under a host directory (``copy_from``) and never
  writes outside it, whatever the names and links in the archive: every path is walked one
  component at a time from an open descriptor of the destination with ``O_NOFOLLOW``, so no
  symbolic link, old or new, is ever followed while writing; names that are absolute or
  hold ``..`` are refused; a symbolic link is created only when its target is relative,
  has ``..`` only as leading components and stays inside the destination; a hard link only
  to a file written by this extraction. Devices and FIFOs are skipped. What was refused is
  reported once the archive ended (:attr:`SafeExtractor.refused`).

Nothing here trusts :mod:`tarfile`'s extraction (``extractall`` follows links; its filters
exist only from Python 3.11.4/3.12).
"""

from __future__ import annotations

import errno
import os
import stat

from ...core.exceptions import OutputParseError

__all__ = ["SafeExtractor", "SingleFile", "TarEntry", "TarReader"]

BLOCK = 512

# Entry kinds.
FILE = "file"
DIRECTORY = "directory"
SYMLINK = "symlink"
HARDLINK = "hardlink"
OTHER = "other"  # devices, FIFOs, anything unknown: its data is skipped

_KINDS = {
    b"0": FILE,
    b"\x00": FILE,
    b"7": FILE,  # contiguous file
    b"5": DIRECTORY,
    b"2": SYMLINK,
    b"1": HARDLINK,
    b"3": OTHER,
    b"4": OTHER,
    b"6": OTHER,
}
_META = (b"x", b"g", b"L", b"K")  # PAX (per entry, global), GNU long name, long link
_META_MAX = 1024 * 1024  # a PAX/long-name record larger than this is not a real one


class TarEntry:
    """One member of the archive: ``name`` as written (decoded UTF-8, undecodable bytes
    kept as surrogate escapes), ``kind`` (``file``/``directory``/``symlink``/``hardlink``/
    ``other``), ``size`` of its data, ``mode`` (permission bits), ``mtime``, ``linkname``."""

    # A plain slotted class, not a dataclass: `dataclasses` (and `inspect` behind it) cost
    # ~10 ms to import, paid by every script that imports the docker engine.
    __slots__ = ("kind", "linkname", "mode", "mtime", "name", "size")

    def __init__(
        self, name: str, kind: str, size: int, mode: int, mtime: int, linkname: str = ""
    ) -> None:
        self.name = name
        self.kind = kind
        self.size = size
        self.mode = mode
        self.mtime = mtime
        self.linkname = linkname

    def __repr__(self) -> str:
        return f"TarEntry({self.name!r}, {self.kind!r}, size={self.size}, mode={self.mode:o})"


class TarSink:
    """What :class:`TarReader` calls: ``start`` per entry, ``data`` per slice of its data
    (regular files only), ``end`` after its last slice, ``close`` at the end of the archive."""

    def start(self, entry: TarEntry) -> None: ...

    def data(self, chunk: memoryview) -> None: ...

    def end(self) -> None: ...

    def close(self) -> None: ...


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes) -> int:
    """An octal header field, or GNU's base-256 form (first byte with the high bit set)."""
    if field[:1] and field[0] & 0x80:
        value = int.from_bytes(field[1:], "big")
        if field[0] & 0x40:  # negative
            value -= 256 ** (len(field) - 1) * 64
        return value
    text = field.split(b"\x00", 1)[0].strip(b" \x00")
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise _bad(f"bad number field {field!r}") from None


def _bad(message: str) -> OutputParseError:
    return OutputParseError(f"unreadable tar from the CLI: {message}", output="")


def _pax(data: bytes) -> dict[str, str]:
    """PAX records: ``"%d %s=%s\\n"`` each."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        if space < 0:
            break
        try:
            length = int(data[pos:space])
        except ValueError:
            raise _bad("bad PAX record length") from None
        if length <= 0:
            break
        record = data[space + 1 : pos + length]
        key, sep, value = record.rstrip(b"\n").partition(b"=")
        if not sep:
            raise _bad("bad PAX record")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


class TarReader:
    """Parses a tar fed in chunks of any size (:meth:`feed`), then :meth:`close`.

    Regular files' data goes to the sink as memoryview slices of the chunks fed (no copy
    beyond the header buffer); the reader holds at most one header or one PAX record.
    """

    __slots__ = (
        "_buffer",
        "_done",
        "_entry_open",
        "_meta_kind",
        "_need",
        "_overrides",
        "_padding",
        "_remaining",
        "_sink",
        "_state",
    )

    def __init__(self, sink: TarSink) -> None:
        self._sink = sink
        self._buffer = bytearray()
        self._state = "header"  # "header", "data", "meta", "skip", "end"
        self._need = BLOCK
        self._remaining = 0  # data bytes of the current entry still to come
        self._padding = 0  # padding after them
        self._meta_kind = b""
        self._overrides: dict[str, str] = {}
        self._entry_open = False
        self._done = False

    def feed(self, chunk: bytes | memoryview) -> None:
        view = memoryview(chunk)
        while view:
            if self._state == "end":
                return  # anything after the end-of-archive blocks is ignored
            if self._state == "data" or self._state == "skip":
                if self._remaining:
                    take = min(self._remaining, len(view))
                    if self._state == "data":
                        self._sink.data(view[:take])
                    view = view[take:]
                    self._remaining -= take
                    continue
                if self._padding:
                    take = min(self._padding, len(view))
                    view = view[take:]
                    self._padding -= take
                    if self._padding:
                        continue
                self._finish_entry()
                continue
            # "header" or "meta": collect exactly self._need bytes
            take = min(self._need - len(self._buffer), len(view))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < self._need:
                continue
            block = bytes(self._buffer)
            self._buffer.clear()
            if self._state == "header":
                self._header(block)
            else:
                self._meta(block)

    def close(self) -> None:
        """The input ended: it must have ended at the end of an entry."""
        if self._state in ("data", "skip") and (self._remaining or self._padding):
            raise _bad("the archive ended in the middle of an entry")
        if self._state == "meta" or self._buffer:
            raise _bad("the archive ended in the middle of a header")
        if self._entry_open:
            self._finish_entry()
        self._sink.close()

    # ------------------------------------------------------------------ internals

    def _finish_entry(self) -> None:
        if self._entry_open:
            self._entry_open = False
            self._sink.end()
        self._state = "header"
        self._need = BLOCK

    def _header(self, block: bytes) -> None:
        if block == bytes(BLOCK):
            self._state = "end"
            return
        stored = _number(block[148:156])
        actual = sum(block[:148]) + 256 + sum(block[156:])  # the field counts as spaces
        if stored != actual:
            signed = sum((b - 256 if b > 127 else b) for b in block[:148] + block[156:]) + 256
            if stored != signed:
                raise _bad("header checksum mismatch")
        typeflag = block[156:157]
        size = _number(block[124:136])
        if size < 0:
            raise _bad("negative size")
        data_blocks = -(-size // BLOCK) * BLOCK
        if typeflag in _META:
            if size > _META_MAX:
                raise _bad("oversized extended header")
            self._meta_kind = typeflag
            self._state = "meta"
            self._need = data_blocks
            self._remaining = size
            if not data_blocks:
                self._meta(b"")
            return
        overrides, self._overrides = self._overrides, {}
        name = _text(block[0:100])
        if block[257:262] == b"ustar":
            prefix = _text(block[345:500])
            if prefix:
                name = f"{prefix}/{name}"
        linkname = _text(block[157:257])
        mtime = _number(block[136:148])
        name = overrides.get("path", name)
        linkname = overrides.get("linkpath", linkname)
        if "size" in overrides:
            try:
                size = int(overrides["size"])
            except ValueError:
                raise _bad("bad PAX size") from None
            data_blocks = -(-size // BLOCK) * BLOCK
        if "mtime" in overrides:
            try:
                mtime = int(float(overrides["mtime"]))
            except (ValueError, OverflowError):
                raise _bad("bad PAX mtime") from None
        if typeflag == b"S":
            raise _bad(f"sparse file {name!r} (not supported)")
        kind = _KINDS.get(typeflag)
        if kind is None:  # unknown type: skip its data, as tarfile does
            kind = OTHER
        elif kind != FILE:  # links, directories, devices, FIFOs carry no data
            size = data_blocks = 0
        entry = TarEntry(name, kind, size, _number(block[100:108]) & 0o7777, mtime, linkname)
        self._entry_open = True
        self._sink.start(entry)
        self._remaining = size
        self._padding = data_blocks - size
        self._state = "data" if kind == FILE else "skip"
        if not size and not self._padding:
            self._finish_entry()

    def _meta(self, block: bytes) -> None:
        data = block[: self._remaining]
        kind = self._meta_kind
        if kind == b"x":
            self._overrides.update(_pax(data))
        elif kind == b"L":
            self._overrides["path"] = _text(data)
        elif kind == b"K":
            self._overrides["linkpath"] = _text(data)
        # b"g": global PAX records hold nothing this reader needs
        self._remaining = 0
        self._state = "header"
        self._need = BLOCK


# --------------------------------------------------------------------------- sinks


class SingleFile(TarSink):
    """Keeps the content of the one regular file an archive of one path holds; anything
    else (a directory, a link, several entries) is recorded in :attr:`problem`."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.entries = 0
        self.kind = ""
        self.problem = ""

    def start(self, entry: TarEntry) -> None:
        self.entries += 1
        if self.entries == 1:
            self.kind = entry.kind
            if entry.kind == DIRECTORY:
                self.problem = "is a directory"
            elif entry.kind == SYMLINK:
                self.problem = f"is a symbolic link (to {entry.linkname!r})"
            elif entry.kind != FILE:
                self.problem = "is not a regular file"
        elif not self.problem:
            self.problem = "is not a single file"

    def data(self, chunk: memoryview) -> None:
        if self.entries == 1 and not self.problem:
            self.parts.append(bytes(chunk))

    def content(self) -> bytes:
        return b"".join(self.parts)


#: Directory descriptors a :class:`SafeExtractor` keeps open at most.
_DIR_CACHE = 256
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class _Refused(Exception):
    """An entry that is not written (internal)."""


def _safe_name(name: str) -> str:
    """The entry's path relative to the destination, or raise :class:`_Refused`."""
    if "\x00" in name:
        raise _Refused("NUL in the name")
    if name.startswith("/"):
        raise _Refused("absolute name")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _Refused("'..' in the name")
    return "/".join(parts)


def _safe_link_target(name: str, target: str) -> None:
    """Refuse a symbolic link whose target could lead outside the destination: absolute,
    ``..`` after a named component (it would climb from wherever an earlier link led), or
    more leading ``..`` than the link's own depth."""
    if not target or "\x00" in target:
        raise _Refused("empty link target")
    if target.startswith("/"):
        raise _Refused(f"link to an absolute path {target!r}")
    parts = [p for p in target.split("/") if p not in ("", ".")]
    ups = 0
    while ups < len(parts) and parts[ups] == "..":
        ups += 1
    if ".." in parts[ups:]:
        raise _Refused(f"link target {target!r} climbs after a named component")
    if ups > name.count("/"):
        raise _Refused(f"link to {target!r} leads outside the destination")


class SafeExtractor(TarSink):
    """Writes the archive's entries under ``destination`` (an existing host directory).

    Files are created fresh (an existing file or link of the same name is replaced, never
    written through), with the archive's mtime and its permission bits less setuid/setgid/
    sticky and group/other write (the owner always may read and write); they belong to the
    calling user. Directories get their mode and mtime once the archive ended. Entries that
    cannot be written safely are not written; their names and the reasons are in
    :attr:`refused`.

    Directories are reached through descriptors opened one component at a time with
    ``O_NOFOLLOW`` and kept (up to :data:`_DIR_CACHE`), so a tree of many files costs about
    one ``open`` per file. A kept descriptor stays valid: no entry may replace a directory.
    """

    def __init__(self, destination: str, *, top: str | None = None) -> None:
        self.refused: list[str] = []
        # top: the name the archive's top entry gets under the destination (the archive's
        # own top name is replaced: ``cp -L`` names it after a link's target). None: the
        # archive holds the contents of a directory (``/``, ``dir/.``), written directly.
        self._top = top
        self._archive_top: str | None = None
        self._root = os.open(destination, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self._dirs: dict[str, int] = {}  # relative path -> open descriptor ("" is _root)
        self._fd = -1
        self._entry: TarEntry | None = None
        self._written: set[str] = set()
        self._directories: list[tuple[str, int, int]] = []

    # ------------------------------------------------------------------ sink

    def start(self, entry: TarEntry) -> None:
        self._entry = entry
        try:
            name = self._rebase(entry.name)
            if not name:
                if entry.kind == DIRECTORY:
                    return  # "./": the destination itself
                raise _Refused("empty name")
            if entry.kind == OTHER:
                return  # devices and FIFOs are not copied
            if entry.kind == SYMLINK:
                _safe_link_target(name, entry.linkname)
            parent_path, _, base = name.rpartition("/")
            parent = self._dir(parent_path, create=True)
            if entry.kind == DIRECTORY:
                self._directory(parent, base)
                self._directories.append((name, entry.mode, entry.mtime))
            elif entry.kind == FILE:
                try:
                    self._fd = os.open(base, _FILE_FLAGS, 0o600, dir_fd=parent)
                except FileExistsError:  # replaced, never written through
                    self._clear(parent, base)
                    self._fd = os.open(base, _FILE_FLAGS, 0o600, dir_fd=parent)
                self._written.add(name)
            elif entry.kind == SYMLINK:
                self._clear(parent, base)
                os.symlink(entry.linkname, base, dir_fd=parent)
            elif entry.kind == HARDLINK:
                target = self._rebase(entry.linkname)
                if target not in self._written:
                    raise _Refused(f"hard link to {entry.linkname!r}, not a file copied here")
                target_parent, _, target_base = target.rpartition("/")
                source = self._dir(target_parent)
                parent = self._dir(parent_path)  # the lookup above may have evicted it
                self._clear(parent, base)
                os.link(
                    target_base, base, src_dir_fd=source, dst_dir_fd=parent, follow_symlinks=False
                )
                self._written.add(name)
        except _Refused as why:
            self.refused.append(f"{entry.name}: {why}")
        except OSError as exc:
            self.refused.append(f"{entry.name}: {exc.strerror or exc}")

    def data(self, chunk: memoryview) -> None:
        fd = self._fd
        if fd < 0:
            return
        try:
            while chunk:
                written = os.write(fd, chunk)
                chunk = chunk[written:]
        except OSError:  # the host's disk is full...: the copy stops (a host error)
            self._close_file()
            raise

    def end(self) -> None:
        fd, entry = self._fd, self._entry
        if fd >= 0 and entry is not None:
            try:
                os.fchmod(fd, (entry.mode & 0o755) | 0o600)
                os.utime(fd, (entry.mtime, entry.mtime))
            finally:
                self._close_file()

    def close(self) -> None:
        """The archive ended: give directories their modes and mtimes (deepest first, so
        writing a child does not change its parent's mtime afterwards)."""
        try:
            for name, mode, mtime in reversed(self._directories):
                try:
                    fd = self._dir(name)
                except (_Refused, OSError):
                    continue
                os.fchmod(fd, (mode & 0o755) | 0o700)
                os.utime(fd, (mtime, mtime))
        finally:
            self.release()

    def release(self) -> None:
        """Close every descriptor (also after a failure)."""
        self._close_file()
        self._forget_dirs()
        if self._root >= 0:
            os.close(self._root)
            self._root = -1

    # ------------------------------------------------------------------ helpers

    def _rebase(self, name: str) -> str:
        """The entry's path under the destination (see ``top``), or raise :class:`_Refused`."""
        if self._top is None:
            return _safe_name(name.lstrip("/"))
        relative = _safe_name(name)
        first, _, rest = relative.partition("/")
        if not first:
            return ""
        if self._archive_top is None:
            self._archive_top = first
        elif first != self._archive_top:
            raise _Refused("outside the path copied")
        return f"{self._top}/{rest}" if rest else self._top

    def _close_file(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _forget_dirs(self) -> None:
        dirs, self._dirs = self._dirs, {}
        for fd in dirs.values():
            os.close(fd)

    def _dir(self, path: str, *, create: bool = False) -> int:
        """A descriptor of directory ``path`` (relative to the destination), opened from
        its parent's with ``O_NOFOLLOW`` (created when ``create``): a component that is a
        link or a file refuses the entry. Kept for the next entries."""
        if not path:
            return self._root
        fd = self._dirs.get(path)
        if fd is not None:
            return fd
        parent_path, _, part = path.rpartition("/")
        parent = self._dir(parent_path, create=create)
        try:
            try:
                fd = os.open(part, _DIR_FLAGS, dir_fd=parent)
            except FileNotFoundError:
                if not create:
                    raise
                os.mkdir(part, 0o700, dir_fd=parent)
                fd = os.open(part, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise _Refused(f"{part!r} on the way is not a directory") from None
            raise
        if len(self._dirs) >= _DIR_CACHE:
            # Evict all but this path's ancestors (the caller holds their descriptors).
            keep = {a for a in self._dirs if path.startswith(f"{a}/")}
            for cached in [c for c in self._dirs if c not in keep]:
                os.close(self._dirs.pop(cached))
        self._dirs[path] = fd
        return fd

    @staticmethod
    def _directory(parent: int, base: str) -> None:
        try:
            os.mkdir(base, 0o700, dir_fd=parent)
        except FileExistsError:
            info = os.stat(base, dir_fd=parent, follow_symlinks=False)
            if not stat.S_ISDIR(info.st_mode):
                raise _Refused("a file or link of that name is in the way") from None

    @staticmethod
    def _clear(parent: int, base: str) -> None:
        """Remove what holds ``base`` (a file or a link, never followed) before it is made
        anew; a directory stays and refuses the entry."""
        try:
            info = os.stat(base, dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            raise _Refused("a directory of that name is in the way")
        os.unlink(base, dir_fd=parent)
