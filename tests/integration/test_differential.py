"""The fake engine against the real ones: one scenario, every observable outcome equal.

A scenario of 73 calls (volumes, networks, containers through their whole life,
conflicts, missing resources, filtered lists, prunes) runs on a real runtime and on a
``FakeEngine`` of the same runtime seeded with the same base image. Each call's outcome is
written down the same way on both (the exception type, or the deterministic fields of what
came back: names, labels, states, exit codes, networks, published ports, ids mapped to the
scenario's own names) and the two transcripts must be identical.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerEngine,
    ContainerError,
    ContainerInfo,
    ContainerNotFoundError,
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

    def alias_of(self, name: str) -> str:
        """The id given the scenario's name ``name``."""
        return next(key for key, value in self.aliases.items() if value == name)

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

    def attempt(self, label: str, call: Callable[[], Any]) -> Any:
        """``call()``; a real prune is tried again when another process got in its way."""
        for tries in range(5):
            try:
                return call()
            except ContainerError as exc:
                # Other sessions share these daemons: docker refuses a prune while another
                # runs ("a prune operation is already running"); podman's fails when a
                # container it inspects is removed meanwhile ("no such container").
                transient = "already running" in str(exc) or isinstance(exc, ContainerNotFoundError)
                if "prune" not in label or isinstance(self.engine, FakeEngine) or not transient:
                    raise
                if tries == 4:
                    raise
                time.sleep(0.5)
        raise AssertionError("unreachable")

    def __call__(self, label: str, call: Callable[[], Any], *, alias: str | None = None) -> Any:
        try:
            value = self.attempt(label, call)
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


