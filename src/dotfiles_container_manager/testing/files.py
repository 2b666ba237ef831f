"""Files in and out of fake containers, their exports, one-shot runs, and image archives.

Mixed into :class:`~.containers.FakeContainerManager` and :class:`~.images.FakeImageManager`.

A fake container's filesystem holds what was put there (``put_files``, ``copy_to``) under a
busybox-like set of empty directories; the image's own files are not modelled (``get_file``
of ``/etc/passwd`` is a missing path). Nothing is written on the host but what
``copy_from``, ``export`` and ``images.save`` write, through the same safe extractor and the
same write-beside-then-rename as the real engines. ``images.save`` writes a docker-style
archive (``manifest.json`` and one config per image) that ``images.load`` of a fake reads
back with the same ids; ``images.import_`` makes an image from any host file, with
``changes`` applied to its config.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import posixpath
import shlex
import tarfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.exceptions import ContainerPathError, ImageError
from ..core.types import ExecResult, RunConfig
from ..implementations.cli.parsing import normalize_reference
from ..implementations.cli.tarread import DIRECTORY, FILE, SafeExtractor, TarEntry
from ..implementations.cli.tarstream import files_tar_chunks
from ..implementations.docker.files import replacing
from ._model import Image

if TYPE_CHECKING:
    from ._model import Container
    from ._store import Store

__all__ = ["FakeArchiveMixin", "FakeFilesMixin"]

#: The directories every fake container starts with (a busybox image's top level).
BASE_DIRECTORIES = (
    "/", "/bin", "/dev", "/etc", "/home", "/proc", "/root", "/run", "/sys", "/tmp", "/usr",  # noqa: S108
    "/var",
)  # fmt: skip
_MISSING = object()


def _norm(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/"))


class FakeFilesMixin:
    """The file, export and one-shot hooks of the fake container manager."""

    _s: Store

    if TYPE_CHECKING:

        def _make(self, config: RunConfig, argv: list[str]) -> Container: ...
        def _launch(self, c: Container, argv: Sequence[str]) -> None: ...
        def _wait_for(self, c: Container, timeout: float | None, argv: Sequence[str]) -> int: ...
        def _delete(self, c: Container, *, volumes: bool) -> None: ...

    # ------------------------------------------------------------------ filesystems

    def _fs(self, c: Container) -> dict[str, bytes | None]:
        """The container's files: absolute path -> bytes, or None for a directory."""
        filesystems: dict[str, dict[str, bytes | None]] = self.__dict__.setdefault("_fss", {})
        fs = filesystems.get(c.id)
        if fs is None:
            for gone in [cid for cid in filesystems if cid not in self._s.containers]:
                del filesystems[gone]
            fs = filesystems[c.id] = dict.fromkeys(BASE_DIRECTORIES)
        return fs

    def _path_error(
        self, message: str, path: str, argv: Sequence[str], *, podman: str | None = None
    ) -> ContainerPathError:
        s = self._s
        error = s.error(ContainerPathError, podman if s.podman and podman else message, argv)
        assert isinstance(error, ContainerPathError)  # noqa: S101
        error.path = path
        return error

    @staticmethod
    def _store(fs: dict[str, bytes | None], path: str, data: bytes | None) -> str | None:
        """Write ``path`` (parents made); the path on the way that is a file, if any."""
        parts = path.strip("/").split("/")
        for depth in range(1, len(parts)):
            parent = "/" + "/".join(parts[:depth])
            if fs.get(parent, _MISSING) is _MISSING:
                fs[parent] = None
            elif fs[parent] is not None:
                return parent
        if data is not None and fs.get(path, _MISSING) is None:
            return path  # a directory is in the way
        if data is None and isinstance(fs.get(path), bytes):
            return path
        fs[path] = data
        return None

    # ------------------------------------------------------------------ hooks

    def _put_files(
        self,
        container: str,
        directory: str,
        files: dict[str, bytes],
        executable: frozenset[str],
        timeout: float | None,
    ) -> None:
        s = self._s
        with s.lock:
            s.record(
                "containers",
                "put_files",
                {
                    "container": container,
                    "directory": directory,
                    "files": files,
                    "executable": executable,
                    "timeout": timeout,
                },
            )
            argv = ["cp", "-", f"{container}:{directory}"]
            fs = self._fs(s.container(container, argv))
            base = _norm(directory)
            if fs.get(base, _MISSING) is not None:
                raise self._path_error(
                    f'destination "{container}:{directory}" must be a directory',
                    directory,
                    argv,
                    podman="destination must be a directory when copying from stdin",
                )
            for name, data in files.items():
                blocked = self._store(fs, _norm(f"{base}/{name}"), data)
                if blocked is not None:
                    raise self._path_error(f"cannot overwrite {blocked}", directory, argv)

    def _get_file(self, container: str, path: str, timeout: float | None) -> bytes:
        s = self._s
        with s.lock:
            s.record("containers", "get_file", {"container": container, "path": path})
            argv = ["cp", f"{container}:{path}", "-"]
            data = self._fs(s.container(container, argv)).get(_norm(path), _MISSING)
            if data is _MISSING:
                raise self._missing(container, path, argv)
            if data is None:
                raise self._path_error(
                    f"{path!r} in container {container} is a directory", path, argv
                )
            assert isinstance(data, bytes)  # noqa: S101
            return data

    def _missing(self, container: str, path: str, argv: Sequence[str]) -> ContainerPathError:
        return self._path_error(
            f"Could not find the file {path} in container {container}",
            path,
            argv,
            podman=f'"{path}" could not be found on container {container}: no such file or '
            "directory",
        )

    def _copy_to(
        self, container: str, source: str, destination: str, timeout: float | None
    ) -> None:
        s = self._s
        with s.lock:
            s.record(
                "containers",
                "copy_to",
                {"container": container, "source": source, "destination": destination},
            )
            argv = ["cp", source, f"{container}:{destination}"]
            fs = self._fs(s.container(container, argv))
            dest = _norm(destination)
            if fs.get(dest, _MISSING) is None:  # an existing directory: goes inside
                dest = _norm(f"{dest}/{os.path.basename(source)}")
            elif fs.get(posixpath.dirname(dest), _MISSING) is not None:
                raise self._missing(container, posixpath.dirname(dest), argv)
            entries: list[tuple[str, bytes | None]] = []
            if os.path.isdir(source):
                entries.append((dest, None))
                for root, dirs, names in os.walk(source):
                    rel = os.path.relpath(root, source)
                    here = dest if rel == "." else _norm(f"{dest}/{rel}")
                    entries += [(f"{here}/{d}", None) for d in sorted(dirs)]
                    for name in sorted(names):
                        full = os.path.join(root, name)
                        if os.path.isfile(full):  # a link to a file: its content
                            with open(full, "rb") as handle:
                                entries.append((f"{here}/{name}", handle.read()))
            else:
                with open(source, "rb") as handle:
                    entries.append((dest, handle.read()))
            for path, data in entries:
                blocked = self._store(fs, path, data)
                if blocked is not None:
                    raise self._path_error(f"cannot overwrite {blocked}", destination, argv)

    def _copy_from(
        self, container: str, source: str, destination: str, timeout: float | None
    ) -> None:
        s = self._s
        with s.lock:
            s.record(
                "containers",
                "copy_from",
                {"container": container, "source": source, "destination": destination},
            )
            argv = ["cp", f"{container}:{source}", "-"]
            fs = self._fs(s.container(container, argv))
            top = _norm(source)
            if fs.get(top, _MISSING) is _MISSING:
                raise self._missing(container, source, argv)
            contents = source.endswith(("/.", "/./")) or top == "/"
            name = posixpath.basename(top)
            chosen = sorted(p for p in fs if p == top or p.startswith(top.rstrip("/") + "/"))
            entries = []
            for path in chosen:
                rel = posixpath.relpath(path, top)
                tar_name = (
                    (rel if rel != "." else ".")
                    if contents
                    else (name if rel == "." else f"{name}/{rel}")
                )
                entries.append((tar_name, fs[path]))
        # The same extractor as the real engines: nothing outside the destination.
        extractor = SafeExtractor(destination, top=None if contents else name)
        try:
            for tar_name, data in entries:
                kind = DIRECTORY if data is None else FILE
                mode = 0o755 if data is None else 0o644
                extractor.start(TarEntry(tar_name, kind, len(data or b""), mode, 0))
                if data:
                    extractor.data(memoryview(data))
                extractor.end()
            extractor.close()
        finally:
            extractor.release()

    def _export(self, container: str, destination: str, timeout: float | None) -> None:
        s = self._s
        with s.lock:
            s.record("containers", "export", {"container": container, "destination": destination})
            argv = ["export", "-o", destination, container]
            fs = self._fs(s.container(container, argv))
            files = {p.lstrip("/"): d for p, d in fs.items() if d is not None}
        with replacing(destination) as partial, open(partial, "wb") as handle:
            for chunk in files_tar_chunks(files):
                handle.write(chunk)

    def _run_once(
        self, config: RunConfig, timeout: float | None, input: bytes | None
    ) -> ExecResult:
        s = self._s
        with s.lock:
            s.record(
                "containers", "run_once", {"config": config, "timeout": timeout, "input": input}
            )
            argv = ["run", "--rm", config.image]
            c = self._make(config, argv)
            try:
                self._launch(c, argv)
                code = self._wait_for(c, timeout, ["wait", c.id])
                stdout = b"".join(data for _, stream, data in c.logs if stream == 1)
                stderr = b"".join(data for _, stream, data in c.logs if stream == 2)
                if input is not None and c.argv == ("cat",):
                    stdout = input  # `cat` reads its standard input
                return ExecResult(exit_code=code, stdout_bytes=stdout, stderr_bytes=stderr)
            finally:
                self._delete(c, volumes=True)


