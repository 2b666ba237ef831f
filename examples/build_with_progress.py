"""Build an image and show its progress as it happens: ``step 3/7 …`` lines, live.

    python examples/build_with_progress.py [docker|podman] [BASE_IMAGE]

The runtime is the first argument when it is ``docker`` or ``podman``, else
$DOTFILES_CONTAINER_RUNTIME, else docker when it answers, else podman. The base image must
exist locally (nothing is pulled): the next argument, else ``dcm-test-base:latest``; it
needs ``sh``, ``echo`` and ``sleep`` (busybox is enough).

``images.build(..., progress=callback)`` calls ``callback`` with a ``ProgressEvent`` for
every line of the build's output while the build runs, with the step the line belongs to
(``step``/``total_steps``, read from docker's ``Step 3/7 :``, podman's ``STEP 3/7:`` or
BuildKit's ``#5 [3/7]``). The image is removed at the end, also after Ctrl-C (which stops
the build: the library kills the CLI).
"""

from __future__ import annotations

import sys
import time
import uuid

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngineFactory,
    ContainerError,
    ImageBuildError,
    ProgressEvent,
)

DEFAULT_BASE = "dcm-test-base:latest"
# Seven instructions: seven steps on every builder.
DOCKERFILE = """\
FROM {base}
RUN echo "compiling..." && sleep 1
COPY app.sh /app.sh
RUN sh /app.sh
RUN echo "running tests..." && sleep 1 && echo "3 passed"
RUN echo {token} > /build-id
CMD ["/bin/sh", "/app.sh"]
"""
APP = 'echo "hello from app.sh"\n'
BAR = 20


class Progress:
    """Prints each step as it starts (with a bar and the time since the build began) and
    the output of the build's own commands under it."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.step: int | None = None

    def __call__(self, event: ProgressEvent) -> None:
        elapsed = time.monotonic() - self.started
        if event.step is not None and event.step != self.step:
            self.step = event.step
            total = event.total_steps or event.step
            done = BAR * event.step // max(total, 1)
            bar = "#" * done + "." * (BAR - done)
            # The step line itself: "Step 3/7 : RUN ..." / "STEP 3/7: RUN ..." -> "RUN ..."
            what = event.line.split(":", 1)[1].strip() if ":" in event.line else event.line
            print(f"step {event.step}/{event.total_steps or '?'} [{bar}] {elapsed:5.1f}s  {what}")
        elif event.line.strip():
            print(f"{'':>8}| {event.line}")
        sys.stdout.flush()


def main() -> int:
    args = sys.argv[1:]
    runtime = args.pop(0) if args and args[0] in ("docker", "podman") else None
    base = args[0] if args else DEFAULT_BASE

    engine = ContainerEngineFactory.create(runtime)
    print(f"runtime: {engine.runtime} {engine.version()}")
    token = uuid.uuid4().hex[:8]
    image = f"dcm-progress-example-{token}:1"
    context = BuildContext(
        DOCKERFILE.format(base=base, token=token), files={"app.sh": APP}, no_cache=True
    )
    progress = Progress()
    try:
        image_id = engine.images.build(context, image, progress=progress)
        print(f"built {image} ({image_id[:19]}) in {time.monotonic() - progress.started:.1f} s")
        return 0
    except ImageBuildError as exc:
        print(f"build failed (exit code {exc.exit_code}); its whole log is in exc.output")
        return 1
    except KeyboardInterrupt:
        print("interrupted: the build was stopped")
        return 130
    finally:
        try:
            if engine.images.exists(image):
                engine.images.remove(image)
                print(f"removed {image}")
        except ContainerError as exc:
            print(f"could not remove {image}: {exc}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
