"""Issue 15, items 9-15: the parsing and classification behind "same situation, same
outcome", with scripted CLI answers (no runtime needed)."""

from __future__ import annotations

import io
import json
import tarfile

import pytest

from dotfiles_container_manager import (
    BuildContext,
    ContainerConflictError,
    ContainerNotFoundError,
    ContainerOperationError,
    ContainerState,
    ImageBuildError,
    ImageConflictError,
    ImageError,
    ImageNotFoundError,
)
from dotfiles_container_manager.core.record import replace
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.cli.tarstream import context_tar_bytes

from .conftest import (
    CONTAINERS,
    IMAGES,
    NETWORKS,
    VOLUMES,
    FakeRunner,
    classifier_for,
    recorded,
    result,
)

HEX = "9a1e19fcb6a224dff3f0dabae1b264421edac5af6c43000c28842d95bb19d685"


def _classify(runtime: str, stderr: str, code: int, error: type, stdout: str = "") -> object:
    failed = CommandResult(("docker",), code, stdout.encode(), stderr.encode())
    return classifier_for(runtime).classify(failed, error)


# --------------------------------------------------------------------------- 9. exec


@pytest.mark.parametrize(
    ("runtime", "stderr", "code"),
    [
        ("docker", "Error response from daemon: No such container: x\n", 1),
        ("docker", "Error response from daemon: container x is not running\n", 1),
        ("podman", 'Error: no container with name or ID "x" found: no such container\n', 125),
        ("podman", "Error: container state improper\n", 255),
    ],
)
def test_exec_imitating_a_cli_error_in_a_running_container_is_a_result(
    runtime: str, stderr: str, code: int
) -> None:
    fake = FakeRunner(runtime, result(b"", stderr, code), result("running\n"))
    got = CONTAINERS[runtime](fake).exec("c1", ["sh", "-c", "..."])
    assert (got.exit_code, got.stderr) == (code, stderr)
    # one extra call, the container's state
    assert fake.calls[1].args == (
        "inspect",
        "--type",
        "container",
        "--format",
        "{{.State.Status}}",
        "c1",
    )


def test_exec_exit_1_without_the_daemon_words_costs_no_extra_call() -> None:
    fake = FakeRunner("docker", result(b"", b"grep: no match\n", 1))
    assert CONTAINERS["docker"](fake).exec("c1", ["grep", "x"]).exit_code == 1
    assert len(fake.calls) == 1


@pytest.mark.parametrize(
    ("state", "expected"),
    [("exited\n", ContainerConflictError), ("created\n", ContainerConflictError)],
)
def test_exec_in_a_stopped_container_is_a_conflict_whatever_the_words(
    runtime: str, state: str, expected: type
) -> None:
    code = 1 if runtime == "docker" else 255
    stderr = "Error response from daemon: odd\n" if runtime == "docker" else "Error: odd\n"
    fake = FakeRunner(runtime, result(b"", stderr, code), result(state))
    with pytest.raises(expected) as caught:
        CONTAINERS[runtime](fake).exec("c1", ["true"])
    assert caught.value.exit_code == code


def test_exec_in_a_container_gone_meanwhile_is_not_found(runtime: str) -> None:
    code = 1 if runtime == "docker" else 125
    stderr = "Error response from daemon: x\n" if runtime == "docker" else "Error: x\n"
    fake = FakeRunner(runtime, result(b"", stderr, code))
    fake.queue(recorded(runtime, "container_inspect_missing"))
    with pytest.raises(ContainerNotFoundError):
        CONTAINERS[runtime](fake).exec("c1", ["true"])


def test_docker_oci_text_printed_by_the_command_keeps_126_and_its_stdout() -> None:
    out = b'OCI runtime exec failed: exec failed: exec: "x": executable file not found\n'
    fake = FakeRunner("docker", result(out, b"", 126))
    got = CONTAINERS["docker"](fake).exec("c1", ["sh"])
    assert (got.exit_code, got.stdout_bytes, got.stderr_bytes) == (126, out, b"")


