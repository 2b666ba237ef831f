"""Networks on real docker and podman: every NetworkManager method."""

from __future__ import annotations

import pytest

from dotfiles_container_manager import (
    ContainerEngine,
    ContainerNotFoundError,
    NetworkConflictError,
    NetworkInfo,
    NetworkNotFoundError,
)

from .conftest import Resources


def test_create_inspect_list_remove(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("net")
    net_id = engine.networks.create(name, labels=res.labels, subnet="10.213.7.0/24")
    try:
        assert len(net_id) == 64
        info = engine.networks.inspect(name)
        assert isinstance(info, NetworkInfo)
        assert (info.id, info.name, info.driver) == (net_id, name, "bridge")
        assert info.subnets == ("10.213.7.0/24",) and info.labels == res.labels
        listed = [n for n in engine.networks.list(filters={"name": name}) if n.name == name]
        assert len(listed) == 1 and listed[0].id == net_id and listed[0].labels == res.labels
        assert engine.networks.exists(name) and engine.networks.exists(net_id)
        with pytest.raises(NetworkConflictError):
            engine.networks.create(name, labels=res.labels)
    finally:
        engine.networks.remove(name)
    assert not engine.networks.exists(name)


@pytest.mark.real_only("HTTP between two containers")
def test_connect_disconnect_and_traffic(engine: ContainerEngine, res: Resources) -> None:
    with engine.networks.temporary(res.name("net"), labels=res.labels) as net:
        server = engine.containers.run(
            res.config(
                name=res.name("srv"),
                command=["sh", "-c", "echo pong > /tmp/i; httpd -f -p 8080 -h /tmp"],
            )
        )
        client = engine.containers.run(res.config(name=res.name("cli")))
        try:
            engine.networks.connect(net, server, aliases=["pong-server"])
            engine.networks.connect(net, client)
            assert net_name(engine, net) in engine.containers.inspect(server).networks
            # busybox-static's wget crashes on name/address lookups (static NSS): speak
            # HTTP through nc to the server's address on this network.
            settings = engine.containers.inspect(server).raw["NetworkSettings"]["Networks"]
            address = settings[net_name(engine, net)]["IPAddress"]
            request = f"printf 'GET /i HTTP/1.0\\r\\n\\r\\n' | nc -w 5 {address} 8080"
            result = engine.containers.exec(client, ["sh", "-c", request])
            assert result.stdout.endswith("\r\n\r\npong\n"), result
            with pytest.raises(NetworkConflictError):
                engine.networks.connect(net, client)
            engine.networks.disconnect(net, client)
            assert net_name(engine, net) not in engine.containers.inspect(client).networks
            with pytest.raises(NetworkConflictError):
                engine.networks.disconnect(net, client)
            with pytest.raises(NetworkConflictError):
                engine.networks.remove(net)  # the server is still attached
        finally:
            engine.containers.remove(server, force=True)
            engine.containers.remove(client, force=True)


def net_name(engine: ContainerEngine, network: str) -> str:
    return engine.networks.inspect(network).name


def test_remove_refused_with_stopped_container(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("net")
    engine.networks.create(name, labels=res.labels)
    cid = engine.containers.create(res.config(network=name))
    try:
        with pytest.raises(NetworkConflictError):
            engine.networks.remove(name)
        assert engine.containers.exists(cid)
    finally:
        engine.containers.remove(cid)
        engine.networks.remove(name)


def test_prune(engine: ContainerEngine, res: Resources) -> None:
    name = res.name("net")
    engine.networks.create(name, labels=res.labels)
    pruned = engine.networks.prune(filters={"label": f"dcm-test={res.labels['dcm-test']}"})
    assert name in pruned and not engine.networks.exists(name)


def test_missing_network_errors(engine: ContainerEngine, res: Resources) -> None:
    assert not engine.networks.exists("dcm-missing-net")
    with pytest.raises(NetworkNotFoundError):
        engine.networks.inspect("dcm-missing-net")
    with pytest.raises(NetworkNotFoundError):
        engine.networks.remove("dcm-missing-net")
    cid = engine.containers.run(res.config())
    try:
        with pytest.raises(NetworkNotFoundError):
            engine.networks.connect("dcm-missing-net", cid)
    finally:
        engine.containers.remove(cid, force=True)
    with pytest.raises(ContainerNotFoundError):
        engine.networks.connect(
            "bridge" if engine.runtime.value == "docker" else "podman", "dcm-missing-container"
        )
