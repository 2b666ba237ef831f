"""A dotfiles "devenv": a development image from an in-memory Dockerfile, the user's dotfiles
put in, and a named volume that keeps the home directory between containers.

    python examples/devenv.py [docker|podman] [BASE_IMAGE]

The runtime is the first argument when it is ``docker`` or ``podman``, else
$DOTFILES_CONTAINER_RUNTIME, else docker when it answers, else podman. The base image must
exist locally (nothing is pulled): the next argument, else ``dcm-test-base:latest``; it needs
``sh``, ``cat`` and ``sleep`` (busybox is enough).

What it shows: ``images.build`` from memory, ``volumes.create``, ``RunConfig`` with a
``VolumeMount``, ``containers.put_files`` (no file is written on the host), ``get_file`` and
``exec`` to read them back, and a second container that sees what the first left in the
home volume. Everything it made is removed at the end, whatever happens.
"""

from __future__ import annotations

import sys
import uuid

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngineFactory,
    ContainerError,
    RunConfig,
    VolumeMount,
)

DEFAULT_BASE = "dcm-test-base:latest"
DOCKERFILE = """\
FROM {base}
ENV HOME=/home/dev
WORKDIR /home/dev
LABEL org.example.devenv=1
CMD ["sleep", "300"]
"""
# The user's dotfiles, as a dotfiles module would render them: in memory.
DOTFILES = {
    ".profile": 'export EDITOR=vi\nalias ll="ls -l"\n',
    ".config/git/config": "[user]\n\tname = Dev\n\temail = dev@example.invalid\n",
    "bin/hello": '#!/bin/sh\necho "hello from the devenv"\n',
}


def main() -> int:
    args = sys.argv[1:]
    runtime = args.pop(0) if args and args[0] in ("docker", "podman") else None
    base = args[0] if args else DEFAULT_BASE
    engine = ContainerEngineFactory.create(runtime)
    suffix = uuid.uuid4().hex[:8]
    image, home = f"dcm-devenv-{suffix}:1", f"dcm-devenv-home-{suffix}"
    labels = {"dcm-example": suffix}
    made: list[str] = []
    try:
        engine.images.build(BuildContext(DOCKERFILE.format(base=base), labels=labels), image)
        made.append("image")
        print(f"built {image} ")
        engine.volumes.create(home, labels=labels)
        made.append("volume")
        config = RunConfig(
            image, labels=labels, volumes=[VolumeMount(home, "/home/dev")], remove=False
        )
        with engine.containers.running(config) as first:
            engine.containers.put_files(first, "/home/dev", DOTFILES, executable=["bin/hello"])
            profile = engine.containers.get_file(first, "/home/dev/.profile").decode()
            hello = engine.containers.exec(first, ["sh", "-c", "$HOME/bin/hello"])
            print(f"profile: {profile.splitlines()[0]!r}; bin/hello says {hello.stdout.strip()!r}")
        # A new container on the same home volume finds the dotfiles there.
        with engine.containers.running(config) as second:
            found = engine.containers.exec(second, ["cat", "/home/dev/.config/git/config"])
        ok = "name = Dev" in found.stdout and hello.stdout.strip() == "hello from the devenv"
        print("devenv ok" if ok else "devenv FAILED")
        return 0 if ok else 1
    except ContainerError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        if "volume" in made:
            engine.volumes.remove(home, force=True)
        if "image" in made:
            engine.images.remove(image)


if __name__ == "__main__":
    sys.exit(main())
