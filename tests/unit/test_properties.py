"""Property tests: parsers never fail in unplanned ways, validators hold their promises."""

from __future__ import annotations

import io
import json
import math
import posixpath
import tarfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dotfiles_container_manager import (
    BuildContext,
    ContainerError,
    ContainerInfo,
    ImageInfo,
    InvalidConfigError,
    NetworkInfo,
    OutputParseError,
    PortMapping,
    RunConfig,
    RuntimeNotAvailableError,
    VolumeInfo,
)
from dotfiles_container_manager.core import exceptions as exc
from dotfiles_container_manager.core import validation as v
from dotfiles_container_manager.core.record import replace
from dotfiles_container_manager.core.types import EngineInfo
from dotfiles_container_manager.implementations.cli import parsing as p
from dotfiles_container_manager.implementations.cli.command import CommandResult
from dotfiles_container_manager.implementations.cli.errors import ErrorClassifier
from dotfiles_container_manager.implementations.cli.tarstream import context_tar_bytes
from dotfiles_container_manager.implementations.docker import (
    DockerContainerManager,
    DockerEngine,
    DockerImageManager,
    DockerNetworkManager,
    DockerVolumeManager,
)
from dotfiles_container_manager.implementations.docker.utils import port_spec
from dotfiles_container_manager.implementations.podman import (
    PodmanContainerManager,
    PodmanEngine,
    PodmanImageManager,
    PodmanNetworkManager,
)

from .conftest import CONTAINERS, FakeRunner, recorded

Record = ContainerInfo | ImageInfo | VolumeInfo | NetworkInfo | EngineInfo
Parse = Callable[[CommandResult], list[Record]]


Parser = Callable[[Any], Record]


def parse_with(parser: Parser, kind: str) -> Parse:
    """The whole pipeline for one output: read the JSON the way ``kind`` says, then parse."""
    if kind == "each":  # a JSON array, or one object per line
        return lambda res: [parser(row) for row in p.load_records(res)]
    if kind == "one":  # the single object an inspect prints
        return lambda res: [parser(p.first_record(res))]
    return lambda res: [parser(p.as_dict(p.load_json(res)))]  # one document (info)


CASES: list[tuple[str, str, Parser, str]] = [
    ("docker", "ps_all", DockerContainerManager.from_ps, "each"),
    ("docker", "ps_all_mixed", DockerContainerManager.from_ps, "each"),
    ("docker-20.10", "ps_all", DockerContainerManager.from_ps, "each"),
    ("podman", "ps_all_mixed", PodmanContainerManager.from_ps, "each"),
    ("docker", "container_inspect", DockerContainerManager.from_inspect, "one"),
    ("docker", "container_inspect_exited", DockerContainerManager.from_inspect, "one"),
    ("podman", "container_inspect", PodmanContainerManager.from_inspect, "one"),
    ("podman", "container_inspect_exited", PodmanContainerManager.from_inspect, "one"),
    ("docker", "image_inspect", DockerImageManager.from_inspect, "one"),
    ("podman", "image_inspect", PodmanImageManager.from_inspect, "one"),
    ("podman", "images", PodmanImageManager.from_list, "each"),
    ("docker", "volume_inspect", DockerVolumeManager.from_inspect, "one"),
    ("docker", "volume_ls", DockerVolumeManager.from_inspect, "each"),
    ("podman", "volume_ls", DockerVolumeManager.from_inspect, "each"),
    ("docker", "network_inspect", DockerNetworkManager.from_inspect, "one"),
    ("docker", "network_ls", DockerNetworkManager.from_ls, "each"),
    ("podman", "network_inspect", PodmanNetworkManager.from_inspect, "one"),
    ("podman", "network_ls", PodmanNetworkManager.from_ls, "each"),
    ("docker", "info", DockerEngine.info_from, "document"),
    ("podman", "info", PodmanEngine.info_from, "document"),
]
PARSERS: list[tuple[str, str, Parse]] = [
    (runtime, name, parse_with(parser, kind)) for runtime, name, parser, kind in CASES
]
IDS = [f"{rt}-{name}" for rt, name, _ in PARSERS]

