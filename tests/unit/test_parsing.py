"""Parsing real docker and podman output into records, and the promise that the same
resource gives the same record on both runtimes."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from dotfiles_container_manager import ContainerInfo, ContainerState, OutputParseError, PortMapping
from dotfiles_container_manager.core.record import replace
from dotfiles_container_manager.implementations.cli import parsing as p
from dotfiles_container_manager.implementations.docker import (
    DockerContainerManager,
    DockerEngine,
    DockerImageManager,
    DockerNetworkManager,
    DockerVolumeManager,
)
from dotfiles_container_manager.implementations.docker.engine import (
    is_podman_document as _is_podman,
)
from dotfiles_container_manager.implementations.podman import (
    PodmanContainerManager,
    PodmanEngine,
    PodmanImageManager,
    PodmanNetworkManager,
)

from .conftest import (
    CONTAINERS,
    ENGINES,
    NETWORKS,
    VOLUMES,
    FakeRunner,
    recorded,
    recorded_json,
    result,
)

HEX64 = re.compile(r"[0-9a-f]{64}")
UTC = timezone.utc
BASE = "dcm-test-base:latest"
C1_LABELS = {"dcm-rec": "1", "role": "web"}


def utc(year: int, month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def created_id(runtime: str) -> str:
    return recorded(runtime, "container_create").stdout_text.strip()


def ps_records(runtime: str, name: str) -> list[ContainerInfo]:
    rows = p.load_records(recorded(runtime, name))
    parser = CONTAINERS["podman" if runtime == "podman" else "docker"].from_ps
    return [parser(row) for row in rows]


def inspect_record(runtime: str, name: str) -> ContainerInfo:
    return DockerContainerManager.from_inspect(p.first_record(recorded(runtime, name)))


def by_name(records: list[ContainerInfo]) -> dict[str, ContainerInfo]:
    return {r.name: r for r in records}


def assert_aware_utc(moment: datetime | None) -> datetime:
    assert moment is not None
    assert moment.utcoffset() == timedelta(0)
    assert moment.microsecond == 0
    return moment


# --------------------------------------------------------------------------- containers


class TestContainerList:
    def test_running_container_from_ps(self, runtime: str) -> None:
        (info,) = ps_records(runtime, "ps_all")
        assert info.id == created_id(runtime)
        assert HEX64.fullmatch(info.id)
        assert info.name == "dcm-rec-c1"
        assert info.image == BASE
        assert info.state is ContainerState.RUNNING
        assert info.running
        assert info.labels == C1_LABELS
        assert info.networks == ("dcm-rec-net",)
        assert info.exit_code is None
        assert info.image_id is None  # docker's ps does not report it: same on both
        assert info.short_id == info.id[:12]
        assert info.raw["Names"]  # the runtime's own row is kept

    def test_ports_from_ps(self, runtime: str) -> None:
        (info,) = ps_records(runtime, "ps_all")
        tcp, udp = info.ports
        assert tcp == PortMapping(80, 18080, "tcp", "127.0.0.1")
        assert (udp.container_port, udp.protocol, udp.host_ip) == (81, "udp", "127.0.0.1")
        assert udp.host_port is not None
        assert 1024 < udp.host_port <= 65535  # chosen by the runtime
        assert info.host_port(80) == 18080
        assert info.host_port(81, "udp") == udp.host_port
        assert info.host_port(81) is None

    def test_created_from_ps(self) -> None:
        assert ps_records("docker", "ps_all")[0].created == utc(2026, 11, 28, 19, 37, 2)
        # podman's "CreatedAt" is "Less than a second ago": the unix "Created" is used.
        assert ps_records("podman", "ps_all")[0].created == utc(2026, 11, 28, 19, 37, 15)

    def test_mixed_states(self, runtime: str) -> None:
        records = by_name(ps_records(runtime, "ps_all_mixed"))
        assert sorted(records) == ["dcm-rec-c1", "dcm-rec-c2", "dcm-rec-c3", "dcm-rec-c4"]
        states = {name: info.state for name, info in records.items()}
        assert states == {
            "dcm-rec-c1": ContainerState.RUNNING,
            "dcm-rec-c2": ContainerState.PAUSED,
            "dcm-rec-c3": ContainerState.EXITED,
            "dcm-rec-c4": ContainerState.CREATED,
        }
        exit_codes = {name: info.exit_code for name, info in records.items()}
        assert exit_codes == {
            "dcm-rec-c1": None,
            "dcm-rec-c2": None,
            "dcm-rec-c3": 42,
            "dcm-rec-c4": None,
        }
        for info in records.values():
            assert HEX64.fullmatch(info.id)
            assert info.image == BASE
            assert_aware_utc(info.created)
        assert not records["dcm-rec-c2"].running  # paused is not running
        assert records["dcm-rec-c4"].ports == ()

    def test_docker_20_10_client_gives_the_same_records(self) -> None:
        new = {r.id: r for r in ps_records("docker", "ps_all_mixed")}
        old = {r.id: r for r in ps_records("docker-20.10", "ps_all")}
        assert new == old
        # 20.10 prints the labels in another order: still equal dicts.
        assert old[created_id("docker")].labels == C1_LABELS

    def test_same_containers_on_both_runtimes(self) -> None:
        docker = by_name(ps_records("docker", "ps_all_mixed"))
        podman = by_name(ps_records("podman", "ps_all_mixed"))
        assert docker.keys() == podman.keys()
        for name in docker:
            d, q = docker[name], podman[name]
            assert (d.name, d.image, d.state, d.labels, d.exit_code) == (
                q.name,
                q.image,
                q.state,
                q.labels,
                q.exit_code,
            )
            assert [(m.container_port, m.protocol, m.host_ip) for m in d.ports] == [
                (m.container_port, m.protocol, m.host_ip) for m in q.ports
            ]
        assert docker["dcm-rec-c1"].networks == podman["dcm-rec-c1"].networks


class TestContainerInspect:
    def test_running(self, runtime: str) -> None:
        info = inspect_record(runtime, "container_inspect")
        assert info.id == created_id(runtime)
        assert info.name == "dcm-rec-c1"  # docker's leading "/" is dropped
        assert info.image == BASE  # podman's "localhost/" is dropped
        assert info.image_id is not None
        assert info.image_id.startswith("sha256:")
        assert HEX64.fullmatch(info.image_id.removeprefix("sha256:"))
        assert info.state is ContainerState.RUNNING
        assert info.labels == C1_LABELS
        assert info.networks == ("dcm-rec-net",)
        assert info.exit_code is None
        assert info.ports[0] == PortMapping(80, 18080, "tcp", "127.0.0.1")
        assert info.ports[1].protocol == "udp"

    def test_image_ids(self) -> None:
        docker = inspect_record("docker", "container_inspect").image_id
        podman = inspect_record("podman", "container_inspect").image_id
        assert docker == "sha256:433910aaedb52ffb54fcbc35c0ed2647630cb11523d450d9285cb4fb977543d6"
        assert podman == "sha256:4f863c4c95e9c82c67208c8ce671dcc1683e53cc1d439c5daac994a2d5c7a089"

    def test_created(self) -> None:
        assert inspect_record("docker", "container_inspect").created == utc(2026, 11, 28, 19, 37, 2)
        podman = inspect_record("podman", "container_inspect").created
        assert podman == utc(2026, 11, 28, 19, 37, 15)

    @pytest.mark.parametrize(
        ("name", "state", "exit_code"),
        [
            ("container_inspect_exited", ContainerState.EXITED, 42),
            ("container_inspect_paused", ContainerState.PAUSED, None),
            ("container_inspect_created", ContainerState.CREATED, None),
        ],
    )
    def test_states(
        self, runtime: str, name: str, state: ContainerState, exit_code: int | None
    ) -> None:
        info = inspect_record(runtime, name)
        assert info.state is state
        assert info.exit_code == exit_code
        assert info.ports == ()
        assert not info.running
        assert info.labels == {"dcm-rec": "1"}

    def test_list_and_inspect_give_equal_records(self, runtime: str) -> None:
        listed = by_name(ps_records(runtime, "ps_all_mixed"))
        for name, fixture in [
            ("dcm-rec-c1", "container_inspect"),
            ("dcm-rec-c2", "container_inspect_paused"),
            ("dcm-rec-c3", "container_inspect_exited"),
            ("dcm-rec-c4", "container_inspect_created"),
        ]:
            inspected = inspect_record(runtime, fixture)
            # `ps` does not report the image id; every other field must match.
            assert replace(inspected, image_id=None) == listed[name], name

    def test_same_container_on_both_runtimes(self) -> None:
        docker = inspect_record("docker", "container_inspect")
        podman = inspect_record("podman", "container_inspect")
        fields = ("name", "image", "state", "labels", "networks", "exit_code")
        assert [getattr(docker, f) for f in fields] == [getattr(podman, f) for f in fields]
        assert docker.ports[0] == podman.ports[0]
        assert len(docker.ports) == len(podman.ports) == 2


class TestPortsOnEveryInterface:
    """Ports published on all interfaces have ``host_ip=None``, once per port."""

    def test_docker_ps(self) -> None:
        (row,) = p.load_records(recorded("docker", "ps_all"))
        row = {
            **row,
            "Ports": "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 443/tcp, 127.0.0.1:53->53/udp",
        }
        info = DockerContainerManager.from_ps(row)
        assert info.ports == (
            PortMapping(53, 53, "udp", "127.0.0.1"),
            PortMapping(80, 8080, "tcp", None),
        )

    def test_docker_inspect(self) -> None:
        data = p.first_record(recorded("docker", "container_inspect"))
        data["NetworkSettings"]["Ports"] = {
            "80/tcp": [
                {"HostIp": "0.0.0.0", "HostPort": "8080"},  # noqa: S104
                {"HostIp": "::", "HostPort": "8080"},
            ],
            "443/tcp": None,
            "[bad": [{"HostIp": "", "HostPort": "1"}],
        }
        assert DockerContainerManager.from_inspect(data).ports == (PortMapping(80, 8080),)

    def test_podman_ps(self) -> None:
        (row,) = p.load_records(recorded("podman", "ps_all"))
        row["Ports"] = [
            {"host_ip": "", "container_port": 80, "host_port": 8080, "range": 3, "protocol": "tcp"}
        ]
        info = PodmanContainerManager.from_ps(row)
        assert info.ports == tuple(PortMapping(80 + i, 8080 + i) for i in range(3))
        assert all(m.host_ip is None for m in info.ports)

    @pytest.mark.parametrize(
        ("count", "expected"),
        [(3, 3), (10**9, 6), (2**70, 6), ("70000", 6), (-5, 1), (0, 1), (None, 1), ("x", 1)],
    )
    def test_podman_port_range_bounds(self, count: object, expected: int) -> None:
        (row,) = p.load_records(recorded("podman", "ps_all"))
        row["Ports"] = [{"container_port": 65530, "host_port": 80, "range": count}]
        ports = PodmanContainerManager.from_ps(row).ports
        # Never past port 65535; a count that is no positive number means one port.
        assert [m.container_port for m in ports] == list(range(65530, 65530 + expected))
        assert [m.host_port for m in ports] == list(range(80, 80 + expected))


# --------------------------------------------------------------------------- images


class TestImages:
    def test_inspect(self, runtime: str) -> None:
        info = DockerImageManager.from_inspect(p.first_record(recorded(runtime, "image_inspect")))
        assert info.id == recorded(runtime, "build_ok_iidfile").stdout_text.strip()
        assert info.id.startswith("sha256:")
        assert HEX64.fullmatch(info.id.removeprefix("sha256:"))
        assert info.short_id == info.id[7:19]
        assert info.tags == ("dcm-rec-img:1", "dcm-rec-img:2")
        assert info.labels["dcm-rec"] == "1"
        assert info.labels["role"] == "test"
        assert info.size > 1_000_000
        assert_aware_utc(info.created)

    def test_inspect_values(self) -> None:
        docker = DockerImageManager.from_inspect(
            p.first_record(recorded("docker", "image_inspect"))
        )
        assert docker.labels == {"dcm-rec": "1", "role": "test"}
        assert docker.size == 1984178
        assert docker.created == utc(2026, 11, 28, 19, 36, 59)
        assert docker.digests == ()
        podman = DockerImageManager.from_inspect(
            p.first_record(recorded("podman", "image_inspect"))
        )
        assert podman.size == 2140204
        assert podman.created == utc(2026, 11, 28, 19, 37, 12)
        assert podman.digests == (
            "localhost/dcm-rec-img@sha256:"
            "7432a5b04e69fc611dd26f21e6bcb992996fccc3268863510d4083219557762f",
        )

    def test_podman_list_row_equals_inspect(self) -> None:
        rows = p.load_records(recorded("podman", "images"))
        inspected = DockerImageManager.from_inspect(
            p.first_record(recorded("podman", "image_inspect"))
        )
        listed = [PodmanImageManager.from_list(r) for r in rows]
        assert inspected in listed

    def test_podman_list_groups_tags_and_keeps_dangling(self) -> None:
        fake = FakeRunner("podman", recorded("podman", "images"))
        images = PodmanImageManager(fake).list()
        assert fake.calls[0].args[:3] == ("images", "--format", "{{json .}}")
        assert len(images) == 3  # four rows, one image listed twice
        tags = sorted(i.tags for i in images)
        assert tags == [(), ("dcm-rec-dangle:1",), ("dcm-rec-img:1", "dcm-rec-img:2")]
        for info in images:
            assert info.id.startswith("sha256:")
            assert HEX64.fullmatch(info.id.removeprefix("sha256:"))
            assert info.labels["dcm-rec"] == "1"
            assert_aware_utc(info.created)

    def test_docker_list_inspects_the_listed_ids(self) -> None:
        image_id = "sha256:ef2e1be2edb7899a8946ff945ccbd80dd01f5935364b4931445d1c85cbf30983"
        fake = FakeRunner(
            "docker", result(f"{image_id}\n{image_id}\n"), recorded("docker", "image_inspect")
        )
        (info,) = DockerImageManager(fake).list()
        assert info.id == image_id
        assert fake.calls[1].args == ("image", "inspect", image_id)

    def test_same_image_tags_on_both_runtimes(self) -> None:
        docker, podman = (
            DockerImageManager.from_inspect(p.first_record(recorded(rt, "image_inspect")))
            for rt in ("docker", "podman")
        )
        assert docker.tags == podman.tags
        assert docker.labels.items() <= podman.labels.items()  # buildah adds its version

    @pytest.mark.parametrize(("runtime", "count"), [("docker", 3), ("podman", 2)])
    def test_prune_ids(self, runtime: str, count: int) -> None:
        ids = DockerImageManager.ids_from_prune(recorded(runtime, "image_prune"))
        assert len(ids) == count
        for image_id in ids:
            assert image_id.startswith("sha256:")
            assert HEX64.fullmatch(image_id.removeprefix("sha256:"))


# --------------------------------------------------------------------------- volumes, networks


class TestVolumes:
    def test_inspect(self, runtime: str) -> None:
        info = DockerVolumeManager.from_inspect(p.first_record(recorded(runtime, "volume_inspect")))
        assert info.name == "dcm-rec-vol"
        assert info.driver == "local"
        assert info.scope == "local"
        assert info.labels == {"dcm-rec": "1", "role": "data"}
        assert info.options == {}
        assert info.mountpoint.endswith("/volumes/dcm-rec-vol/_data")
        assert_aware_utc(info.created)

    def test_created(self) -> None:
        docker = DockerVolumeManager.from_inspect(
            p.first_record(recorded("docker", "volume_inspect"))
        )
        assert docker.created == utc(2026, 11, 28, 19, 37, 2)

    def test_list(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "volume_ls"))
        if runtime == "docker":
            # two labels print as "k=v,k2=v2", ambiguous: the row is inspected
            fake.queue(recorded(runtime, "volume_inspect"))
        (listed,) = VOLUMES[runtime](fake).list()
        inspected = DockerVolumeManager.from_inspect(
            p.first_record(recorded(runtime, "volume_inspect"))
        )
        assert replace(listed, raw={}) == replace(inspected, raw={})

    def test_docker_list_is_one_call_with_exact_labels(self) -> None:
        # Recorded with the library's format: the labels come exact, no inspect follows.
        fake = FakeRunner("docker", recorded("docker", "volume_ls_labelled"))
        (listed,) = DockerVolumeManager(fake).list(filters={"label": "dcm-rec=1"})
        assert [c.args for c in fake.calls] == [
            tuple(recorded("docker", "volume_ls_labelled").command[1:])
        ]
        assert listed.labels == {"dcm-rec": "1", "role": "data"}
        assert listed.name == "dcm-rec-vol"
        assert listed.mountpoint == "/var/lib/docker/volumes/dcm-rec-vol/_data"

    def test_docker_list_inspects_rows_whose_labels_cannot_be_told(self) -> None:
        row = json.dumps({"Name": "v1", "Driver": "local", "Labels": "k,z=w"})
        inspected = json.dumps([{"Name": "v1", "Driver": "local", "Labels": {"k,z": "w"}}])
        fake = FakeRunner("docker", result(f'{row}\t["k","","z=w",""]\n'), result(inspected))
        (listed,) = DockerVolumeManager(fake).list()
        assert listed.labels == {"k,z": "w"}
        assert fake.calls[1].args == ("volume", "inspect", "v1")

    def test_same_volume_on_both_runtimes(self) -> None:
        docker, podman = (
            DockerVolumeManager.from_inspect(p.first_record(recorded(rt, "volume_inspect")))
            for rt in ("docker", "podman")
        )
        assert replace(docker, mountpoint="", created=None) == replace(
            podman, mountpoint="", created=None
        )

    def test_prune_podman(self) -> None:
        fake = FakeRunner("podman", recorded("podman", "volume_prune"))
        assert VOLUMES["podman"](fake).prune() == ["dcm-rec-vol"]
        assert fake.calls[0].args == ("volume", "prune", "-f")

    @pytest.mark.parametrize(("api", "extra"), [("1.41", ()), ("1.43", ("--all",))])
    def test_prune_docker_follows_the_api_version(self, api: str, extra: tuple[str, ...]) -> None:
        fake = FakeRunner("docker", result(f"{api}\n"), recorded("docker", "volume_prune"))
        fake.queue(recorded("docker", "volume_prune"))
        manager = DockerVolumeManager(fake)
        assert manager.prune() == ["dcm-rec-vol"]
        assert manager.prune() == ["dcm-rec-vol"]  # the version is asked once
        assert [c.args[:2] for c in fake.calls] == [("version", "--format")] + [
            ("volume", "prune")
        ] * 2
        assert fake.calls[1].args == ("volume", "prune", "-f", *extra)


class TestNetworks:
    def test_inspect(self, runtime: str) -> None:
        info = NETWORKS[runtime].from_inspect(p.first_record(recorded(runtime, "network_inspect")))
        assert HEX64.fullmatch(info.id)
        assert info.name == "dcm-rec-net"
        assert info.driver == "bridge"
        assert info.labels == {"dcm-rec": "1"}
        assert info.internal is False
        assert len(info.subnets) == 1
        assert_aware_utc(info.created)

    def test_inspect_values(self) -> None:
        docker = DockerNetworkManager.from_inspect(
            p.first_record(recorded("docker", "network_inspect"))
        )
        assert docker.id == recorded("docker", "network_create").stdout_text.strip()
        assert docker.subnets == ("172.22.0.0/16",)
        assert docker.created == utc(2026, 11, 28, 19, 37, 1)
        podman = PodmanNetworkManager.from_inspect(
            p.first_record(recorded("podman", "network_inspect"))
        )
        assert podman.subnets == ("10.89.0.0/24",)
        assert podman.created == utc(2026, 11, 28, 19, 37, 15)

    def test_list(self, runtime: str) -> None:
        (listed,) = NETWORKS[runtime](FakeRunner(runtime, recorded(runtime, "network_ls"))).list()
        inspected = NETWORKS[runtime].from_inspect(
            p.first_record(recorded(runtime, "network_inspect"))
        )
        assert listed.name == inspected.name
        assert listed.labels == inspected.labels
        assert listed.created == inspected.created
        assert inspected.id.startswith(listed.id)  # this docker row was printed truncated

    def test_docker_list_is_one_call_with_exact_labels(self) -> None:
        # A value holding ",b=c": the joined string alone would read it as two labels.
        fake = FakeRunner("docker", recorded("docker", "network_ls_labelled"))
        (listed,) = DockerNetworkManager(fake).list()
        assert len(fake.calls) == 1
        assert listed.labels == {"dcm-rec": "1", "hosts": "a,b=c"}
        assert listed.name == "dcm-rec-net"
        assert HEX64.fullmatch(listed.id)

    def test_podman_list_equals_inspect(self) -> None:
        rows = p.load_records(recorded("podman", "network_ls"))
        inspected = p.first_record(recorded("podman", "network_inspect"))
        assert PodmanNetworkManager.from_ls(rows[0]) == PodmanNetworkManager.from_inspect(inspected)

    def test_podman_reads_docker_shaped_documents(self) -> None:
        data = p.first_record(recorded("docker", "network_inspect"))
        assert PodmanNetworkManager.from_inspect(data) == DockerNetworkManager.from_inspect(data)

    def test_same_network_on_both_runtimes(self) -> None:
        docker = DockerNetworkManager.from_inspect(
            p.first_record(recorded("docker", "network_inspect"))
        )
        podman = PodmanNetworkManager.from_inspect(
            p.first_record(recorded("podman", "network_inspect"))
        )
        fields = ("name", "driver", "labels", "internal")
        assert [getattr(docker, f) for f in fields] == [getattr(podman, f) for f in fields]

    def test_create_returns_the_id(self, runtime: str) -> None:
        fake = FakeRunner(
            runtime, recorded(runtime, "network_create"), recorded(runtime, "network_inspect")
        )
        network_id = NETWORKS[runtime](fake).create("dcm-rec-net")
        assert HEX64.fullmatch(network_id)
        expected = "a3bc6ba1" if runtime == "docker" else "e414989b"
        assert network_id.startswith(expected)

    def test_prune(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "network_prune"))
        assert NETWORKS[runtime](fake).prune() == ["dcm-rec-net", "dcm-rec-net2"]


# --------------------------------------------------------------------------- other outputs


class TestContainerOutputs:
    def test_create_returns_the_id(self, runtime: str) -> None:
        from dotfiles_container_manager import RunConfig

        fake = FakeRunner(runtime, recorded(runtime, "container_create"))
        assert CONTAINERS[runtime](fake).create(RunConfig(BASE)) == created_id(runtime)

    def test_wait(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "wait_exited"))
        assert CONTAINERS[runtime](fake).wait("dcm-rec-c3") == 42

    def test_wait_without_a_number(self, runtime: str) -> None:
        fake = FakeRunner(runtime, result("not a number\n"))
        with pytest.raises(OutputParseError):
            CONTAINERS[runtime](fake).wait("dcm-rec-c3")

    def test_prune(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "container_prune"))
        ids = CONTAINERS[runtime](fake).prune()
        assert len(ids) == 5
        assert all(HEX64.fullmatch(i) for i in ids)
        assert created_id(runtime) in ids

    def test_logs_interleaved(self, runtime: str) -> None:
        fake = FakeRunner(runtime, result(b"out\nerr\n"))
        assert CONTAINERS[runtime](fake).logs("dcm-rec-c1") == "out\nerr\n"
        assert fake.calls[0].merge_stderr is True

    def test_logs_one_stream(self, runtime: str) -> None:
        manager = CONTAINERS[runtime](FakeRunner(runtime, recorded(runtime, "logs")))
        assert manager.logs("dcm-rec-c1", stdout=False) == "err\n"

    def test_binary_logs(self, runtime: str) -> None:
        raw = recorded(runtime, "logs_binary")
        manager = CONTAINERS[runtime](FakeRunner(runtime, raw, raw))
        assert manager.logs_bytes("dcm-rec-c5") == raw.stdout
        assert manager.logs("dcm-rec-c5") == "\ufffd\ufffdabc\n"

    def test_podman_logs_keep_the_bytes(self) -> None:
        # docker's json-file log driver already replaced them; podman's k8s-file kept them.
        manager = PodmanContainerManager(FakeRunner("podman", recorded("podman", "logs_binary")))
        assert manager.logs_bytes("dcm-rec-c5") == b"\xff\xfeabc\n"

    def test_exec_result(self, runtime: str) -> None:
        fake = FakeRunner(runtime, recorded(runtime, "exec_ok"))
        res = CONTAINERS[runtime](fake).exec("dcm-rec-c1", ["sh", "-c", "exit 7"])
        assert (res.exit_code, res.stdout, res.stderr, res.ok) == (7, "hi\n", "oops\n", False)


class TestEngineDocuments:
    def test_docker_info(self) -> None:
        info = DockerEngine.info_from(recorded_json("docker", "info"))
        assert info.runtime == "docker"
        assert info.version == "20.10.24+dfsg1"
        assert (info.os, info.arch) == ("linux", "amd64")  # Go's name, as podman says
        assert info.storage_driver == "overlay2"
        assert info.cgroup_version == "1"
        assert info.rootless is False

    def test_podman_info(self) -> None:
        info = PodmanEngine.info_from(recorded_json("podman", "info"))
        assert info.runtime == "podman"
        assert info.version == info.api_version == "4.3.1"
        assert (info.os, info.arch) == ("linux", "amd64")
        assert info.storage_driver == "overlay"
        assert info.cgroup_version == "1"  # "v1" on podman, "1" on docker
        assert info.rootless is False

    def test_docker_rootless_flag(self) -> None:
        data = {**recorded_json("docker", "info"), "SecurityOptions": ["name=rootless"]}
        assert DockerEngine.info_from(data).rootless is True

    @pytest.mark.parametrize(
        ("runtime", "version", "podman"),
        [
            ("docker", "20.10.24+dfsg1", False),
            ("docker-20.10", "20.10.24+dfsg1", False),
            ("podman", "4.3.1", True),
        ],
    )
    def test_version_documents(self, runtime: str, version: str, podman: bool) -> None:
        document = recorded_json(runtime, "version")
        assert ENGINES["podman" if podman else "docker"].server_version(document) == version
        assert _is_podman(document) is podman


# --------------------------------------------------------------------------- parsing helpers


class TestParseTime:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2026-11-28T19:37:02.226221106Z", (2026, 11, 28, 19, 37, 2)),
            ("2026-11-28T19:37:02Z", (2026, 11, 28, 19, 37, 2)),
            ("2026-11-28 19:37:01 +0000 UTC", (2026, 11, 28, 19, 37, 1)),
            ("2026-11-28 19:37:01.905662667 +0000 UTC", (2026, 11, 28, 19, 37, 1)),
            ("2026-11-28T20:37:02+01:00", (2026, 11, 28, 19, 37, 2)),
            ("2026-11-28T14:07:02-0530", (2026, 11, 28, 19, 37, 2)),
            ("2026-11-28 19:37:02.1 +0000 UTC m=+0.012345", (2026, 11, 28, 19, 37, 2)),
            ("2026-11-28T19:37:02", (2026, 11, 28, 19, 37, 2)),
        ],
    )
    def test_text(self, text: str, expected: tuple[int, ...]) -> None:
        moment = p.parse_time(text)
        assert moment == utc(*expected)
        assert_aware_utc(moment)

    def test_unix_seconds(self) -> None:
        assert p.parse_time(1795894635) == utc(2026, 11, 28, 19, 37, 15)
        assert p.parse_time(1795894635.9) == utc(2026, 11, 28, 19, 37, 15)

    @pytest.mark.parametrize(
        "value",
        [
            None,
            True,
            0,
            -62135596800,  # podman's "never" (year 1)
            "0001-01-01T00:00:00Z",
            "",
            "Less than a second ago",
            "2026-13-01T00:00:00Z",
            [],
            {},
            float("nan"),
            float("inf"),
            10**30,
            "9999-12-31T23:00:00-23:59",
        ],
    )
    def test_no_time(self, value: Any) -> None:
        assert p.parse_time(value) is None


class TestLabels:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ({"a": "1", "b": ""}, {"a": "1", "b": ""}),
            ({"a": None, "n": 3}, {"a": "", "n": "3"}),
            ("dcm-rec=1,role=web", C1_LABELS),
            ("role=web,dcm-rec=1", C1_LABELS),
            ("a=1,2", {"a": "1,2"}),
            ("a=b=c", {"a": "b=c"}),
            ("k=", {"k": ""}),
            ("junk,a=1", {"a": "1"}),
            ("", {}),
            (None, {}),
            (42, {}),
            (["a=1"], {}),
        ],
    )
    def test_labels_from(self, value: Any, expected: dict[str, str]) -> None:
        assert p.labels_from(value) == expected

    @pytest.mark.parametrize(
        ("pairs", "expected"),
        [
            # each segment of docker's joined string, then the exact value `.Label` gave
            (["a=1", "1", "b=2", "2"], {"a": "1", "b": "2"}),
            (["b=x", "x,c=y", "c=y", "", "a=1", "1"], {"b": "x,c=y", "a": "1"}),
            (["a=1", "1", "b=x", "x,c=y", "c=y", ""], {"a": "1", "b": "x,c=y"}),
            (["e=", "", "a=b=c", "b=c"], {"e": "", "a": "b=c"}),
            (["", ""], {}),
            (["k", "", "z=w", ""], None),  # the key "k,z": cannot be told, inspected instead
            (["a=1", "1", "a=1", "1"], None),
            (["a=1", "2"], None),  # the value does not match the string: not trusted
            (["a=1"], None),
        ],
    )
    def test_exact_labels(self, pairs: list[str], expected: dict[str, str] | None) -> None:
        assert p.exact_labels(pairs) == expected


class TestReferences:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("localhost/dcm-test-base:latest", BASE),
            ("dcm-test-base:latest", BASE),
            ("dcm-test-base", BASE),
            ("localhost/dcm-test-base", BASE),
            ("docker.io/library/alpine", "alpine:latest"),
            ("docker.io/library/alpine:3.19", "alpine:3.19"),
            ("docker.io/someone/tool:1", "someone/tool:1"),
            ("quay.io/org/img", "quay.io/org/img:latest"),
            ("localhost:5000/img", "localhost:5000/img:latest"),
            ("localhost:5000/img:2", "localhost:5000/img:2"),
            ("alpine@sha256:" + "a" * 64, "alpine@sha256:" + "a" * 64),
            ("a" * 64, "sha256:" + "a" * 64),
            ("sha256:" + "b" * 64, "sha256:" + "b" * 64),
            ("", ""),
            (None, ""),
        ],
    )
    def test_normalize_reference(self, value: Any, expected: str) -> None:
        assert p.normalize_reference(value) == expected

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("c" * 64, "sha256:" + "c" * 64),
            ("sha256:" + "c" * 64, "sha256:" + "c" * 64),
            ("abc", "abc"),
            (None, ""),
        ],
    )
    def test_full_image_id(self, value: Any, expected: str) -> None:
        assert p.full_image_id(value) == expected


class TestLoadRecords:
    def test_docker_lines_and_podman_array(self) -> None:
        assert len(p.load_records(recorded("docker", "ps_all_mixed"))) == 4
        assert len(p.load_records(recorded("podman", "ps_all_mixed"))) == 4

    @pytest.mark.parametrize("stdout", [b"", b"  \n", b"null", b"[]"])
    def test_empty(self, stdout: bytes) -> None:
        assert p.load_records(result(stdout)) == []

    @pytest.mark.parametrize(
        "stdout", [b"[1, 2]", b'{"a": 1}\n7\n', b'{"a": 1', b"not json", b'"text"', b"[]]"]
    )
    def test_malformed(self, stdout: bytes) -> None:
        res = replace(result(stdout, b"warning", 0), command=("docker", "ps", "-a"))
        with pytest.raises(OutputParseError) as caught:
            p.load_records(res)
        assert caught.value.command == ["docker", "ps", "-a"]
        assert caught.value.output == stdout.decode().strip()
        assert caught.value.stderr == "warning"
        assert "ps -a" in caught.value.message

    def test_too_deeply_nested(self) -> None:
        with pytest.raises(OutputParseError):
            p.load_records(result(b"[" * 100_000))

    def test_first_record_needs_exactly_one(self) -> None:
        with pytest.raises(OutputParseError, match="expected one object, got 0"):
            p.first_record(recorded("docker", "container_inspect_missing"))
        two = result(json.dumps([{"Id": "a"}, {"Id": "b"}]))
        with pytest.raises(OutputParseError, match="got 2"):
            p.first_record(two)

    @pytest.mark.parametrize("stdout", [b"", b"[1", b"[" * 100_000])
    def test_load_json(self, stdout: bytes) -> None:
        with pytest.raises(OutputParseError):
            p.load_json(result(stdout))

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (5, 5),
            ("42", 42),
            (" -3 ", -3),
            (7.0, 7),
            (7.5, None),
            (True, None),
            ("--5", None),
            ("\u00b2", None),
            ("9" * 5000, None),
            ("x", None),
            (None, None),
        ],
    )
    def test_as_int(self, value: Any, expected: int | None) -> None:
        assert p.as_int(value) == expected
