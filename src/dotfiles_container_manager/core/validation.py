"""Checks that run when a configuration object is built, before any process starts.

Each check raises :class:`InvalidConfigError` naming the field and the value (secrets are
shown as ``<redacted>``). The rules are the strictest common ground of docker and podman, so
a value accepted here is accepted by both CLIs, and no value can ever be read as an option.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping

from .exceptions import InvalidConfigError

__all__ = [
    "check_args",
    "check_env",
    "check_image",
    "check_image_ref",
    "check_labels",
    "check_name",
    "check_port",
    "check_reference",
    "check_text",
    "is_image_id",
    "normalize_context_path",
]

REDACTED = "<redacted>"

# docker's container/volume name rule (podman's is a superset): 2+ chars.
_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")

# The distribution/reference grammar used by both runtimes.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REF = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?",
    re.ASCII,  # a tag's \w is [A-Za-z0-9_] for both CLIs, not any Unicode letter
)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{4,64}")
# str.isspace() exactly (checked over every code point), one C call instead of a Python loop
_WHITESPACE = re.compile(r"\s")
# A newline would split the line of an env-file into two variables.
_ENV_KEY_FORBIDDEN = ("=", "\x00", "\n")


def check_text(field: str, value: object, *, allow_empty: bool = False) -> str:
    """A string with no NUL byte (and not empty unless allowed)."""
    if not isinstance(value, str):
        raise InvalidConfigError(field, value, "must be a string")
    if not value and not allow_empty:
        raise InvalidConfigError(field, value, "must not be empty")
    if "\x00" in value:
        raise InvalidConfigError(field, value, "must not contain a NUL byte")
    return value


def check_name(field: str, value: object) -> str:
    """A container, volume or network name: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``."""
    text = check_text(field, value)
    if not _NAME.fullmatch(text):
        raise InvalidConfigError(
            field, value, "must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (2 or more characters)"
        )
    return text


def check_image_ref(field: str, value: object) -> str:
    """An image reference to create (build/tag target): lowercase repository, optional tag."""
    text = check_text(field, value)
    if not _IMAGE_REF.fullmatch(text):
        reason = "is not a valid image reference"
        if text.lower() != text and _IMAGE_REF.fullmatch(text.lower()):
            reason += " (repository names must be lowercase)"
        raise InvalidConfigError(field, value, reason)
    return text


def check_reference(field: str, value: object) -> str:
    """A name or id of an existing resource, as accepted on a command line.

    Looser than :func:`check_name` (ids, image references and digests pass), but it can never
    be taken for an option: no leading ``-``, no whitespace, no NUL.
    """
    text = check_text(field, value)
    if text.startswith("-"):
        raise InvalidConfigError(field, value, "must not start with '-'")
    if _WHITESPACE.search(text):
        raise InvalidConfigError(field, value, "must not contain whitespace")
    return text


def check_image(field: str, value: object) -> str:
    """An image reference or image id (``sha256:…`` or a hex prefix)."""
    text = check_text(field, value)
    if _IMAGE_ID.fullmatch(text):
        return text
    return check_image_ref(field, text)


def is_image_id(value: str) -> bool:
    """True when ``value`` looks like an image id rather than a reference."""
    return bool(_IMAGE_ID.fullmatch(value)) and (value.startswith("sha256:") or len(value) >= 12)


def check_port(field: str, value: object) -> int:
    """A TCP/UDP port number, 1 to 65535."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfigError(field, value, "must be an integer")
    if not 1 <= value <= 65535:
        raise InvalidConfigError(field, value, "must be between 1 and 65535")
    return value


def check_env(field: str, env: Mapping[str, str]) -> dict[str, str]:
    """Environment variables. Values are secrets: they never appear in a message."""
    result: dict[str, str] = {}
    for key, val in env.items():
        check_text(f"{field} key", key)
        if any(ch in key for ch in _ENV_KEY_FORBIDDEN):
            raise InvalidConfigError(f"{field} key", key, "must not contain '=' or a newline")
        if not isinstance(val, str):
            raise InvalidConfigError(f"{field}[{key}]", REDACTED, "value must be a string")
        if "\x00" in val:
            raise InvalidConfigError(f"{field}[{key}]", REDACTED, "must not contain a NUL byte")
        result[key] = val
    return result


def check_labels(field: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Labels: non-empty keys without ``=``; no NUL in keys or values."""
    result: dict[str, str] = {}
    for key, val in labels.items():
        check_text(f"{field} key", key)
        if "=" in key:
            raise InvalidConfigError(f"{field} key", key, "must not contain '='")
        result[key] = check_text(f"{field}[{key}]", val, allow_empty=True)
    return result


def check_args(field: str, args: Iterable[object]) -> tuple[str, ...]:
    """A command as a sequence of arguments (a bare string is refused: it is ambiguous)."""
    if isinstance(args, (str, bytes)):
        raise InvalidConfigError(
            field, args, "must be a sequence of arguments, e.g. ['sh', '-c', 'echo hi']"
        )
    out = tuple(args)
    for arg in out:
        check_text(f"{field} item", arg, allow_empty=True)
    return out  # type: ignore[return-value]  # every item was checked to be a str


def normalize_context_path(field: str, path: object) -> str:
    """A build-context path: relative, no ``..``, no NUL; returned in normal form."""
    text = check_text(field, path)
    if text.startswith(("/", "\\")):
        raise InvalidConfigError(field, path, "must be relative to the build context")
    if "\\" in text:
        raise InvalidConfigError(field, path, "must use '/' as the separator")
    norm = posixpath.normpath(text)
    if norm in (".", "") or norm == ".." or norm.startswith("../") or "/../" in f"/{text}/":
        raise InvalidConfigError(field, path, "must name a file inside the build context")
    return norm


def check_filters(field: str, filters: object) -> dict[str, tuple[str, ...]]:
    """``--filter`` values: ``{key: value}`` or ``{key: [value, ...]}`` (one filter each)."""
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise InvalidConfigError(field, filters, "must be a mapping of key to value(s)")
    result: dict[str, tuple[str, ...]] = {}
    for key, value in filters.items():
        check_reference(f"{field} key", key)
        if "=" in key:
            raise InvalidConfigError(f"{field} key", key, "must not contain '='")
        values = (value,) if isinstance(value, str) else value
        if not isinstance(values, (list, tuple)):
            raise InvalidConfigError(f"{field}[{key}]", value, "must be a string or a list")
        result[key] = tuple(check_text(f"{field}[{key}]", item) for item in values)
    return result


def check_timeout(field: str, value: object) -> float | None:
    """A time limit in seconds: a positive finite number, or None (the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidConfigError(field, value, "must be a number of seconds")
    if not 0 < value < float("inf"):
        raise InvalidConfigError(field, value, "must be a positive finite number of seconds")
    return float(value)


def check_stop_timeout(field: str, value: object) -> int | None:
    """Seconds a stop waits before SIGKILL: an integer from 0, or None (the default)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfigError(field, value, "must be an integer number of seconds")
    if not 0 <= value <= 2**31 - 1:
        raise InvalidConfigError(field, value, "must be between 0 and 2147483647")
    return value
