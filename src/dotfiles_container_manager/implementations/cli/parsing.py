"""Reading what the CLIs print: JSON documents, timestamps, labels, references.

Every function either returns a value or raises :class:`OutputParseError` with the command
and an excerpt of the output; none lets a ``KeyError``/``TypeError`` escape. Field readers
are lenient (a missing or null field gives the default), because runtime versions differ.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import lru_cache

from ...core.exceptions import InvalidConfigError, OutputParseError
from ...core.regex import Regex
from ...core.types import PortMapping
from .command import CommandResult

TYPE_CHECKING = False
if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any

__all__ = [
    "api_version",
    "as_dict",
    "as_int",
    "as_list",
    "as_str",
    "exact_labels",
    "full_image_id",
    "is_full_id",
    "labels_from",
    "load_json",
    "load_labelled_records",
    "load_records",
    "normalize_reference",
    "parse_time",
    "port_mapping",
    "unique_ports",
]

# 2026-11-28T18:47:44.160299506Z | 2026-11-28 18:47:44 +0000 UTC | ...+01:00
_TIME = Regex(
    r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d+))?\s*"
    r"(Z|[+-]\d\d:?\d\d)?(?:\s+[A-Z]{2,5})?(?:\s+m=[+-][\d.]+)?"
)
_HEX64 = Regex(r"[0-9a-f]{64}")
_ID_PREFIX = Regex(r"[0-9a-f]{12,63}")


def _fail(result: CommandResult, why: str) -> OutputParseError:
    return OutputParseError(
        f"cannot read the output of {' '.join(result.command[1:3])}: {why}",
        output=result.stdout_text,
        command=result.command,
        exit_code=result.returncode,
        stderr=result.stderr_text,
    )


def load_json(result: CommandResult) -> Any:
    """The single JSON document on stdout."""
    text = result.stdout_text.strip()
    if not text:
        raise _fail(result, "empty output")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise _fail(result, f"not JSON ({exc})") from None


def load_records(result: CommandResult) -> list[dict[str, Any]]:
    """A list of JSON objects printed either as one array (podman) or one per line (docker).

    Empty output is an empty list; a ``null`` document too.
    """
    text = result.stdout_text.strip()
    if not text:
        return []
    try:
        if text[0] == "[" or text == "null":
            data = json.loads(text)
            records = [] if data is None else data
        else:
            # one decoder call for all of docker's lines (one object per line)
            lines = [line for line in text.splitlines() if line.strip()]
            records = json.loads(f"[{','.join(lines)}]")
            if len(records) != len(lines):  # a line held more than one value: "1, 2"
                raise ValueError("one JSON object per line expected")
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise _fail(result, f"not JSON ({exc})") from None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise _fail(result, "expected JSON objects")
    return records


#: The ``--format`` of a docker ``volume ls``/``network ls`` that lists exact labels in one
#: call. ``.Labels`` joins a map as ``k=v,k2=v2``, ambiguous once a value or key holds a comma;
#: after the row (a tab: JSON escapes those) come the segments of that string, each followed
#: by the exact value of the label that the segment's text before ``=`` names (``.Label``;
#: "" when no label has that name). :func:`load_labelled_records` reads it.
LABELLED_ROW = (
    '{{json .}}\t[{{range $i, $s := split .Labels ","}}{{if $i}},{{end}}'
    '{{json $s}},{{json ($.Label (index (split $s "=") 0))}}{{end}}]'
)


def load_labelled_records(result: CommandResult) -> list[dict[str, Any]]:
    """The rows of an ``ls`` run with :data:`LABELLED_ROW`, each with its ``Labels`` as an
    exact dict where :func:`exact_labels` can tell them, else as docker's string (for the
    caller to inspect). Output without the extra column (podman's JSON array) is read as
    :func:`load_records` reads it."""
    text = result.stdout_text.strip()
    if not text or text[0] == "[" or "\t" not in text:
        return load_records(result)
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        # One decoder call for all lines: each "ROW<tab>[pairs]" becomes "[ROW,[pairs]]".
        rows = ",".join("[" + line.replace("\t", ",", 1) + "]" for line in lines)
        pairs = json.loads(f"[{rows}]")
        if len(pairs) != len(lines) or not all(
            isinstance(pair, list) and len(pair) == 2 for pair in pairs
        ):
            raise ValueError("one row and its labels per line expected")
    except (ValueError, RecursionError) as exc:
        raise _fail(result, f"not JSON ({exc})") from None
    records = []
    for row, segments in pairs:
        if not isinstance(row, dict) or not isinstance(segments, list):
            raise _fail(result, "expected JSON objects")
        labels = exact_labels([as_str(s) for s in segments])
        if labels is not None:
            row["Labels"] = labels
        records.append(row)
    return records


def exact_labels(pairs: Sequence[str]) -> dict[str, str] | None:
    """The labels behind docker's ``k=v,k2=v2`` string, from its comma-separated segments
    each followed by the exact value of the label its text before ``=`` names
    (:data:`LABELLED_ROW`); None when they cannot be told apart (a key holding a comma).

    The first segment starts a label, whose key is the segment's text before ``=``; its
    exact value says how many segments the label spans, so the next label starts right
    after; and so on. Each step is checked against the string itself.
    """
    segments, values = list(pairs[0::2]), list(pairs[1::2])
    if len(segments) != len(values):
        return None
    if segments == [""]:
        return {}
    labels: dict[str, str] = {}
    index = 0
    while index < len(segments):
        key, sep, _ = segments[index].partition("=")
        if not sep or key in labels:
            return None
        label = f"{key}={values[index]}"
        end = index + label.count(",") + 1
        if ",".join(segments[index:end]) != label:
            return None
        labels[key] = values[index]
        index = end
    return labels


def first_record(result: CommandResult) -> dict[str, Any]:
    """The one object an ``inspect`` of one resource prints."""
    records = load_records(result)
    if len(records) != 1:
        raise _fail(result, f"expected one object, got {len(records)}")
    return records[0]


def is_full_id(text: str) -> bool:
    """True for a full 64-hex id without prefix (containers, volumes, networks, images)."""
    return _HEX64.fullmatch(text) is not None


def api_version(value: Any) -> tuple[int, int] | None:
    """``(major, minor)`` from an API version such as ``"1.41"``; None when unreadable."""
    major, _, minor = as_str(value).strip().partition(".")
    return (int(major), int(minor)) if major.isdigit() and minor.isdigit() else None


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a dict, else an empty dict (null, missing, wrong type)."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list (null, missing, wrong type)."""
    return value if isinstance(value, list) else []


def as_str(value: Any, default: str = "") -> str:
    """``value`` as a string; ``default`` for null/missing."""
    if value is None:
        return default
    return value if isinstance(value, str) else str(value)


def as_int(value: Any, default: int | None = None) -> int | None:
    """``value`` as an int when it is one (or a numeric string), else ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return int(value)
        except ValueError:  # "--1", "²" (isdigit but not decimal), more than 4300 digits
            return default
    return default


def parse_time(value: Any) -> datetime | None:
    """A timezone-aware UTC datetime, to the second, from RFC 3339 text, docker's
    ``2026-11-28 18:47:44 +0000 UTC`` form, or unix seconds. Zero/"never" values (year 1,
    negative) give None.

    Whole seconds, because that is all some list commands print: a record from ``list`` then
    equals the one from ``inspect``."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not value > 0:  # also NaN
            return None
        # datetime is imported by the first timestamp read, not with this module: a cold
        # script that lists no containers does not load it (~1 ms).
        from datetime import datetime, timedelta, timezone

        try:
            return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=int(value))
        except (OverflowError, ValueError):  # inf, or past year 9999
            return None
    if not isinstance(value, str):
        return None
    return _parse_time_text(value)