# --------------------------------------------------------------------------- images


def _config_with(config: dict[str, Any], changes: Sequence[str]) -> dict[str, Any]:
    """``config`` with the Dockerfile lines of ``import --change`` applied."""
    out = dict(config)
    for change in changes:
        word, _, rest = change.strip().partition(" ")
        word, rest = word.upper(), rest.strip()
        if word in ("CMD", "ENTRYPOINT"):
            try:
                value = json.loads(rest)
            except ValueError:
                value = ["/bin/sh", "-c", rest]
            out["Cmd" if word == "CMD" else "Entrypoint"] = value
        elif word == "ENV":
            key, sep, value = rest.partition("=")
            if not sep:
                key, _, value = rest.partition(" ")
            env = [e for e in out.get("Env") or [] if not e.startswith(f"{key.strip()}=")]
            out["Env"] = [*env, f"{key.strip()}={value.strip()}"]
        elif word == "LABEL":
            labels = dict(out.get("Labels") or {})
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                labels[key] = value
            out["Labels"] = labels
        elif word == "WORKDIR":
            out["WorkingDir"] = rest
        elif word == "USER":
            out["User"] = rest
        elif word == "VOLUME":
            out["Volumes"] = [*(out.get("Volumes") or ()), *rest.split()]
        # EXPOSE, ONBUILD: nothing the fake's records show
    return out