def test_docker_daemon_oci_failure_is_still_127() -> None:
    raw = recorded("docker", "exec_missing_binary")
    assert raw.stdout.endswith(b"\r\n")  # the daemon's framing
    got = CONTAINERS["docker"](FakeRunner("docker", raw)).exec("c1", ["nonexistent-cmd"])
    assert (got.exit_code, got.stdout) == (127, "")


# --------------------------------------------------------------------------- 12. exec user


def test_exec_as_a_missing_user_is_126_on_both() -> None:
    docker_out = b"unable to find user nobody2: no matching entries in passwd file\r\n"
    docker = FakeRunner("docker", result(docker_out, b"", 126))
    got = CONTAINERS["docker"](docker).exec("c1", ["id"], user="nobody2")
    assert (got.exit_code, got.stdout, got.stderr) == (126, "", docker_out.decode())
    podman_err = "Error: unable to find user nobody2: no matching entries in passwd file\n"
    podman = FakeRunner("podman", result(b"", podman_err, 255), result("running\n"))
    got = CONTAINERS["podman"](podman).exec("c1", ["id"], user="nobody2")
    assert (got.exit_code, got.stdout, got.stderr) == (126, "", podman_err)


def test_podman_255_without_a_user_stays_255() -> None:
    err = "Error: unable to find user x: no matching entries in passwd file\n"
    podman = FakeRunner("podman", result(b"", err, 255), result("running\n"))
    assert CONTAINERS["podman"](podman).exec("c1", ["id"]).exit_code == 255


# --------------------------------------------------------------------------- 12. classification


@pytest.mark.parametrize(
    ("runtime", "stderr", "code", "error", "expected"),
    [
        (
            "docker",
            "Error response from daemon: You cannot remove a paused container 85a9. Unpause "
            "and then stop the container before attempting removal or force remove\n",
            1,
            ContainerOperationError,
            ContainerConflictError,
        ),
        (
            "podman",
            "Error: cannot remove container 1a00 as it is paused - running or paused "
            "containers cannot be removed without force: container state improper\n",
            2,
            ContainerOperationError,
            ContainerConflictError,
        ),
        (
            "docker",
            "docker: Error response from daemon: driver failed programming external "
            "connectivity on endpoint x (bf70): Bind for 0.0.0.0:18999 failed: port is "
            "already allocated\n\nRun 'docker run --help' for more information\n",
            125,
            ContainerOperationError,
            ContainerConflictError,
        ),
        (
            "podman",
            "Error: cannot listen on the TCP port: listen tcp4 :18999: bind: address "
            "already in use\n",
            126,
            ContainerOperationError,
            ContainerConflictError,
        ),
        (
            "docker",
            "An image does not exist locally with the tag: localhost:1/x\n",
            1,
            ImageError,
            ImageNotFoundError,
        ),
        (
            "podman",
            "Error: localhost:1/x:1: image not known\n",
            125,
            ImageError,
            ImageNotFoundError,
        ),
    ],
)
def test_same_situation_same_exception(
    runtime: str, stderr: str, code: int, error: type, expected: type
) -> None:
    assert type(_classify(runtime, stderr, code, error)) is expected


BANNER = (
    "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.\n"
    "            Install the buildx component to build images with BuildKit:\n"
    "            https://docs.docker.com/go/buildx/\n\n"
)


@pytest.mark.parametrize(
    ("stderr", "stdout", "code", "message"),
    [
        (BANNER, "Step 2/2 : RUN x\nerror: it broke\n", 3, "error: it broke"),
        (BANNER, "", -9, "killed by SIGKILL"),
        (BANNER + "COPY failed: file not found\n", "", 1, "COPY failed: file not found"),
    ],
)
def test_build_error_message_leads_with_the_real_error(
    stderr: str, stdout: str, code: int, message: str
) -> None:
    error = _classify("docker", stderr, code, ImageBuildError, stdout)
    assert isinstance(error, ImageBuildError)
    assert str(error).splitlines()[0] == message
    assert error.stderr == stderr  # the banner stays in .stderr


# --------------------------------------------------------------------------- 12. stop paused