@lru_cache(maxsize=2048)
def _parse_time_text(value: str) -> datetime | None:
    # Cached: listings repeat the same timestamps call after call (datetimes are immutable).
    # With the port, label and reference caches below: 50 `ps` rows 2.9 ms -> 0.64 ms
    # (docs/performance.md), 5% of a 40 ms docker `ps`, above the noise of the call.
    match = _TIME.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, _fraction, zone = match.groups()
    if int(year) <= 1:
        return None
    from datetime import datetime, timedelta, timezone  # see parse_time

    offset = timedelta(0)
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone.utc,
        )
        return moment - offset
    except (ValueError, OverflowError):  # no such date, or out of range after the offset
        return None


def labels_from(value: Any) -> dict[str, str]:
    """Labels from a dict (inspect, podman) or docker's ``k=v,k2=v2`` list string.

    The string form is ambiguous when a value holds ``,x=``; a segment without ``=`` is
    joined to the previous value (``a=1,2`` is ``{"a": "1,2"}``).
    """
    if isinstance(value, Mapping):
        return {str(k): as_str(v) for k, v in value.items()}
    if not isinstance(value, str) or not value:
        return {}
    return dict(_labels_from_text(value))  # a copy: each record owns its dict


@lru_cache(maxsize=1024)
def _labels_from_text(value: str) -> dict[str, str]:
    # Cached: containers of one application carry the same labels.
    labels: dict[str, str] = {}
    last: str | None = None
    for part in value.split(","):
        key, sep, val = part.partition("=")
        if sep:
            labels[key] = val
            last = key
        elif last is not None:
            labels[last] += "," + part
    return labels


