"""Same situation, same outcome on docker and podman (issue 15, items 9-15).

Every test runs once per runtime and removes what it creates.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from dotfiles_container_manager import (
    BuildContext,
    CommandTimeoutError,
    ContainerConflictError,
    ContainerEngine,
    ContainerEngineFactory,
    ContainerError,
    ContainerNotFoundError,
    ContainerState,
    ImageConflictError,
    ImageError,
    ImageNotFoundError,
    NetworkConflictError,
    PortMapping,
)

from .conftest import BASE_IMAGE, Resources

# --------------------------------------------------------------------------- 9. exec results


@pytest.mark.parametrize(
    ("script", "code"),
    [
        ("echo 'Error response from daemon: No such container: x' >&2; exit 1", 1),
        ("echo 'Error response from daemon: container x is not running' >&2; exit 1", 1),
        (
            "echo 'Error: no container with name or ID \"x\" found: no such container' >&2;"
            " exit 125",
            125,
        ),
        (
            "echo 'Error: can only create exec sessions on running containers: container state"
            " improper' >&2; exit 255",
            255,
        ),
    ],
)
def test_exec_output_that_imitates_a_cli_error_is_a_result(
    engine: ContainerEngine, res: Resources, script: str, code: int
) -> None:
    """Item 9: the command's own output never turns its result into an exception."""
    with engine.containers.running(res.config(name=res.name("c"))) as cid:
        result = engine.containers.exec(cid, ["sh", "-c", script])
        assert result.exit_code == code
        assert result.stderr.startswith("Error")


def test_exec_output_that_imitates_an_oci_failure_keeps_its_code(
    engine: ContainerEngine, res: Resources
) -> None:
    """Item 9: exit 126 with docker's "OCI runtime exec failed" text from the command itself
    is not rewritten to 127, and its stdout stays stdout."""
    text = 'OCI runtime exec failed: exec failed: exec: "x": executable file not found in $PATH'
    with engine.containers.running(res.config(name=res.name("c"))) as cid:
        result = engine.containers.exec(cid, ["sh", "-c", f"echo '{text}'; exit 126"])
        assert (result.exit_code, result.stdout) == (126, text + "\n")
        missing = engine.containers.exec(cid, ["no-such-binary"])
        assert missing.exit_code == 127  # the real failure still is


def test_exec_on_a_missing_or_stopped_container_still_raises(
    engine: ContainerEngine, res: Resources
) -> None:
    """Item 9: the CLI's own failures stay exceptions (decided from the container's state)."""
    with pytest.raises(ContainerNotFoundError):
        engine.containers.exec(res.name("missing"), ["true"])
    cid = engine.containers.create(res.config(name=res.name("c")))
    try:
        with pytest.raises(ContainerConflictError):
            engine.containers.exec(cid, ["true"])
        engine.containers.start(cid)
        engine.containers.pause(cid)
        with pytest.raises(ContainerConflictError):
            engine.containers.exec(cid, ["true"])
    finally:
        engine.containers.remove(cid, force=True)


# --------------------------------------------------------------------------- 10. network prefix


def test_network_removal_by_a_short_id_prefix_is_refused_while_in_use(
    engine: ContainerEngine, res: Resources
) -> None:
    """Item 10: `networks.remove(id[:8])` refuses while a running container is attached."""
    net = engine.networks.create(res.name("n"), labels=res.labels)
    try:
        with engine.containers.running(res.config(name=res.name("c"), network=res.name("n"))):
            with pytest.raises(NetworkConflictError):
                engine.networks.remove(net[:8])
            assert engine.networks.exists(res.name("n"))
    finally:
        engine.networks.remove(res.name("n"))


# --------------------------------------------------------------------------- 11. list labels


def test_volume_and_network_listings_keep_labels_exactly(
    engine: ContainerEngine, res: Resources
) -> None:
    """Item 11: labels holding ``,x=`` survive `list()` on both runtimes (docker's `ls`
    prints them as one ambiguous string)."""
    labels = {**res.labels, "k": "a,b=c", "x": "1,2"}
    # (podman splits filter values at ",": select by the run label and the name)
    selector = {"label": f"dcm-test={labels['dcm-test']}"}
    name = res.name("v")
    with (
        engine.volumes.temporary(name=name, labels=labels),
        engine.networks.temporary(name, labels=labels),
    ):
        volumes = [v for v in engine.volumes.list(filters=selector) if v.name == name]
        networks = [n for n in engine.networks.list(filters=selector) if n.name == name]
        assert [v.labels for v in volumes] == [labels]
        assert [n.labels for n in networks] == [labels]