@pytest.mark.parametrize("verb", ["stop", "restart"])
def test_podman_stop_of_a_paused_container_unpauses_first(verb: str) -> None:
    refused = (
        "Error: container c1 is running or paused, refusing to clean up: container state improper\n"
    )
    paused = json.loads(recorded("podman", "container_inspect_paused").stdout)
    fake = FakeRunner(
        "podman",
        result(b"", refused, 125),
        result(json.dumps(paused)),
        result(""),
        result("c1\n"),
    )
    getattr(CONTAINERS["podman"](fake), verb)("c1", timeout=1)
    assert [c.args[0] for c in fake.calls] == [verb, "container", "unpause", verb]


def test_podman_stop_refused_for_another_reason_still_raises() -> None:
    refused = "Error: container state improper\n"
    running = recorded("podman", "container_inspect")
    fake = FakeRunner("podman", result(b"", refused, 125), running)
    with pytest.raises(ContainerConflictError):
        CONTAINERS["podman"](fake).stop("c1", timeout=1)


# --------------------------------------------------------------------------- 12. status filter


def test_podman_status_filter_keeps_exited_containers() -> None:
    rows = recorded("podman", "ps_all_mixed")
    manager = CONTAINERS["podman"](FakeRunner("podman", rows, rows))
    states = {c.state for c in manager.list(filters={"status": "exited"})}
    assert ContainerState.EXITED in states
    assert ContainerState.EXITED not in {c.state for c in manager.list()}


# --------------------------------------------------------------------------- 12. image removal


def test_podman_forced_removal_by_a_short_id_prefix_in_use_is_a_conflict() -> None:
    inspected = recorded("podman", "image_inspect")
    image_id = json.loads(inspected.stdout)[0]["Id"].removeprefix("sha256:")
    fake = FakeRunner("podman", inspected, result("c0ffee\n"))
    with pytest.raises(ImageConflictError):
        IMAGES["podman"](fake).remove(image_id[:8], force=True)
    assert [c.args[0] for c in fake.calls] == ["image", "ps"]  # no `untag`


# --------------------------------------------------------------------------- 12. image by id


@pytest.mark.parametrize("given", [HEX[:12], f"sha256:{HEX}"])
def test_docker_container_from_an_image_id_reports_the_images_tag(given: str) -> None:
    record = json.loads(recorded("docker", "container_inspect").stdout)
    record[0]["Config"]["Image"] = given
    fake = FakeRunner(
        "docker",
        result(json.dumps(record)),
        result(f'sha256:{HEX} ["localhost/dcm-test-base:latest","other:2"]\n'),
    )
    info = CONTAINERS["docker"](fake).inspect("c1")
    assert info.image == "dcm-test-base:latest"
    assert fake.calls[1].args[:2] == ("image", "inspect")


def test_docker_container_from_an_untagged_image_keeps_the_id_as_given() -> None:
    record = json.loads(recorded("docker", "container_inspect").stdout)
    record[0]["Config"]["Image"] = HEX[:12]
    fake = FakeRunner("docker", result(json.dumps(record)), result(f"sha256:{HEX} []\n"))
    assert CONTAINERS["docker"](fake).inspect("c1").image == HEX[:12]  # not "<id>:latest"


def test_docker_listing_names_images_given_by_id_in_one_call() -> None:
    rows = [json.loads(line) for line in recorded("docker", "ps_all").stdout_text.splitlines()]
    rows = [{**row, "Image": HEX[:12]} for row in rows]
    fake = FakeRunner(
        "docker",
        result("\n".join(json.dumps(r) for r in rows)),
        result(f'sha256:{HEX} ["dcm-test-base:latest"]\n'),
    )
    listed = CONTAINERS["docker"](fake).list(all=True)
    assert {c.image for c in listed} == {"dcm-test-base:latest"}
    assert len(fake.calls) == 2


def test_container_from_a_named_image_costs_no_extra_call(runtime: str) -> None:
    fake = FakeRunner(runtime, recorded(runtime, "container_inspect"))
    CONTAINERS[runtime](fake).inspect("c1")
    assert len(fake.calls) == 1


# --------------------------------------------------------------------------- 10. network prefix