def full_image_id(value: Any) -> str:
    """``sha256:<hex>`` for a bare or prefixed image id (other text unchanged)."""
    text = as_str(value)
    if _HEX64.fullmatch(text):
        return f"sha256:{text}"
    return text


_PREFIXES = ("docker.io/library/", "docker.io/", "localhost/")


def normalize_reference(value: Any) -> str:
    """An image reference in docker's short form: ``name:tag``.

    Drops podman's ``localhost/`` and the implicit ``docker.io/library/`` prefixes and adds
    ``:latest`` when neither tag nor digest is given. Ids and id prefixes (12 or more hex
    digits) are returned unchanged (a full id as ``sha256:<hex>``).
    """
    return _normalize_reference_text(as_str(value))


@lru_cache(maxsize=1024)
def _normalize_reference_text(ref: str) -> str:
    # Cached: a listing names the same few images again and again.
    if not ref or _HEX64.fullmatch(ref) or ref.startswith("sha256:"):
        return full_image_id(ref)
    if _ID_PREFIX.fullmatch(ref):  # an image id prefix (docker keeps `run 9a1e19fcb6a2`)
        return ref
    for prefix in _PREFIXES:
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
            break
    last = ref.rsplit("/", 1)[-1]
    if "@" not in ref and ":" not in last:
        ref += ":latest"
    return ref


_ANY_ADDRESS = ("", "0.0.0.0", "::")  # noqa: S104  (a value we read, not a bind)


def port_mapping(
    container_port: int, host_port: Any, protocol: Any, host_ip: Any
) -> PortMapping | None:
    """The mapping, or None when the values read are not a valid one (bad port, IP...)."""
    # Normalised to hashable values first: the JSON may hold anything there.
    return _cached_port(container_port, as_int(host_port), as_str(protocol), as_str(host_ip))


@lru_cache(maxsize=1024)
def _cached_port(
    container_port: int, host_port: int | None, protocol: str, ip: str
) -> PortMapping | None:
    # Cached: a listing repeats the same mappings, and PortMapping validates its address.
    try:
        return PortMapping(
            container_port=container_port,
            host_port=host_port or None,
            protocol=protocol,
            host_ip=None if ip in _ANY_ADDRESS else ip,
        )
    except InvalidConfigError:
        return None


def unique_ports(ports: Sequence[PortMapping | None]) -> tuple[PortMapping, ...]:
    """The valid mappings once each, sorted (docker publishes one ``-p`` on both 0.0.0.0 and
    [::]; podman reports one entry)."""
    unique = dict.fromkeys(m for m in ports if m is not None)
    return tuple(
        sorted(
            unique, key=lambda m: (m.container_port, m.protocol, m.host_ip or "", m.host_port or 0)
        )
    )
