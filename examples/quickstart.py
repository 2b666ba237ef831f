"""Quickstart: build an image from memory, run it detached, wait for its log line, exec,
clean up.

    python examples/quickstart.py [docker|podman] [BASE_IMAGE]

The runtime is the first argument when it is ``docker`` or ``podman``, else
$DOTFILES_CONTAINER_RUNTIME, else docker when it answers, else podman.

The base image is BASE_IMAGE (or $DCM_QUICKSTART_BASE) when given: any image with ``sh``,
``echo`` and ``sleep``. Otherwise it works on a fresh machine, online or not:

1. the small public image ``docker.io/library/busybox:1.36``, when it is here already or
   can be pulled (a pull gets 20 seconds: offline it fails fast);
2. else a base made in memory: ``FROM scratch`` plus this host's static busybox
   (``/bin/busybox`` from busybox-static), sent as the build context;
3. else one line saying what is missing and how to get it, and exit status 1.

Whatever it made (container, image, a pulled image) is removed at the end. Set DCM_DEBUG=1 to
see every CLI call the library makes.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngine,
    ContainerEngineFactory,
    ContainerError,
    RunConfig,
)
from dotfiles_container_manager.doctor import find_static_busybox

PUBLIC_BASE = "docker.io/library/busybox:1.36"
PULL_TIMEOUT = 20.0
APP = """\
COPY greet.sh /greet.sh
CMD ["/bin/sh", "/greet.sh"]
"""
# A root filesystem from one static binary: busybox installs its applets as links (a build
# context holds files, not links), and PATH is set because FROM scratch has none.
SCRATCH_BASE = """\
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin
"""


def choose_base(engine: ContainerEngine, given: str | None) -> tuple[str, dict[str, bytes], bool]:
    """The Dockerfile's base lines, the files they need, and whether we pulled an image.

    Raises:
        SystemExit: No base can be had; the message says what is missing.
    """
    if given:
        return f"FROM {given}\n", {}, False
    if engine.images.exists(PUBLIC_BASE):
        print(f"base: {PUBLIC_BASE} (present)")
        return f"FROM {PUBLIC_BASE}\n", {}, False
    try:
        engine.images.pull(PUBLIC_BASE, timeout=PULL_TIMEOUT)
        print(f"base: {PUBLIC_BASE} (pulled; removed at the end)")
        return f"FROM {PUBLIC_BASE}\n", {}, True
    except ContainerError as exc:  # offline, a proxy, a timeout...
        reason = exc.message
    busybox = find_static_busybox()
    if busybox is None:
        raise SystemExit(
            f"quickstart: no base image: {PUBLIC_BASE} cannot be pulled ({reason}) and this "
            "host has no static busybox: install busybox-static (`sudo apt-get install "
            "busybox-static`), or name a local image: python examples/quickstart.py "
            f"{engine.runtime.value} IMAGE"
        )
    print(f"base: FROM scratch + {busybox}, in memory ({PUBLIC_BASE} cannot be pulled)")
    with open(busybox, "rb") as handle:
        return SCRATCH_BASE, {"busybox": handle.read()}, False


def main() -> int:
    args = sys.argv[1:]
    runtime = args.pop(0) if args and args[0] in ("docker", "podman") else None
    given = args[0] if args else os.environ.get("DCM_QUICKSTART_BASE")
    if os.environ.get("DCM_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")

    try:
        # None: $DOTFILES_CONTAINER_RUNTIME, else the first of docker, podman that answers.
        engine = ContainerEngineFactory.create(runtime)
    except ContainerError as exc:  # its hint says what to do
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"runtime: {engine.runtime} {engine.version()} ({engine.command})")

    suffix = uuid.uuid4().hex[:8]
    image = f"dcm-quickstart-{suffix}:1"
    labels = {"dcm-quickstart": suffix}
    container_id: str | None = None
    built = pulled = False
    try:
        base, files, pulled = choose_base(engine, given)
        context = BuildContext(
            dockerfile=base + APP,
            files={**files, "greet.sh": 'echo "ready: $GREETING"\nexec sleep 300\n'},
            executable=[name for name in files if name == "busybox"],
            labels=labels,
        )
        image_id = engine.images.build(context, image)  # the tar is streamed from memory
        built = True
        print(f"built {image} -> {image_id[:19]}")

        container_id = engine.containers.run(
            RunConfig(
                image=image,
                name=f"dcm-quickstart-{suffix}",
                environment={"GREETING": "hello"},  # values never appear on argv
                labels=labels,
            )
        )
        info = engine.containers.inspect(container_id)
        print(f"running {info.name} ({info.short_id}), state={info.state}")

        # Blocks until the line is written (or was already): no sleeping and hoping.
        logs = engine.containers.wait_for_log(container_id, r"^ready:", timeout=20)
        print(f"logs: {logs!r}")

        result = engine.containers.exec(container_id, ["sh", "-c", 'echo "$GREETING" from exec'])
        print(f"exec: exit {result.exit_code}, stdout {result.stdout.strip()!r}")

        missing = engine.containers.exec(container_id, ["no-such-command"])
        print(f"exec of a missing command: exit {missing.exit_code}")  # 127 on both runtimes

        ok = "ready: hello" in logs and result.exit_code == 0 and missing.exit_code == 127
        print("quickstart ok" if ok else "quickstart FAILED")
        return 0 if ok else 1
    except ContainerError as exc:  # str(exc) ends with a hint when the fix is known
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        # Runs whatever happened above: nothing is left behind.
        if container_id is not None:
            engine.containers.remove(container_id, force=True)  # kills at once (podman: -t 0)
        if built:
            engine.images.remove(image)
        if pulled:
            engine.images.remove(PUBLIC_BASE)


if __name__ == "__main__":
    sys.exit(main())