@pytest.mark.parametrize("prefix", ["17c37128", "17c3"])
def test_podman_network_removal_by_any_id_prefix_acts_on_the_name(prefix: str) -> None:
    inspected = recorded("podman", "network_inspect")
    name = json.loads(inspected.stdout)[0]["name"]
    fake = FakeRunner("podman", inspected, result(name + "\n"))
    NETWORKS["podman"](fake).remove(prefix)
    assert fake.calls[0].args[:2] == ("network", "inspect")
    assert fake.calls[1].args == ("network", "rm", name)


# --------------------------------------------------------------------------- 11. list labels


def test_docker_lists_inspect_only_rows_with_ambiguous_labels() -> None:
    """docker's `ls` prints labels as "k=v,k2=v2": a row whose string holds a comma is
    inspected (one more call for all of them); the others come from the listing."""
    volume = json.loads(recorded("docker", "volume_inspect").stdout)
    volume[0]["Labels"] = {"k": "a,b=c", "x": "1"}
    rows = [
        {"Name": "dcm-rec-vol", "Driver": "local", "Labels": "k=a,b=c,x=1"},
        {"Name": "plain", "Driver": "local", "Labels": "only=1"},
    ]
    fake = FakeRunner(
        "docker", result("\n".join(json.dumps(r) for r in rows)), result(json.dumps(volume))
    )
    listed = VOLUMES["docker"](fake).list()
    assert [v.labels for v in listed] == [{"k": "a,b=c", "x": "1"}, {"only": "1"}]
    assert fake.calls[1].args == ("volume", "inspect", "dcm-rec-vol")
    network = json.loads(recorded("docker", "network_inspect").stdout)
    network[0]["Labels"] = {"k": "a,b=c", "x": "1"}
    row = {"ID": network[0]["Id"], "Name": network[0]["Name"], "Labels": "k=a,b=c,x=1"}
    fake = FakeRunner("docker", result(json.dumps(row)), result(json.dumps(network)))
    (listed_net,) = NETWORKS["docker"](fake).list()
    assert listed_net.labels == {"k": "a,b=c", "x": "1"}
    # no comma anywhere: one call
    fake = FakeRunner("docker", result(json.dumps(rows[1])))
    assert [v.name for v in VOLUMES["docker"](fake).list()] == ["plain"]
    assert len(fake.calls) == 1


# --------------------------------------------------------------------------- 13. stop timeout


def test_stop_without_a_timeout_allows_the_containers_own(runtime: str) -> None:
    fake = FakeRunner(runtime, result("20\n"), result("c1\n"))
    CONTAINERS[runtime](fake).stop("c1")
    assert fake.calls[0].args == ("inspect", "--format", "{{json .Config.StopTimeout}}", "c1")
    assert fake.calls[1].args == ("stop", "c1")
    assert fake.calls[1].timeout == fake.timeout + 20


def test_stop_without_a_stop_timeout_set_allows_ten_seconds() -> None:
    fake = FakeRunner("docker", result("null\n"), result("c1\n"))
    CONTAINERS["docker"](fake).restart("c1")
    assert fake.calls[1].timeout == fake.timeout + 10


def test_stop_with_a_timeout_reads_nothing(runtime: str) -> None:
    fake = FakeRunner(runtime, result("c1\n"))
    CONTAINERS[runtime](fake).stop("c1", timeout=30)
    assert len(fake.calls) == 1
    assert fake.calls[0].timeout == fake.timeout + 30


# --------------------------------------------------------------------------- 14. listing races


def test_docker_image_list_leaves_out_images_removed_meanwhile() -> None:
    inspected = json.loads(recorded("docker", "image_inspect").stdout)
    partial = CommandResult(
        ("docker",), 1, json.dumps(inspected).encode(), b"Error: No such image: sha256:dead\n"
    )
    ids = f"{inspected[0]['Id']}\nsha256:{'d' * 64}\n"
    fake = FakeRunner("docker", result(ids), partial)
    assert [i.id for i in IMAGES["docker"](fake).list()] == [inspected[0]["Id"]]


