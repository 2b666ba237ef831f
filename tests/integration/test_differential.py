"""The fake engine against the real ones: one scenario, every observable outcome equal.

A scenario of about fifty calls (volumes, networks, containers through their whole life,
conflicts, missing resources, filtered lists, prunes) runs on a real runtime and on a
``FakeEngine`` of the same runtime seeded with the same base image. Each call's outcome is
written down the same way on both (the exception type, or the deterministic fields of what
came back: names, labels, states, exit codes, networks, published ports, ids mapped to the
scenario's own names) and the two transcripts must be identical.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dotfiles_container_manager import (
    ContainerEngine,
    ContainerError,
    ContainerInfo,
    NetworkInfo,
    PortMapping,
    RunConfig,
    VolumeInfo,
    VolumeMount,
)
from dotfiles_container_manager.testing import FakeEngine

from .conftest import BASE_IMAGE, LABEL, RUN_ID, get_engine


class Transcript:
    """The outcomes of one run of the scenario, ids replaced by the scenario's names."""

    def __init__(self, engine: ContainerEngine) -> None:
        self.engine = engine
        self.lines: list[tuple[str, Any]] = []
        self.aliases: dict[str, str] = {}

    def alias(self, value: str) -> str:
        return self.aliases.get(value, value)

    def show(self, value: Any) -> Any:
        """The deterministic part of a result."""
        if isinstance(value, ContainerInfo):
            return (
                value.name,
                value.image,
                value.state.value,
                sorted(value.labels.items()),
                value.exit_code,
                value.networks,
                tuple(
                    (p.container_port, p.protocol, p.host_ip, p.host_port is not None)
                    for p in value.ports
                ),
                self.alias(value.id),
            )
        if isinstance(value, VolumeInfo):
            return (value.name, value.driver, sorted(value.labels.items()), value.mountpoint[-6:])
        if isinstance(value, NetworkInfo):
            labels = sorted(value.labels.items())
            return (value.name, value.driver, labels, value.internal, len(value.id))
        if isinstance(value, list):
            return sorted(repr(self.show(item)) for item in value)
        if isinstance(value, str):
            return self.alias(value)
        if hasattr(value, "exit_code") and hasattr(value, "stdout"):  # ExecResult
            return ("exec", value.exit_code, value.stdout)
        return value

    def __call__(self, label: str, call: Callable[[], Any], *, alias: str | None = None) -> Any:
        try:
            value = call()
        except ContainerError as exc:
            self.lines.append((label, f"raises {type(exc).__name__}"))
            return None
        if alias is not None:
            self.aliases[value] = alias
        self.lines.append((label, self.show(value)))
        return value