DOCKERFILE = """ARG BASE=dcm-test-base:latest
FROM $BASE AS first
ARG V=1
ENV A=1 B="two words" \\
    C=$V
LABEL l1=one "l 2"="two" l3=${V}x
LABEL old value here
WORKDIR /app
WORKDIR sub
USER 1000:1000
EXPOSE 80 443/udp 8000-8001
ENTRYPOINT ["/bin/sh", "-c"]
CMD echo hi $A
STOPSIGNAL SIGINT
VOLUME /data
SHELL ["/bin/ash", "-c"]
CMD echo shell
"""
CONFIG_KEYS = ("Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "StopSignal", "Volumes")


def config_of(engine: ContainerEngine, image: str) -> dict[str, Any]:
    """What a build put in the image's config (PATH left out: the base images differ)."""
    config = engine.images.inspect(image).raw.get("Config") or {}
    shown = {key: config.get(key) or None for key in CONFIG_KEYS}
    shown["Env"] = [e for e in config.get("Env") or [] if not e.startswith("PATH=")]
    shown["Labels"] = sorted((config.get("Labels") or {}).items())
    return shown


def edges(engine: ContainerEngine, prefix: str) -> list[tuple[str, Any]]:
    """Where docker and podman differ, and the builtin commands, builds and image rules."""
    t = Transcript(engine)
    c, i, v, n = engine.containers, engine.images, engine.volumes, engine.networks
    labels = {LABEL: RUN_ID, "dcm-diff": prefix}
    mine = {"label": f"dcm-diff={prefix}"}
    web, img = f"{prefix}-web", f"{prefix}-img"

    def config(name: str | None = None, command: list[str] | None = None, **kw: Any) -> RunConfig:
        kw.setdefault("image", BASE_IMAGE)
        command = ["sleep", "300"] if command is None else command
        return RunConfig(name=name, command=command, labels=labels, **kw)

    # a paused container: the runtimes differ
    t("run", lambda: c.run(config(web, ports=[PortMapping(80)])), alias="web")
    t("pause", lambda: c.pause(web))
    t("start paused", lambda: c.start(web))
    t("restart paused", lambda: c.restart(web, timeout=0))
    t("after restart", lambda: c.inspect(web))
    t("pause again", lambda: c.pause(web))
    t("stop paused", lambda: c.stop(web, timeout=0))
    t("after stop", lambda: c.inspect(web))
    t("kill", lambda: c.kill(web))
    t("after kill", lambda: c.inspect(web))
    t("remove paused", lambda: c.remove(web))
    t("remove forced", lambda: c.remove(web, force=True))
    # signals: sleep as PID 1 has no handler
    t("run sleeper", lambda: c.run(config(web)), alias="web2")
    t("kill TERM", lambda: c.kill(web, "SIGTERM"))
    t("kill HUP", lambda: c.kill(web, "HUP"))
    t("kill bogus", lambda: c.kill(web, "SIGBOGUS"))
    t("after signals", lambda: c.inspect(web).state.value)
    # builtin commands
    t("exec exit 5", lambda: c.exec(web, ["sh", "-c", "exit 5"]))
    t("exec echo", lambda: c.exec(web, ["echo", "a", "b"]))
    t("exec echo -n", lambda: c.exec(web, ["echo", "-n", "a"]))
    t("exec cat", lambda: c.exec(web, ["cat"], input=b"piped"))
    t("exec pwd", lambda: c.exec(web, ["pwd"], working_dir="/tmp"))
    t("exec hostname", lambda: c.exec(web, ["hostname"]).stdout == f"{t.alias_of('web2')[:12]}\n")
    t("exec printenv", lambda: c.exec(web, ["printenv", "FOO"], environment={"FOO": "bar"}))
    t("exec false", lambda: c.exec(web, ["false"]))
    t("exec sleep", lambda: c.exec(web, ["sleep", "0"]))
    t("exec missing path", lambda: c.exec(web, ["/no/such/binary"]).exit_code)
    t("wait timeout", lambda: c.wait(web, timeout=1))
    t("remove sleeper", lambda: c.remove(web, force=True))
    t("run echo", lambda: c.run(config(f"{prefix}-echo", ["echo", "hello", "world"])), alias="echo")
    t("wait echo", lambda: c.wait(f"{prefix}-echo"))
    t("logs echo", lambda: c.logs(f"{prefix}-echo"))
    t("logs tail 0", lambda: c.logs(f"{prefix}-echo", tail=0))
    t("logs stderr only", lambda: c.logs(f"{prefix}-echo", stdout=False))
    t("logs bad since", lambda: c.logs(f"{prefix}-echo", since="yesterday"))
    t("created", lambda: c.create(config(f"{prefix}-new")), alias="new")
    t("wait created", lambda: c.wait(f"{prefix}-new"))
    # lists: docker's status filter shows stopped ones too; podman's name has no '/'
    t("list exited without all", lambda: c.list(filters={**mine, "status": "exited"}))
    t("list /name", lambda: c.list(all=True, filters={"name": f"^/{prefix}-echo$"}))
    t("list bad status", lambda: c.list(filters={"status": "sleepy"}))
    t("list bad key", lambda: c.list(filters={"bogus": "1"}))
    t("list exited=0", lambda: c.list(all=True, filters={**mine, "exited": "0"}))
    t("prune", lambda: sorted(t.alias(x) for x in c.prune(filters=mine)))
    # creation failures
    t(
        "missing network",
        lambda: c.create(config(f"{prefix}-nonet", network=f"{prefix}-nope")),
        alias="nonet",
    )
    t("start missing network", lambda: c.start(f"{prefix}-nonet"))
    t("missing network state", lambda: c.inspect(f"{prefix}-nonet"))
    t("remove missing network", lambda: c.remove(f"{prefix}-nonet", force=True))
    t("no command", lambda: c.create(config(f"{prefix}-nocmd", entrypoint=[], command=[])))
    t("image's command", lambda: c.create(config(f"{prefix}-cmd", command=[])), alias="cmd")
    t("image's command used", lambda: c.inspect(f"{prefix}-cmd").raw["Config"]["Cmd"])
    t(
        "entrypoint words",
        lambda: c.create(config(f"{prefix}-ep", entrypoint=["echo", "x"])),
        alias="ep",
    )
    t("entrypoint split", lambda: c.inspect(f"{prefix}-ep").raw["Config"]["Cmd"])
    t("missing image", lambda: c.run(config(image="dcm-missing-image:1")))
    # builds
    context = BuildContext(DOCKERFILE, labels=labels, build_args={"V": "9"})
    t("build", lambda: i.build(context, f"{img}:1"), alias="img1")
    t("build config", lambda: config_of(engine, f"{img}:1"))
    t("build tags", lambda: i.inspect(f"{img}:1").tags)
    t("build again", lambda: i.build(context, f"{img}:1"))
    child = BuildContext(f'FROM {img}:1\nENTRYPOINT ["x"]\n', labels=labels)
    t("build entrypoint only", lambda: i.build(child, f"{img}:2"), alias="img2")
    t("entrypoint resets cmd", lambda: config_of(engine, f"{img}:2"))
    scratch = BuildContext("FROM scratch\nLABEL s=1\n", labels=labels)
    t("build scratch", lambda: i.build(scratch, f"{img}:3"), alias="img3")
    t("scratch config", lambda: config_of(engine, f"{img}:3"))
    for label, dockerfile, target in (
        ("unknown instruction", f"FROM {BASE_IMAGE}\nFOO bar\n", None),
        ("copy missing", f"FROM {BASE_IMAGE}\nCOPY nothere /x\n", None),
        ("no from", "LABEL a=b\n", None),
        ("empty", "# nothing\n", None),
        ("bad target", f"FROM {BASE_IMAGE} AS a\n", "zz"),
        ("missing base", "FROM dcm-missing-base:1\n", None),
    ):
        bad = BuildContext(dockerfile, labels=labels, target=target)
        t(f"build {label}", lambda bad=bad: i.build(bad, f"{img}:bad"))
    # tags and the removal rules
    t("tag", lambda: i.tag(f"{img}:3", f"{img}:alias"))
    t("tag moves", lambda: i.tag(f"{img}:2", f"{img}:alias"))
    t("tags 2", lambda: i.inspect(f"{img}:2").tags)
    t("tags 3", lambda: i.inspect(f"{img}:3").tags)
    t("tag more", lambda: i.tag(f"{img}:3", f"{img}:other"))
    t("remove id of several tags", lambda: i.remove(i.inspect(f"{img}:3").id))
    t("user", lambda: c.create(config(f"{prefix}-user", image=f"{img}:3")), alias="user")
    t("remove one of two tags", lambda: i.remove(f"{img}:other"))
    t("remove last tag in use", lambda: i.remove(f"{img}:3"))
    t("remove id in use", lambda: i.remove(i.inspect(f"{img}:3").id))
    t("remove id in use forced", lambda: i.remove(i.inspect(f"{img}:3").id, force=True))
    t("remove id with child", lambda: i.remove(i.inspect(f"{img}:1").id))
    t("list reference", lambda: sorted(x.tags for x in i.list(filters={"reference": img})))
    t(
        "list reference glob",
        lambda: sorted(x.tags for x in i.list(filters={"reference": f"{prefix}-i*"})),
    )
    t("list bad key", lambda: i.list(filters={"bogus": "1"}))
    t("remove user", lambda: c.remove(f"{prefix}-user"))
    t("remove 3", lambda: i.remove(f"{img}:3"))
    t("exists 3", lambda: i.exists(f"{img}:3"))
    t("remove missing forced", lambda: i.remove(f"{img}:nope", force=True))
    t("remove 2", lambda: i.remove(f"{img}:2"))
    t("remove alias", lambda: i.remove(f"{img}:alias"))
    t("remove 1", lambda: i.remove(f"{img}:1"))
    # volumes and networks
    t("volume driver", lambda: v.create(f"{prefix}-vd", driver="nope", labels=labels))
    opts = {"type": "tmpfs", "device": "tmpfs"}
    t("volume options", lambda: v.create(f"{prefix}-vo", options=opts, labels=labels))
    t("volume list regex", lambda: v.list(filters={"name": f"^{prefix}-v.$"}))
    t("volume list bad key", lambda: v.list(filters={"bogus": "1"}))
    t("volume prune options", lambda: v.prune(filters=mine))
    t("volume remove options", lambda: v.remove(f"{prefix}-vo", force=True))
    t(
        "network subnet",
        lambda: len(n.create(f"{prefix}-n1", labels=labels, subnet="10.213.9.0/24")),
    )
    t("network overlap", lambda: n.create(f"{prefix}-n2", labels=labels, subnet="10.213.9.0/25"))
    t("network bad subnet", lambda: n.create(f"{prefix}-n2", labels=labels, subnet="nonsense"))
    t("network driver", lambda: n.create(f"{prefix}-n2", labels=labels, driver="nope"))
    t("network internal", lambda: n.inspect(n.create(f"{prefix}-n3", labels=labels, internal=True)))
    t("network list type", lambda: n.list(filters={**mine, "type": "custom"}))
    t("network list dangling", lambda: n.list(filters={**mine, "dangling": "true"}))
    t("network prune", lambda: sorted(n.prune(filters=mine)))
    return t.lines


def _clean(engine: ContainerEngine, prefix: str) -> None:
    mine = {"label": f"dcm-diff={prefix}"}
    for container in engine.containers.list(all=True, filters=mine):
        engine.containers.remove(container.id, force=True, volumes=True)
    for network in engine.networks.list(filters=mine):
        engine.networks.remove(network.id)
    for volume in engine.volumes.list(filters=mine):
        engine.volumes.remove(volume.name, force=True)
    for _ in range(3):  # children first: a parent goes once its child has gone
        for image in engine.images.list(all=True, filters=mine):
            for tag in image.tags:
                with contextlib.suppress(ContainerError):
                    engine.images.remove(tag, force=True)
            with contextlib.suppress(ContainerError):
                engine.images.remove(image.id, force=True)


@pytest.fixture(params=("docker", "podman"))
def real(request: pytest.FixtureRequest) -> ContainerEngine:
    """A real runtime (skipped, or failed under CI, when it does not answer)."""
    return get_engine(str(request.param))


def compare(real: ContainerEngine, run: Callable[[ContainerEngine, str], Any]) -> list[Any]:
    """Run ``run`` on the real engine and on a fake of the same runtime; their transcripts
    must be equal. Returns the fake's."""
    prefix = f"dcm-t-{RUN_ID}-{uuid.uuid4().hex[:6]}"
    try:
        expected = run(real, prefix)
    finally:
        _clean(real, prefix)
    fake = FakeEngine(real.runtime, images=[BASE_IMAGE])
    got: list[Any] = run(fake, prefix)
    assert len(fake.calls) >= len(got)
    differences = [
        f"{label}: {real.runtime.value} {want!r}, fake {have!r}"
        for (label, want), (_, have) in zip(expected, got, strict=True)
        if want != have
    ]
    assert differences == [], "\n".join(differences)
    assert got == expected
    return got


def test_fake_and_real_engine_give_the_same_outcomes(real: ContainerEngine) -> None:
    assert len(compare(real, scenario)) >= 40


def test_fake_follows_each_runtime_where_they_differ(real: ContainerEngine) -> None:
    """Paused containers, signals, builtin commands, list filters, creation failures,
    builds (config, cache, errors), tags and the image removal rules, volumes and networks."""
    assert len(compare(real, edges)) >= 100