# Strings that look almost right to one parser or another.
TRICKY = st.sampled_from(
    [
        "",
        " ",
        "-1",
        "--5",
        "0",
        "65536",
        "\u00b2",
        "\u0663",
        "9" * 5000,
        "1.2:80->80/tcp",
        "0.0.0.0:99999->80/tcp",
        "[::]:0->0/tcp",
        "127.0.0.1:80->80/icmp",
        "80/tcp",
        "80-81/tcp",
        "Exited (99999999999999999999999999) 1 second ago",
        "Exited (-1) now",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+23:59",
        "2026-02-30T00:00:00Z",
        "a=1,,=2,b",
        "=",
        "localhost/",
        "sha256:",
        "\x00",
        "\udcff",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | TRICKY
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6) | TRICKY, kids, max_size=4)
    ),
    max_leaves=10,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path (dict keys / list indexes) into a JSON document, the root excluded."""
    found: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def mutate(doc: Any, path: tuple[Any, ...], action: str, new: Any) -> None:
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    if action == "drop":
        del parent[path[-1]]
    else:
        parent[path[-1]] = new


def shape(name: str, res: CommandResult) -> str:
    """How the CLI printed it: one JSON document, a JSON array, or one object per line."""
    if name == "info":
        return "document"
    return "array" if res.stdout_text.lstrip().startswith("[") else "lines"


def load_like(kind: str, text: str) -> Any:
    if kind == "lines":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def dump_like(kind: str, doc: Any) -> str:
    if kind == "lines":
        return "".join(json.dumps(row) + "\n" for row in doc)
    return json.dumps(doc, indent=2 if kind == "array" else None)


def parse_safely(parse: Parse, res: CommandResult) -> list[Record]:
    """The records, or [] when the parser refused with OutputParseError; anything else fails."""
    try:
        return parse(res)
    except OutputParseError as error:
        refused = error
    assert refused.command == list(res.command)
    return []


def attempt(build: Callable[..., Any], *args: Any) -> tuple[Any, InvalidConfigError | None]:
    """``(value, None)`` or ``(None, the InvalidConfigError raised)``."""
    try:
        return build(*args), None
    except InvalidConfigError as error:
        return None, error


RECORD_FIELDS: dict[type, dict[str, type | tuple[type, ...]]] = {
    ContainerInfo: {"id": str, "name": str, "image": str, "ports": tuple, "networks": tuple},
    ImageInfo: {"id": str, "tags": tuple, "size": int, "digests": tuple},
    VolumeInfo: {"name": str, "driver": str, "mountpoint": str, "scope": str},
    NetworkInfo: {"id": str, "name": str, "driver": str, "subnets": tuple, "internal": bool},
    EngineInfo: {"runtime": str, "version": str, "os": str, "rootless": bool},
}


def check_record(record: Record) -> None:
    """Whatever the input, a record holds values of the declared types."""
    for name, kind in RECORD_FIELDS[type(record)].items():
        assert isinstance(getattr(record, name), kind), name
    labels = getattr(record, "labels", {})
    assert all(isinstance(k, str) and isinstance(x, str) for k, x in labels.items())
    created = getattr(record, "created", None)
    assert created is None or created.utcoffset() == timedelta(0)
    for port in getattr(record, "ports", ()):
        assert isinstance(port, PortMapping)
        assert 1 <= port.container_port <= 65535


FIELD_NAMES = sorted(
    {
        key
        for runtime, name, _ in PARSERS
        if name != "info"
        for row in p.load_records(recorded(runtime, name))
        for key in row
    }
)
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
#: For the tests run once per recorded output (20 of them).
PER_OUTPUT = settings(FUZZ, max_examples=10)


# --------------------------------------------------------------------------- parsers


@pytest.mark.parametrize(("runtime", "name", "parse"), PARSERS, ids=IDS)
def test_recorded_outputs_parse(runtime: str, name: str, parse: Parse) -> None:
    records = parse(recorded(runtime, name))
    assert records
    for record in records:
        check_record(record)


# Values no field should hold, and the removal of the field itself.
ODD_VALUES: list[Any] = [
    None,
    True,
    -1,
    70000,
    2**70,
    1.5,
    float("nan"),
    float("inf"),
    "",
    "\u00b2",
    "9" * 5000,
    "0.0.0.0:99999->x/tcp",
    [None],
    {"80/tcp": 5},
]
DROP = object()


@pytest.mark.parametrize(("runtime", "name", "parser", "kind"), CASES, ids=IDS)
def test_every_field_replaced_by_odd_values(
    runtime: str, name: str, parser: Parser, kind: str
) -> None:
    """Each field of a real output, at any depth, replaced in turn by each odd value (and
    dropped): the parser still returns a well-typed record."""
    doc = load_like(shape(name, recorded(runtime, name)), recorded(runtime, name).stdout_text)
    for path in paths(doc):
        if path[-1] == "range":  # a port range expands; see test_parsing for its bounds
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        original = parent[key]
        for value in [*ODD_VALUES, DROP]:
            if value is DROP:
                del parent[key]
            else:
                parent[key] = value
            row = doc  # info: one document; else a list of objects: the one that changed
            if kind != "document":
                row = None if value is DROP and len(path) == 1 else doc[path[0]]
            if isinstance(row, dict):  # load_records refuses anything else
                check_record(parser(row))
            if value is DROP and isinstance(parent, list):
                parent.insert(key, original)
            else:
                parent[key] = original


@pytest.mark.parametrize(("runtime", "name", "parse"), PARSERS, ids=IDS)
@PER_OUTPUT
@given(data=st.data())
def test_structural_mutations(runtime: str, name: str, parse: Parse, data: st.DataObject) -> None:
    res = recorded(runtime, name)
    kind = shape(name, res)
    doc = load_like(kind, res.stdout_text)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        where = paths(doc)
        if not where:
            break
        path = data.draw(st.sampled_from(where), label="path")
        action = data.draw(st.sampled_from(["drop", "set"]), label="action")
        new = data.draw(JSON_VALUES, label="value") if action == "set" else None
        mutate(doc, path, action, new)
    mutated = replace(res, stdout=dump_like(kind, doc).encode())
    for record in parse_safely(parse, mutated):
        check_record(record)


@pytest.mark.parametrize(("runtime", "name", "parse"), PARSERS, ids=IDS)
@PER_OUTPUT
@given(data=st.data())
def test_byte_mutations(runtime: str, name: str, parse: Parse, data: st.DataObject) -> None:
    res = recorded(runtime, name)
    out = res.stdout
    kind = data.draw(st.sampled_from(["truncate", "splice", "replace", "random"]), label="kind")
    if kind == "random":
        out = data.draw(st.binary(max_size=300), label="bytes")
    else:
        cut = data.draw(st.integers(0, len(out)), label="at")
        junk = b"" if kind == "truncate" else data.draw(st.binary(max_size=20), label="junk")
        end = cut if kind == "splice" else min(len(out), cut + len(junk))
        out = out[:cut] + junk + (b"" if kind == "truncate" else out[end:])
    for record in parse_safely(parse, replace(res, stdout=out)):
        check_record(record)


OBJECT_PARSERS: list[Callable[[Any], Record]] = [
    DockerContainerManager.from_ps,
    DockerContainerManager.from_inspect,
    PodmanContainerManager.from_ps,
    DockerImageManager.from_inspect,
    PodmanImageManager.from_list,
    DockerVolumeManager.from_inspect,
    DockerNetworkManager.from_inspect,
    DockerNetworkManager.from_ls,
    PodmanNetworkManager.from_inspect,
    DockerEngine.info_from,
    PodmanEngine.info_from,
]


@settings(FUZZ, max_examples=60)
@given(st.dictionaries(st.sampled_from(FIELD_NAMES), JSON_VALUES, max_size=8))
def test_parsers_take_any_json_object(obj: dict[str, Any]) -> None:
    # Objects made of the keys the runtimes use, with values of any JSON type: every
    # parser returns a record of the declared types.
    for parser in OBJECT_PARSERS:
        check_record(parser(obj))


@FUZZ
@given(
    stdout=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
    stderr=st.binary(max_size=200),
    returncode=st.integers(-255, 255),
    operation=st.sampled_from(
        [
            exc.ContainerError,
            exc.ImageError,
            exc.ImageBuildError,
            exc.ContainerOperationError,
            exc.VolumeError,
            exc.NetworkError,
        ]
    ),
)
def test_classifier_always_answers(
    stdout: bytes, stderr: bytes, returncode: int, operation: type[ContainerError]
) -> None:
    res = CommandResult(("docker", "x"), returncode, stdout, stderr)
    error = ErrorClassifier("docker").classify(res, operation)
    family = exc.ImageError if operation is exc.ImageBuildError else operation
    conflict = isinstance(error, exc.ResourceConflictError) and isinstance(error, family)
    # The missing resource may be of any kind (a network missing when starting a container).
    expected = (operation, RuntimeNotAvailableError, exc.ResourceNotFoundError)
    assert conflict or isinstance(error, expected)
    assert type(error) is not exc.ResourceNotFoundError  # always a concrete kind
    assert error.exit_code == returncode
    assert error.command == ["docker", "x"]
    assert error.message


@FUZZ
@given(st.binary(max_size=400))
def test_prune_output_never_fails(stdout: bytes) -> None:
    ids = DockerImageManager.ids_from_prune(CommandResult(("docker",), 0, stdout))
    assert all(i.startswith("sha256:") and len(i) == 71 for i in ids)


# --------------------------------------------------------------------------- parsing helpers


@FUZZ
@given(
    moment=st.datetimes(
        min_value=datetime(1000, 1, 2),
        max_value=datetime(9998, 12, 30),
        timezones=st.just(timezone.utc),
    ),
    offset_minutes=st.integers(-23 * 60 - 59, 23 * 60 + 59),
    fraction=st.sampled_from(["", ".1", ".123456789"]),
    style=st.sampled_from(["rfc3339", "docker", "colonless"]),
)
def test_parse_time_reads_every_instant(
    moment: datetime, offset_minutes: int, fraction: str, style: str
) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    local = moment.astimezone(zone)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    stamp = local.strftime("%Y-%m-%dT%H:%M:%S") + fraction
    if style == "rfc3339":
        text = f"{stamp}{sign}{hours:02}:{minutes:02}"
    elif style == "colonless":
        text = f"{stamp}{sign}{hours:02}{minutes:02}"
    else:
        text = f"{stamp.replace('T', ' ')} {sign}{hours:02}{minutes:02} UTC"
    assert p.parse_time(text) == moment.replace(microsecond=0)


@FUZZ
@given(JSON_VALUES)
def test_parse_time_never_raises(value: Any) -> None:
    moment = p.parse_time(value)
    assert moment is None or moment.utcoffset() == timedelta(0)


@FUZZ
@given(st.integers(1, 253402300799) | st.floats(1, 253402300799))
def test_parse_time_unix_seconds(seconds: float) -> None:
    moment = p.parse_time(seconds)
    assert moment is not None
    assert moment.timestamp() == math.floor(seconds)


@FUZZ
@given(JSON_VALUES)
def test_as_int_never_raises(value: Any) -> None:
    result = p.as_int(value, -7)
    assert result == -7 or isinstance(result, int)


LABEL_TEXT = st.text(st.characters(blacklist_characters=",=\x00"), min_size=1, max_size=8)


@FUZZ
@given(st.dictionaries(LABEL_TEXT, LABEL_TEXT | st.just(""), max_size=5))
def test_labels_string_form_round_trips(labels: dict[str, str]) -> None:
    assert p.labels_from(labels) == labels
    assert p.labels_from(",".join(f"{k}={x}" for k, x in labels.items())) == labels


COMPONENT = st.from_regex(r"[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,4})?", fullmatch=True)
NAMES = st.lists(COMPONENT, min_size=1, max_size=3).map("/".join)


@FUZZ
@given(
    name=NAMES,
    prefix=st.sampled_from(["", "localhost/", "docker.io/library/"]),
    tag=st.sampled_from(["", ":1", ":latest", ":v1.2-rc"]),
)
def test_normalize_reference(name: str, prefix: str, tag: str) -> None:
    assume(not name.startswith(("localhost/", "docker.io/")))
    short = p.normalize_reference(prefix + name + tag)
    assert short == name + (tag or ":latest")
    assert p.normalize_reference(short) == short
    assert v.check_image_ref("ref", short) == short


# --------------------------------------------------------------------------- validators


@FUZZ
@given(st.text(max_size=12) | st.sampled_from(["-a", "a b", "a\x00", "\u3000x", "x\u00a0"]))
def test_check_reference(text: str) -> None:
    value, error = attempt(v.check_reference, "ref", text)
    bad = not text or text.startswith("-") or "\x00" in text or any(c.isspace() for c in text)
    assert (error is not None) == bad
    assert error is None or error.field == "ref"
    assert error is not None or value == text


@FUZZ
@given(st.text(max_size=40) | st.from_regex(r"[A-Za-z0-9./:@_-]{1,40}", fullmatch=True))
def test_check_image_ref_accepts_only_safe_references(text: str) -> None:
    try:
        v.check_image_ref("image", text)
    except InvalidConfigError:
        return
    assert text.isascii()
    assert not text.startswith(("-", "/", ":", "."))
    assert not any(c.isspace() for c in text)
    # Lowercase repository path; the first component may be a registry (as both CLIs read
    # it: it has '.' or ':', is "localhost", or has uppercase letters).
    head, _, tail = text.split("@")[0].rpartition("/")
    name = f"{head}/{tail.split(':')[0]}" if head else tail.split(":")[0]
    first, slash, rest = name.partition("/")
    registry = slash and (
        any(c in first for c in ".:") or first == "localhost" or first != first.lower()
    )
    path = rest if registry else name
    assert path == path.lower()


@FUZZ
@given(st.text(max_size=10) | st.from_regex(r"[A-Za-z0-9_.-]{1,10}", fullmatch=True))
def test_check_name(text: str) -> None:
    try:
        v.check_name("name", text)
    except InvalidConfigError:
        return
    assert text.isascii()
    assert len(text) >= 2
    assert text[0].isalnum()
    assert all(c.isalnum() or c in "_.-" for c in text)


@FUZZ
@given(st.integers(-(2**20), 2**20))
def test_check_port(value: int) -> None:
    if 1 <= value <= 65535:
        assert v.check_port("port", value) == value
    else:
        with pytest.raises(InvalidConfigError):
            v.check_port("port", value)


PATH_TEXT = st.lists(
    st.sampled_from(["a", "b.txt", ".", "..", "", "dir", " ", "é", "\\", "\x00"]), max_size=5
).map("/".join) | st.text(max_size=12)


@FUZZ
@given(PATH_TEXT)
def test_context_paths_stay_inside(text: str) -> None:
    try:
        norm = v.normalize_context_path("path", text)
    except InvalidConfigError:
        return
    assert norm
    assert not norm.startswith("/")
    assert ".." not in norm.split("/")
    assert "\x00" not in norm
    assert v.normalize_context_path("path", norm) == norm
    assert posixpath.normpath(posixpath.join("/ctx", norm)).startswith("/ctx/")


@FUZZ
@given(st.lists(PATH_TEXT, min_size=2, max_size=4))
def test_build_context_refuses_paths_equal_after_normalisation(texts: list[str]) -> None:
    files = dict.fromkeys(texts, b"x")
    try:
        context = BuildContext("FROM scratch\n", files=files)
    except InvalidConfigError:
        return
    normalised = [v.normalize_context_path("p", t) for t in files]
    assert len(set(normalised)) == len(files)
    assert "Dockerfile" not in normalised
    assert sorted(context.files) == sorted(normalised)


@FUZZ
@given(
    container_port=st.integers(-5, 70000),
    host_port=st.none() | st.integers(-5, 70000),
    protocol=st.sampled_from(["tcp", "udp", "sctp", "icmp", ""]),
    host_ip=st.none() | st.ip_addresses().map(str) | st.sampled_from(["", "x", "1.2.3"]),
)
def test_port_mapping(
    container_port: int, host_port: int | None, protocol: str, host_ip: str | None
) -> None:
    mapping, error = attempt(PortMapping, container_port, host_port, protocol, host_ip)
    if error is not None:
        assert error.field.startswith("PortMapping.")
        return
    arg = port_spec(mapping)
    assert arg.endswith(f"{container_port}/{protocol}")
    assert not arg.startswith("-")
    if host_ip:
        assert host_ip in arg


SECRETS = st.text(min_size=1, max_size=20).map(lambda s: "SECRET\u2603" + s)
KEYS = st.text(max_size=8).filter(lambda k: "\u2603" not in k)


@FUZZ
@given(environment=st.dictionaries(KEYS, SECRETS, max_size=4), env_file=st.booleans())
def test_environment_values_never_leak(environment: dict[str, str], env_file: bool) -> None:
    try:
        config = RunConfig("dcm-test-base:latest", environment=environment, env_file=env_file)
    except InvalidConfigError as error:
        texts = [str(error), repr(error), error.message, error.value]
    else:
        texts = [str(config), repr(config)]
        fake = FakeRunner("docker", CommandResult((), 0, b"f" * 64 + b"\n"))
        CONTAINERS["docker"](fake).run(config)
        texts += list(fake.calls[0].args)
    for secret in environment.values():
        assert all(secret not in text for text in texts)


@FUZZ
@given(
    st.dictionaries(
        st.lists(st.from_regex(r"[a-z0-9_.-]{1,6}", fullmatch=True), min_size=1, max_size=3)
        .map("/".join)
        .filter(lambda s: ".." not in s.split("/") and "." not in s.split("/")),
        st.binary(max_size=600),
        max_size=5,
    )
)
def test_tar_holds_exactly_the_context(files: dict[str, bytes]) -> None:
    files.pop("Dockerfile", None)
    context = BuildContext("FROM scratch\n", files=files)
    data = context_tar_bytes(context)
    assert (
        context_tar_bytes(BuildContext("FROM scratch\n", files=dict(reversed(files.items()))))
        == data
    )
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert names == sorted(names)
        contents = {}
        for info in tar.getmembers():
            handle = tar.extractfile(info)
            assert handle is not None
            contents[info.name] = handle.read()
    assert contents == {**files, "Dockerfile": b"FROM scratch\n"}
