"""A tour of the public contract, written as a new user would: only the package's root API.

Builds an image from an in-memory Dockerfile, runs it with a published port and reaches it
over HTTP, execs, reads logs, uses a named volume and a read-only bind mount, connects a
network, and checks the specific NotFound errors. Everything is removed at the end.

    python examples/contract_tour.py [docker|podman] [base-image]

The base image must exist locally (no registry is needed); it needs busybox's sh and httpd.
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngineFactory,
    ContainerNotFoundError,
    ImageNotFoundError,
    NetworkNotFoundError,
    PortMapping,
    RunConfig,
    VolumeMount,
    VolumeNotFoundError,
)


def fetch(url: str, attempts: int = 50) -> str:
    """GET ``url``, retrying while the server starts."""
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                return str(response.read().decode())
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def main() -> int:
    runtime = sys.argv[1] if len(sys.argv) > 1 else None
    base = sys.argv[2] if len(sys.argv) > 2 else "dcm-test-base:latest"
    engine = ContainerEngineFactory.create(runtime)
    print(f"{engine.runtime.value} {engine.version()}")
    tag = uuid.uuid4().hex[:8]
    image = f"tour-web-{tag}:1"
    volume = f"tour-data-{tag}"
    network = f"tour-net-{tag}"
    containers: list[str] = []

    context = BuildContext(
        dockerfile=(
            f"FROM {base}\n"
            "COPY site/ /www/\n"  # a comment keeps this layout under ruff format
            'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n'
        ),
        files={"site/index.html": "<h1>hello from the tour</h1>\n"},
        labels={"tour": tag},
    )
    image_id = engine.images.build(context, image)
    try:
        assert image_id == engine.images.inspect(image).id
        engine.volumes.create(volume, labels={"tour": tag})
        net_id = engine.networks.create(network, labels={"tour": tag})
        with tempfile.TemporaryDirectory() as host_dir:
            Path(host_dir, "config.txt").write_text("read-only config\n")
            web = engine.containers.run(
                RunConfig(
                    image=image,
                    name=f"tour-web-{tag}",
                    ports=[PortMapping(8080, host_ip="127.0.0.1")],
                    volumes=[
                        VolumeMount(volume, "/data"),
                        VolumeMount(host_dir, "/config", read_only=True),
                    ],
                    environment={"GREETING": "hi"},
                    labels={"tour": tag},
                )
            )
            containers.append(web)
            port = engine.containers.inspect(web).host_port(8080)
            assert port is not None
            page = fetch(f"http://127.0.0.1:{port}/index.html")
            assert "hello from the tour" in page, page

            result = engine.containers.exec(
                web, ["sh", "-c", "echo $GREETING > /data/out; cat /config/config.txt"]
            )
            assert result.exit_code == 0 and result.stdout == "read-only config\n", result
            denied = engine.containers.exec(web, ["sh", "-c", "echo x > /config/new"])
            assert denied.exit_code != 0, "bind mount should be read-only"

            engine.networks.connect(network, web)
            assert network in engine.containers.inspect(web).networks
            assert net_id == engine.networks.inspect(network).id

            job = engine.containers.run(
                RunConfig(
                    image=image,
                    command=["sh", "-c", "cat /data/out; echo to-stderr >&2; exit 3"],
                    volumes=[VolumeMount(volume, "/data", read_only=True)],
                    labels={"tour": tag},
                )
            )
            containers.append(job)
            assert engine.containers.wait(job) == 3
            logs = engine.containers.logs(job)
            assert "hi" in logs and "to-stderr" in logs, logs
            engine.networks.disconnect(network, web)

        for call, error in [
            (lambda: engine.containers.inspect("tour-missing"), ContainerNotFoundError),
            (lambda: engine.images.inspect("tour-missing:1"), ImageNotFoundError),
            (lambda: engine.volumes.inspect("tour-missing"), VolumeNotFoundError),
            (lambda: engine.networks.inspect("tour-missing"), NetworkNotFoundError),
        ]:
            try:
                call()
            except error:
                pass
            else:
                raise AssertionError(f"expected {error.__name__}")
        print("tour ok")
        return 0
    finally:
        for container in containers:
            engine.containers.remove(container, force=True)
        if engine.networks.exists(network):
            engine.networks.remove(network)
        engine.volumes.remove(volume, force=True)
        engine.images.remove(image, force=True)


if __name__ == "__main__":
    sys.exit(main())