def test_docker_image_list_with_every_image_gone_is_empty() -> None:
    gone = result(b"[]\n", b"Error: No such image: sha256:dead\n", 1)
    fake = FakeRunner("docker", result(f"sha256:{'d' * 64}\n"), replace(gone, stdout=b""))
    assert IMAGES["docker"](fake).list() == []


def test_docker_image_list_still_raises_other_failures() -> None:
    down = recorded("docker", "daemon_down_ps")
    fake = FakeRunner("docker", result(f"sha256:{'d' * 64}\n"), down)
    with pytest.raises(Exception) as caught:
        IMAGES["docker"](fake).list()
    assert not isinstance(caught.value, ImageNotFoundError)


# podman 4.3's words when an image it is reading is removed meanwhile (seen in CI runs).
VANISHED = [
    b"Error: retrieving parent of image abc: file does not exist\n",
    b'Error: retrieving label for image "9f25": you may need to remove the image to resolve'
    b" the error: fallback error checking whether image is a manifest list: reading data blob"
    b' size "manifest-sha256:6f57" for "9f25": size is not known\n',
]


@pytest.mark.parametrize("stderr", VANISHED)
def test_podman_image_list_is_taken_again_when_an_image_vanishes(stderr: bytes) -> None:
    vanished = result(b"", stderr, 125)
    fake = FakeRunner("podman", vanished, vanished, recorded("podman", "images"))
    assert IMAGES["podman"](fake).list()
    assert len(fake.calls) == 3


def test_podman_image_list_gives_up_after_a_few_attempts() -> None:
    vanished = result(b"", b"Error: retrieving parent of image abc: file does not exist\n", 125)
    fake = FakeRunner("podman", *[vanished] * 10)
    with pytest.raises(ImageError):
        IMAGES["podman"](fake).list()
    assert fake.pending == 0


# --------------------------------------------------------------------------- 12. .dockerignore


def _names(context: BuildContext) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(context_tar_bytes(context))) as tar:
        return sorted(tar.getnames())


@pytest.mark.parametrize(
    ("ignore", "kept"),
    [
        ("secret.txt\n", ["a.log", "app/main.py", "app/x.log", "keep.log", "sub/secret.txt"]),
        (
            "*.log\n!keep.log\n",
            ["app/main.py", "app/x.log", "keep.log", "secret.txt", "sub/secret.txt"],
        ),
        ("**/*.log\n", ["app/main.py", "secret.txt", "sub/secret.txt"]),
        ("app\n", ["a.log", "keep.log", "secret.txt", "sub/secret.txt"]),
        ("# comment\n\n/sub/\n", ["a.log", "app/main.py", "app/x.log", "keep.log", "secret.txt"]),
        ("*\n!app/main.py\n", ["app/main.py"]),
        (
            "Dockerfile\n.dockerignore\n",
            ["a.log", "app/main.py", "app/x.log", "keep.log", "secret.txt", "sub/secret.txt"],
        ),
    ],
)
def test_dockerignore_filters_the_context(ignore: str, kept: list[str]) -> None:
    files = {
        ".dockerignore": ignore,
        "secret.txt": "s",
        "sub/secret.txt": "s",
        "a.log": "a",
        "keep.log": "k",
        "app/main.py": "p",
        "app/x.log": "x",
    }
    names = _names(BuildContext("FROM x\n", files=files))
    assert "Dockerfile" in names  # always sent
    assert sorted(n for n in names if n not in ("Dockerfile", ".dockerignore")) == kept


def test_no_dockerignore_sends_everything() -> None:
    names = _names(BuildContext("FROM x\n", files={"a": "1", "b/c": "2"}))
    assert names == ["Dockerfile", "a", "b/c"]


@pytest.mark.parametrize("kind", ["images", "volumes", "networks"])
def test_docker_unreadable_ls_output_is_a_parse_error_not_an_empty_list(kind: str) -> None:
    from dotfiles_container_manager import OutputParseError

    manager = {"images": IMAGES, "volumes": VOLUMES, "networks": NETWORKS}[kind]["docker"]
    fake = FakeRunner("docker", result('[{"Id": "0123", "State": "runn\n'))
    with pytest.raises(OutputParseError):
        manager(fake).list()
    assert len(fake.calls) == 1
