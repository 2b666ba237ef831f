"""Quickstart: build an image from memory, run it detached, wait for its log line, exec,
clean up.

    python examples/quickstart.py [docker|podman] [BASE_IMAGE]

The runtime is the first argument when it is ``docker`` or ``podman``, else
$DOTFILES_CONTAINER_RUNTIME, else docker when it answers, else podman. The base image must
already exist locally, because nothing is pulled: it is the next argument, else
$DCM_QUICKSTART_BASE, else ``dcm-test-base:latest``; it needs ``sh``, ``echo`` and
``sleep`` (busybox is enough). Set DCM_DEBUG=1 to see every CLI call the library makes.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngineFactory,
    ContainerError,
    RunConfig,
)

DEFAULT_BASE = "dcm-test-base:latest"
DOCKERFILE = """\
FROM {base}
COPY greet.sh /greet.sh
CMD ["/bin/sh", "/greet.sh"]
"""


def main() -> int:
    args = sys.argv[1:]
    runtime = args.pop(0) if args and args[0] in ("docker", "podman") else None
    base = args[0] if args else os.environ.get("DCM_QUICKSTART_BASE", DEFAULT_BASE)
    if os.environ.get("DCM_DEBUG"):
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")

    # None: $DOTFILES_CONTAINER_RUNTIME, else the first of docker, podman that answers.
    engine = ContainerEngineFactory.create(runtime)
    print(f"runtime: {engine.runtime} {engine.version()} ({engine.command})")

    suffix = uuid.uuid4().hex[:8]
    image = f"dcm-quickstart-{suffix}:1"
    labels = {"dcm-quickstart": suffix}
    context = BuildContext(
        dockerfile=DOCKERFILE.format(base=base),
        files={"greet.sh": 'echo "ready: $GREETING"\nexec sleep 300\n'},
        labels=labels,
    )

    container_id: str | None = None
    built = False
    try:
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
    except ContainerError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        # Runs whatever happened above: nothing is left behind.
        if container_id is not None:
            engine.containers.remove(container_id, force=True)  # kills at once (podman: -t 0)
        if built:
            engine.images.remove(image)


if __name__ == "__main__":
    sys.exit(main())