class FakeArchiveMixin:
    """The archive hooks of the fake image manager."""

    _s: Store

    def _save(self, images: tuple[str, ...], destination: str, timeout: float | None) -> None:
        s = self._s
        with s.lock:
            s.record("images", "save", {"images": images, "destination": destination})
            argv = ["save", "-o", destination, *images]
            manifest: dict[str, dict[str, Any]] = {}
            configs: dict[str, bytes] = {}
            for ref in images:
                image = s.image(ref, argv)
                entry = manifest.setdefault(
                    image.id, {"Config": f"{image.id.removeprefix('sha256:')}.json", "RepoTags": []}
                )
                tag = normalize_reference(ref)
                if s.tags.get(tag) is image and tag not in entry["RepoTags"]:
                    entry["RepoTags"].append(tag)
                configs[entry["Config"]] = json.dumps(
                    {"config": image.config, "created": image.created.isoformat()}
                ).encode()
        files = {"manifest.json": json.dumps(list(manifest.values())).encode(), **configs}
        with replacing(destination) as partial, open(partial, "wb") as handle:
            for chunk in files_tar_chunks(files):
                handle.write(chunk)

    def _load(self, source: str, timeout: float | None) -> builtins.list[str]:
        s = self._s
        argv = ["load", "-i", source]
        try:
            with tarfile.open(source) as archive:
                manifest = json.loads(_member(archive, "manifest.json"))
                configs = {e["Config"]: json.loads(_member(archive, e["Config"])) for e in manifest}
        except (OSError, ValueError, KeyError, TypeError, tarfile.TarError):
            with s.lock:
                s.record("images", "load", {"source": source})
                raise s.error(
                    ImageError, "payload does not match any of the supported image formats", argv
                ) from None
        from datetime import datetime

        loaded: list[str] = []
        with s.lock:
            s.record("images", "load", {"source": source})
            for entry in manifest:
                image_id = "sha256:" + entry["Config"].removesuffix(".json")
                data = configs[entry["Config"]]
                image = s.images.get(image_id)
                if image is None:
                    created = datetime.fromisoformat(data["created"])
                    image = Image(image_id, data["config"], created=created)
                    s.images[image_id] = image
                for tag in entry["RepoTags"]:
                    s.tag(image, tag)
                    loaded.append(tag)
                if not entry["RepoTags"]:
                    loaded.append(image_id)
        return loaded

    def _import(
        self, source: str, reference: str, changes: tuple[str, ...], timeout: float | None
    ) -> str:
        s = self._s
        digest = hashlib.sha256()
        with open(source, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update("\n".join(changes).encode())
        size = os.path.getsize(source)
        with s.lock:
            s.record(
                "images", "import_", {"source": source, "reference": reference, "changes": changes}
            )
            image_id = "sha256:" + digest.hexdigest()
            image = s.images.get(image_id)
            if image is None:
                config = _config_with(
                    {"Env": None, "Cmd": None, "Entrypoint": None, "WorkingDir": "", "User": ""},
                    changes,
                )
                image = Image(image_id, config, created=s.now(), size=size)
                s.images[image_id] = image
            s.tag(image, normalize_reference(reference))
            return image_id


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    handle = archive.extractfile(name)
    if handle is None:
        raise KeyError(name)
    with handle:
        return handle.read()