# --------------------------------------------------------------------------- 12. same outcome


def test_removing_a_paused_container_without_force_is_a_conflict(
    engine: ContainerEngine, res: Resources
) -> None:
    cid = engine.containers.run(res.config(name=res.name("c")))
    try:
        engine.containers.pause(cid)
        with pytest.raises(ContainerConflictError):
            engine.containers.remove(cid)
    finally:
        engine.containers.remove(cid, force=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_host_port_already_taken_is_a_conflict(engine: ContainerEngine, res: Resources) -> None:
    port = _free_port()
    ports = [PortMapping(80, port)]
    with engine.containers.running(res.config(name=res.name("a"), ports=ports)):
        with pytest.raises(ContainerConflictError):
            engine.containers.run(res.config(name=res.name("b"), ports=ports))
        assert not engine.containers.exists(res.name("b"))


def test_push_of_a_missing_local_image_is_not_found(
    engine: ContainerEngine, res: Resources
) -> None:
    with pytest.raises(ImageNotFoundError):
        engine.images.push(f"localhost:1/{res.name('missing')}:1", timeout=30)


@pytest.mark.parametrize("verb", ["stop", "restart"])
def test_stop_and_restart_of_a_paused_container_succeed(
    engine: ContainerEngine, res: Resources, verb: str
) -> None:
    """Chosen: as docker does, a paused container can be stopped or restarted."""
    with engine.containers.running(res.config(name=res.name("c"))) as cid:
        engine.containers.pause(cid)
        getattr(engine.containers, verb)(cid, timeout=1)
        expected = ContainerState.EXITED if verb == "stop" else ContainerState.RUNNING
        assert engine.containers.inspect(cid).state is expected


def test_status_filter_lists_exited_containers(engine: ContainerEngine, res: Resources) -> None:
    cid = engine.containers.create(res.config(name=res.name("c"), command=["true"]))
    try:
        engine.containers.start(cid)
        assert engine.containers.wait(cid) == 0
        listed = engine.containers.list(filters={"status": "exited", "name": res.name("c")})
        assert [c.id for c in listed] == [cid]
        assert engine.containers.list(filters={"name": res.name("c")}) == []
    finally:
        engine.containers.remove(cid)


def test_exec_as_a_missing_user_is_126(engine: ContainerEngine, res: Resources) -> None:
    """Chosen: the command cannot start, as for a file that is not executable: an
    ExecResult with 126 and the runtime's message on stderr."""
    with engine.containers.running(res.config(name=res.name("c"))) as cid:
        result = engine.containers.exec(cid, ["id"], user="no-such-user")
        assert (result.exit_code, result.stdout) == (126, "")
        assert "no-such-user" in result.stderr


def test_forced_removal_by_a_short_id_prefix_of_an_image_in_use_is_a_conflict(
    engine: ContainerEngine, res: Resources
) -> None:
    image = res.image_name()
    image_id = engine.images.build(
        BuildContext(f"FROM {BASE_IMAGE}\nLABEL x=1\n", labels=res.labels), image
    )
    try:
        with engine.containers.running(res.config(name=res.name("c"), image=image)):
            prefix = image_id.removeprefix("sha256:")[:8]
            with pytest.raises(ImageConflictError):
                engine.images.remove(prefix, force=True)
            assert engine.images.inspect(image).id == image_id
    finally:
        engine.images.remove(image_id, force=True)


def test_container_from_an_image_id_reports_the_reference_the_image_carries(
    engine: ContainerEngine, res: Resources
) -> None:
    """Chosen: what podman reports, the image's name; not a made-up "<id>:latest". The image
    is this test's own, with exactly one name (the shared base may carry others' tags)."""
    name = res.image_name("own")
    image_id = engine.images.build(
        BuildContext(f"FROM {BASE_IMAGE}\nLABEL dcm-own={res.prefix}\n", labels=res.labels), name
    )
    try:
        for given in (image_id.removeprefix("sha256:")[:12], image_id):
            cid = engine.containers.create(res.config(name=res.name("c"), image=given))
            try:
                assert engine.containers.inspect(cid).image == name
                (listed,) = engine.containers.list(all=True, filters={"id": cid})
                assert listed.image == name
            finally:
                engine.containers.remove(cid)
    finally:
        engine.images.remove(image_id, force=True)


def test_dockerignore_in_the_context_is_applied(engine: ContainerEngine, res: Resources) -> None:
    files = {
        ".dockerignore": "secret.txt\n*.log\n!keep.log\nbuild/**\n",
        "secret.txt": "s",
        "a.log": "a",
        "keep.log": "k",
        "app.py": "p",
        "build/out/x.o": "o",
    }
    context = BuildContext(f"FROM {BASE_IMAGE}\nCOPY . /ctx/\n", files=files, labels=res.labels)
    image = res.image_name()
    engine.images.build(context, image)
    try:
        config = res.config(
            name=res.name("c"),
            image=image,
            command=["sh", "-c", "cd /ctx && find . -type f | sort"],
        )
        cid = engine.containers.run(config)
        try:
            engine.containers.wait(cid)
            listed = engine.containers.logs(cid).split()
        finally:
            engine.containers.remove(cid)
        assert listed == ["./.dockerignore", "./Dockerfile", "./app.py", "./keep.log"]
    finally:
        engine.images.remove(image)


# --------------------------------------------------------------------------- 13. stop timeout


def test_stop_waits_for_the_containers_own_stop_timeout(
    engine: ContainerEngine, res: Resources
) -> None:
    """Item 13: with no ``timeout``, stop() allows the container's own stop timeout (14 s
    here: sleep as PID 1 ignores SIGTERM) on top of an engine timeout of 3 s."""
    short = ContainerEngineFactory.create(engine.runtime, timeout=3)
    cid = engine.containers.run(res.config(name=res.name("c"), stop_timeout=14))
    try:
        started = time.monotonic()
        try:
            short.containers.stop(cid)
        except CommandTimeoutError:
            pytest.fail(f"stop() timed out after {time.monotonic() - started:.1f} s")
        assert engine.containers.inspect(cid).state is ContainerState.EXITED
    finally:
        engine.containers.remove(cid, force=True)


# --------------------------------------------------------------------------- 14. listing races


def test_image_listing_survives_concurrent_removals(
    engine: ContainerEngine, res: Resources
) -> None:
    """Item 14: images built and removed by another thread while `images.list()` runs
    never make the listing fail."""
    stop = threading.Event()
    churn_errors: list[BaseException] = []
    labels = {**res.labels, "dcm-churn": res.prefix}

    def churn() -> None:
        i = 0
        try:
            while not stop.is_set():
                image = res.image_name(f"churn{i % 3}")
                context = BuildContext(f"FROM {BASE_IMAGE}\nLABEL n={i}\n", labels=labels)
                engine.images.build(context, image)
                engine.images.remove(image, force=True)
                i += 1
        except BaseException as exc:  # reported by the main thread
            churn_errors.append(exc)

    worker = threading.Thread(target=churn)
    worker.start()
    failures: list[str] = []
    try:
        for _ in range(100):
            try:
                engine.images.list(all=True)
            except ContainerError as exc:
                failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        stop.set()
        worker.join(timeout=120)
        for image in engine.images.list(all=True, filters={"label": f"dcm-churn={res.prefix}"}):
            with contextlib.suppress(ImageError):
                engine.images.remove(image.id, force=True)
    assert failures == []
    assert churn_errors == []


# --------------------------------------------------------------------------- 15. logs


def test_logs_with_neither_stream_is_empty(engine: ContainerEngine, res: Resources) -> None:
    script = "echo out; echo err >&2"
    cid = engine.containers.run(res.config(name=res.name("c"), command=["sh", "-c", script]))
    try:
        engine.containers.wait(cid)
        assert engine.containers.logs(cid, stdout=False, stderr=False) == ""
        assert engine.containers.logs(cid, stdout=False) == "err\n"
        assert engine.containers.logs(cid, stderr=False) == "out\n"
    finally:
        engine.containers.remove(cid)