def scenario(engine: ContainerEngine, prefix: str) -> list[tuple[str, Any]]:
    """The calls, in order; returns the transcript."""
    t = Transcript(engine)
    c, v, n = engine.containers, engine.volumes, engine.networks
    labels = {LABEL: RUN_ID, "dcm-diff": prefix}
    mine = {"label": f"dcm-diff={prefix}"}
    vol, net, web = f"{prefix}-v1", f"{prefix}-n1", f"{prefix}-web"

    def config(name: str | None = None, command: list[str] | None = None, **kw: Any) -> RunConfig:
        return RunConfig(
            BASE_IMAGE,
            name=name,
            command=command or ["sleep", "300"],
            labels={**labels, **kw.pop("labels", {})},
            **kw,
        )

    web_config = config(
        web,
        network=net,
        volumes=[VolumeMount(vol, "/data")],
        ports=[PortMapping(80, host_ip="127.0.0.1")],
        labels={"role": "web"},
    )
    # volumes and networks
    t("volume create", lambda: v.create(vol, labels=labels))
    t("volume create again", lambda: v.create(vol, labels=labels))
    t("volume create exist_ok", lambda: v.create(vol, labels=labels, exist_ok=True))
    t("volume inspect", lambda: v.inspect(vol))
    t("network create", lambda: len(n.create(net, labels=labels)))
    t("network create again", lambda: n.create(net, labels=labels))
    t("network inspect", lambda: n.inspect(net))
    # a container through its life
    t("create", lambda: c.create(web_config), alias="web")
    t("inspect created", lambda: c.inspect(web))
    t("create same name", lambda: c.create(web_config))
    t("start", lambda: c.start(web))
    t("inspect running", lambda: c.inspect(web))
    t("start running", lambda: c.start(web))
    t("pause", lambda: c.pause(web))
    t("pause paused", lambda: c.pause(web))
    t("list paused", lambda: c.list(filters=mine))
    t("exec paused", lambda: c.exec(web, ["true"]))
    t("unpause", lambda: c.unpause(web))
    t("unpause running", lambda: c.unpause(web))
    t("exec true", lambda: c.exec(web, ["true"]))
    t("exec missing binary", lambda: c.exec(web, ["dcm-no-such-binary"]).exit_code)
    t("remove running", lambda: c.remove(web))
    t("volume remove in use", lambda: v.remove(vol))
    t("network remove in use", lambda: n.remove(net))
    t("connect twice", lambda: n.connect(net, web))
    t("stop", lambda: c.stop(web, timeout=0))
    t("inspect stopped", lambda: c.inspect(web))
    t("exec stopped", lambda: c.exec(web, ["true"]))
    t("kill stopped", lambda: c.kill(web))
    t("pause stopped", lambda: c.pause(web))
    t("list running only", lambda: c.list(filters=mine))
    t(
        "list exited web",
        lambda: c.list(
            all=True, filters={**mine, "label": [*mine.values(), "role=web"], "status": "exited"}
        ),
    )
    t("restart", lambda: c.restart(web, timeout=0))
    t("inspect restarted", lambda: c.inspect(web))
    # short-lived containers
    t("run true", lambda: c.run(config(f"{prefix}-ok", ["true"])), alias="ok")
    t("wait true", lambda: c.wait(f"{prefix}-ok"))
    t("run exit 3", lambda: c.run(config(f"{prefix}-three", ["sh", "-c", "exit 3"])), alias="three")
    t("wait exit 3", lambda: c.wait(f"{prefix}-three"))
    t("inspect exit 3", lambda: c.inspect(f"{prefix}-three"))
    t("list stopped", lambda: c.list(all=True, filters={**mine, "status": ["exited", "created"]}))
    t("list by name", lambda: c.list(filters={"name": web}))
    t("list everything mine", lambda: c.list(all=True, filters=mine))
    t("prune", lambda: sorted(t.alias(i) for i in c.prune(filters=mine)))
    t("exists pruned", lambda: c.exists(f"{prefix}-ok"))
    # networks of a running container
    t("disconnect", lambda: n.disconnect(net, web))
    t("networks after disconnect", lambda: c.inspect(web).networks)
    t("disconnect again", lambda: n.disconnect(net, web))
    t("connect", lambda: n.connect(net, web))
    t("networks after connect", lambda: c.inspect(web).networks)
    t("kill", lambda: c.kill(web))
    t("wait killed", lambda: c.wait(web))
    t("remove", lambda: c.remove(web))
    # everything is gone
    t("remove again", lambda: c.remove(web))
    t("remove again forced", lambda: c.remove(web, force=True))
    t("inspect removed", lambda: c.inspect(web))
    t("start removed", lambda: c.start(web))
    t("exec removed", lambda: c.exec(web, ["true"]))
    t("wait removed", lambda: c.wait(web))
    t("network remove", lambda: n.remove(net))
    t("network remove again", lambda: n.remove(net))
    t("network inspect removed", lambda: n.inspect(net))
    t("connect removed network", lambda: n.connect(net, f"{prefix}-missing"))
    t("volume remove", lambda: v.remove(vol))
    t("volume remove again", lambda: v.remove(vol))
    t("volume remove again forced", lambda: v.remove(vol, force=True))
    # prunes
    t("volume create v2", lambda: v.create(f"{prefix}-v2", labels=labels))
    t("network create n2", lambda: len(n.create(f"{prefix}-n2", labels=labels)))
    t("volume list", lambda: v.list(filters=mine))
    t("network list", lambda: n.list(filters=mine))
    t("volume prune", lambda: v.prune(filters=mine))
    t("network prune", lambda: n.prune(filters=mine))
    t("volume exists pruned", lambda: v.exists(f"{prefix}-v2"))
    t("network exists pruned", lambda: n.exists(f"{prefix}-n2"))
    return t.lines


def _clean(engine: ContainerEngine, prefix: str) -> None:
    mine = {"label": f"dcm-diff={prefix}"}
    for container in engine.containers.list(all=True, filters=mine):
        engine.containers.remove(container.id, force=True, volumes=True)
    for network in engine.networks.list(filters=mine):
        engine.networks.remove(network.id)
    for volume in engine.volumes.list(filters=mine):
        engine.volumes.remove(volume.name, force=True)


@pytest.fixture(params=("docker", "podman"))
def real(request: pytest.FixtureRequest) -> Iterator[ContainerEngine]:
    """A real runtime (skipped, or failed under CI, when it does not answer)."""
    yield get_engine(str(request.param))


def test_fake_and_real_engine_give_the_same_outcomes(real: ContainerEngine) -> None:
    prefix = f"dcm-t-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    try:
        expected = scenario(real, prefix)
    finally:
        _clean(real, prefix)
    fake = FakeEngine(real.runtime, images=[BASE_IMAGE])
    got = scenario(fake, prefix)
    assert len(got) >= 40
    assert len(fake.calls) >= len(got)
    differences = [
        f"{label}: {real.runtime.value} {want!r}, fake {have!r}"
        for (label, want), (_, have) in zip(expected, got, strict=True)
        if want != have
    ]
    assert differences == [], "\n".join(differences)
    assert got == expected
