"""Checks that run when a configuration object is built, before any process starts.

Each check raises :class:`InvalidConfigError` naming the field and the value (secrets are
shown as ``<redacted>``). The rules are the strictest common ground of docker and podman, so
a value accepted here is accepted by both CLIs, and no value can ever be read as an option.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence

from .exceptions import InvalidConfigError
from .regex import Regex

__all__ = [
    "Filters",
    "check_args",
    "check_changes",
    "check_container_path",
    "check_count",
    "check_cpus",
    "check_duration",
    "check_env",
    "check_files",
    "check_filters",
    "check_host_path",
    "check_image",
    "check_image_ref",
    "check_input_file",
    "check_label_values_for_cli",
    "check_labels",
    "check_memory",
    "check_name",
    "check_output_file",
    "check_port",
    "check_reference",
    "check_restart_retries",
    "check_stop_timeout",
    "check_text",
    "check_timeout",
    "cli_sensitive",
    "is_image_id",
    "normalize_context_path",
]

REDACTED = "<redacted>"

#: ``filters=`` of the list/prune methods: each value is one ``--filter key=value``, or a
#: sequence of values giving one ``--filter`` each (two ``label=`` filters, say).
Filters = Mapping[str, str | Sequence[str]]

# docker's container/volume name rule (podman's is a superset): 2+ chars.
_NAME = Regex(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
#: Longest container/volume/network name. Measured: podman (netavark) refuses network names
#: over 250 (it writes /etc/containers/networks/<name>.json, 255 bytes at most) and volume
#: names over 255 (a directory); docker refuses volume names over 255. With CNI podman writes
#: <name>.conflist, so 246 is the longest name every backend can store.
NAME_MAX = 246
#: distribution/reference: a repository name is at most 255 characters *after*
#: normalisation (docker checks "docker.io/library/<name>": a one-component name of 238
#: characters is refused); a tag at most 128.
_REPO_NAME_MAX = 255
# Lone surrogates (from undecodable os.environ/argv bytes, or a stray "\ud800") cannot be
# encoded to UTF-8: subprocess would fail with a UnicodeEncodeError holding the whole value.
_SURROGATE = Regex("[\ud800-\udfff]")
#: Largest stop timeout and restart count: both CLIs parse wider integers (docker int64,
#: podman uint), but docker turns the stop timeout into nanoseconds (int64: overflows past
#: ~292 years) and nothing useful needs more than int32.
INT32_MAX = 2**31 - 1
#: Longest call timeout, in seconds: the runner waits with poll(2), whose timeout is an int
#: of milliseconds (Python raises OverflowError past 2147483.647 s, about 24.8 days).
TIMEOUT_MAX = 2_147_483.0
#: --cpus: podman refuses a CFS quota under 1 ms per 100 ms period (0.01 CPU); docker stores
#: nano-CPUs in an int64 (1e300 silently became 0, "no limit") and refuses more CPUs than the
#: host has (a daemon-side check this library cannot make).
CPUS_MIN = 0.01
CPUS_MAX = 1_000_000.0
#: --memory: docker's daemon refuses less than 6 MiB (podman took 4 KiB); podman silently
#: wraps values past int64 to 0, which means "no limit".
MEMORY_MIN = 6 * 1024**2
MEMORY_MAX = 2**63 - 1
# docker/go-units RAMInBytes, narrowed to what both parse: no space, no exponent (podman
# refuses 1e9), no hex, one decimal point. Units are binary on both (1g == 1024**3).
_MEMORY = Regex(r"([0-9]+(?:\.[0-9]+)?)([kmgtp])?(?:i?b)?", re.IGNORECASE | re.ASCII)
_MEMORY_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}

# The distribution/reference grammar used by both runtimes.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REF = Regex(
    rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?",
    re.ASCII,  # a tag's \w is [A-Za-z0-9_] for both CLIs, not any Unicode letter
)
_IMAGE_ID = Regex(r"(?:sha256:)?[0-9a-f]{4,64}")
# Environment keys. "=" ends the key. Glob characters: podman expands "-e PREFIX*" to every
# variable of the CLI's own environment starting with PREFIX ("-e '*'" copies all of it into
# the container); ? and [ are refused too in case a version globs them. Whitespace: podman
# strips leading whitespace from the key and then reads *another* variable (" RT_A" gave the
# container the host's RT_A), and a newline would split an env-file line. A leading "#"
# makes the env-file line a comment (the variable silently vanishes).
_ENV_KEY_FORBIDDEN = frozenset("=*?[]")
# str.isspace() exactly (checked over every code point), one C call instead of a Python loop
_WHITESPACE = Regex(r"\s")


def check_text(field: str, value: object, *, allow_empty: bool = False) -> str:
    """A string with no NUL byte (and not empty unless allowed)."""
    if not isinstance(value, str):
        raise InvalidConfigError(field, value, "must be a string")
    if not value and not allow_empty:
        raise InvalidConfigError(field, value, "must not be empty")
    if "\x00" in value:
        raise InvalidConfigError(field, value, "must not contain a NUL byte")
    _check_encodable(field, value)
    return value


def _check_encodable(field: str, value: str) -> None:
    # The value is never shown: it may be a secret, and its repr would be the whole string.
    # No exception is caught here, so the error has no __context__ holding the value either.
    match = _SURROGATE.search(value)
    if match is not None:
        raise InvalidConfigError(
            field,
            REDACTED,
            f"cannot be encoded as UTF-8 (lone surrogate U+{ord(match.group()):04X} at index "
            f"{match.start()}, e.g. from undecodable bytes)",
        )


def check_name(field: str, value: object) -> str:
    """A container, volume or network name: ``[a-zA-Z0-9][a-zA-Z0-9_.-]+``."""
    text = check_text(field, value)
    if not _NAME.fullmatch(text):
        raise InvalidConfigError(
            field, value, "must match [a-zA-Z0-9][a-zA-Z0-9_.-]+ (2 or more characters)"
        )
    if len(text) > NAME_MAX:
        raise InvalidConfigError(field, value, f"must be at most {NAME_MAX} characters")
    return text


def check_image_ref(field: str, value: object) -> str:
    """An image reference to create (build/tag target): lowercase repository, optional tag."""
    text = check_text(field, value)
    if not _IMAGE_REF.fullmatch(text):
        reason = "is not a valid image reference"
        if text.lower() != text and _IMAGE_REF.fullmatch(text.lower()):
            reason += " (repository names must be lowercase)"
        raise InvalidConfigError(field, value, reason)
    name = _repository_name(text)
    if len(_normalized_name(name)) > _REPO_NAME_MAX:
        raise InvalidConfigError(
            field,
            value,
            f"repository name is too long: at most {_REPO_NAME_MAX} characters once "
            "normalised (docker counts 'docker.io/library/' in front of a one-part name)",
        )
    return text


def _repository_name(ref: str) -> str:
    # The reference without its digest and tag (a tag follows the last "/" and a ":").
    name = ref.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    return name[:colon] if colon > slash else name


def _normalized_name(name: str) -> str:
    # distribution/reference ParseNormalizedNamed: a first part with "." or ":" (or
    # "localhost") is a registry; otherwise docker.io, and "library/" for one part.
    first, sep, _rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return name
    return f"docker.io/{name}" if sep else f"docker.io/library/{name}"


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


# --------------------------------------------------------------------------- CLI settings
# Environment variables a container CLI reads for itself. A container's variable with such
# a name cannot travel in the CLI's own environment (it would reconfigure the CLI), only in
# an env-file, where a newline would cut the value: every engine refuses those newlines.
#
# Environment variables that configure the CLI itself (or a program it runs: conmon, the
# OCI runtime, netavark, buildkit, the Go runtime, the dynamic loader). A key that matches
# travels in the private env-file instead of the CLI's environment, so it reaches the
# container only. Being too broad costs nothing but a temporary file; too narrow lets a
# container's variable reconfigure the CLI. Upper-cased before matching (proxies are also
# read in lower case).
_CLI_PREFIXES = (
    # docker(1) "Environment variables": DOCKER_HOST, DOCKER_CONFIG, DOCKER_CONTEXT,
    # DOCKER_CERT_PATH, DOCKER_TLS*, DOCKER_API_VERSION, DOCKER_CONTENT_TRUST*,
    # DOCKER_DEFAULT_PLATFORM, DOCKER_CLI_*, DOCKER_BUILDKIT...
    "DOCKER",
    # buildx/buildkit, used by "docker build": BUILDKIT_PROGRESS, BUILDX_BUILDER, ...
    "BUILDKIT",
    "BUILDX",
    # content trust signing (notary client): NOTARY_ROOT_PASSPHRASE, ...
    "NOTARY",
    # OpenTelemetry export of the docker CLI (OTEL_EXPORTER_OTLP_ENDPOINT, ...)
    "OTEL_",
    # podman(1), containers.conf(5), containers-storage.conf(5), containers-registries.conf(5):
    # CONTAINERS_CONF, CONTAINERS_CONF_OVERRIDE, CONTAINERS_REGISTRIES_CONF,
    # CONTAINERS_STORAGE_CONF, CONTAINER_HOST, CONTAINER_CONNECTION, CONTAINER_SSHKEY,
    # CONTAINER_PASSPHRASE
    "CONTAINER",
    # podman's re-exec markers: _CONTAINERS_USERNS_CONFIGURED, _CONTAINERS_ROOTLESS_UID/GID
    # (podman believes it is already inside its user namespace), buildah's
    # _BUILDAH_STARTED_IN_USERNS
    "_CONTAINERS_",
    "_BUILDAH",
    # PODMAN_USERNS, PODMAN_CONNECTIONS_CONF, PODMAN_IGNORE_CGROUPSV1_WARNING, ...
    "PODMAN",
    # podman build (buildah): BUILDAH_ISOLATION, BUILDAH_FORMAT, BUILDAH_LAYERS, ...
    "BUILDAH",
    # REGISTRY_AUTH_FILE (podman login/pull/push) and REGISTRIES_CONFIG_PATH
    # (containers-registries.conf(5)): "REGISTR" covers both spellings.
    "REGISTR",
    # containers-storage: STORAGE_DRIVER, STORAGE_OPTS
    "STORAGE_",
    # netavark/aardvark-dns and CNI, run by podman for networks (NETAVARK_FW, CNI_PATH, ...)
    "NETAVARK",
    "AARDVARK",
    "CNI_",
    # XDG base directories: where podman finds containers.conf, storage, runtime dir
    "XDG_",
    # systemd: sd_notify (podman --sdnotify), socket activation fds passed to the container,
    # and the D-Bus the systemd cgroup manager talks to
    "NOTIFY_SOCKET",
    "LISTEN_",
    "DBUS_",
    # the dynamic loader (LD_PRELOAD, LD_LIBRARY_PATH, LD_AUDIT, ...) and glibc
    "LD_",
    "GCONV_PATH",
    "GLIBC_TUNABLES",
    "MALLOC_",
    # Go runtime (GODEBUG, GOGC, GOMAXPROCS, GOMEMLIMIT, GOTRACEBACK) and Go's TLS roots
    # (SSL_CERT_FILE, SSL_CERT_DIR)
    "GO",
    "SSL_",
    # remote connections over ssh (SSH_AUTH_SOCK, ...)
    "SSH_",
    # proxies: Go's net/http reads them in both cases; podman also copies them into every
    # container (--http-proxy, on by default)
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "FTP_PROXY",
    # messages of the C helpers (conmon, crun), which the error classification reads
    "LC_",
    # Rust helpers' logging (netavark, aardvark-dns)
    "RUST_",
)
_CLI_NAMES = frozenset(
    {
        "PATH",  # which conmon/crun/runc/netavark/credential helpers run
        "HOME",  # ~/.docker, ~/.config/containers
        "TMPDIR",  # podman's image copies, docker build's context
        "USER",
        "LOGNAME",
        "TZ",  # podman --tz=local
        "TZDIR",
        "ZONEINFO",  # Go's time zone database
        "LANG",
        "LANGUAGE",
        "REQUEST_METHOD",  # Go ignores HTTP_PROXY when set (CGI)
        "RES_OPTIONS",  # resolver (cgo DNS)
        "LOCALDOMAIN",
        "HOSTALIASES",
        "NO_COLOR",  # docker/buildx output
        "FORCE_COLOR",
    }
)


def cli_sensitive(key: str) -> bool:
    """True when setting ``key`` in the CLI's environment could change what the CLI does."""
    upper = key.upper()
    return upper in _CLI_NAMES or upper.startswith(_CLI_PREFIXES)


# Build arguments named like CLI settings that docker defines for builds themselves: the
# proxies (which may carry credentials and only touch the CLI's own HTTP, unused for a local
# socket) and BuildKit's own switches.
_BUILD_ARGS_ALLOWED = frozenset(
    {
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "FTP_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "BUILDKIT_INLINE_CACHE",
        "BUILDKIT_SYNTAX",
        "BUILDKIT_CONTEXT_KEEP_GIT_DIR",
        "BUILDKIT_MULTI_PLATFORM",
    }
)


def check_build_args(field: str, args: Mapping[str, str]) -> None:
    """Build-argument names: their values travel in the CLI's environment (never argv), so a
    name that configures the CLI itself would reconfigure it; only docker's predefined build
    arguments may look like one."""
    for key in args:
        if cli_sensitive(key) and key.upper() not in _BUILD_ARGS_ALLOWED:
            raise InvalidConfigError(
                f"{field} key", key, "would also configure the CLI itself; use another name"
            )


def check_env(field: str, env: Mapping[str, str]) -> dict[str, str]:
    """Environment variables. Values are secrets: they never appear in a message.

    Keys: no ``=``, no glob character (``*?[]``: podman would copy matching variables of
    the CLI's own environment), no whitespace, no leading ``#``. Values: strings without NUL
    that can be encoded as UTF-8.
    """
    if not isinstance(env, Mapping):
        raise InvalidConfigError(field, type(env).__name__, "must be a mapping")
    result: dict[str, str] = {}
    for key, val in env.items():
        check_text(f"{field} key", key)
        if any(ch in _ENV_KEY_FORBIDDEN or ch.isspace() for ch in key):
            raise InvalidConfigError(
                f"{field} key",
                key,
                "must not contain '=', whitespace or a glob character (*, ?, [, ])",
            )
        if key.startswith("#"):
            raise InvalidConfigError(f"{field} key", key, "must not start with '#'")
        if not isinstance(val, str):
            raise InvalidConfigError(f"{field}[{key}]", REDACTED, "value must be a string")
        if "\x00" in val:
            raise InvalidConfigError(f"{field}[{key}]", REDACTED, "must not contain a NUL byte")
        _check_encodable(f"{field}[{key}]", val)
        if "\n" in val and cli_sensitive(key):
            raise InvalidConfigError(
                f"{field}[{key}]",
                REDACTED,
                "must not contain a newline: a variable the container CLIs read themselves "
                "travels in an env-file",
            )
        result[key] = val
    return result


def check_labels(field: str, labels: Mapping[str, str]) -> dict[str, str]:
    """Labels: non-empty keys without ``=`` or whitespace (docker refuses it); no NUL."""
    if not isinstance(labels, Mapping):
        raise InvalidConfigError(field, type(labels).__name__, "must be a mapping")
    result: dict[str, str] = {}
    for key, val in labels.items():
        check_text(f"{field} key", key)
        if "=" in key:
            raise InvalidConfigError(f"{field} key", key, "must not contain '='")
        if any(ch.isspace() for ch in key):
            raise InvalidConfigError(f"{field} key", key, "must not contain whitespace")
        result[key] = check_text(f"{field}[{key}]", val, allow_empty=True)
    return result


def check_label_values_for_cli(
    field: str, labels: Mapping[str, str], *, csv_quoted: bool = True
) -> dict[str, str]:
    """Labels for a CLI flag that splits its value as CSV (podman 4.3 ``volume create -l``).

    Podman parses each ``--label`` of ``volume create`` as a CSV record: unquoted,
    ``k=a,b`` became ``{"k": "a", "b": ""}``, ``k=a\nb`` became ``{"k": "a"}`` and a ``"``
    was a parse error. Quoted as a CSV field (what ``docker.utils.label_args(csv=True)``
    writes) every value survives but ``\r\n``, which Go's CSV reader turns into ``\n``.
    With ``csv_quoted=False``: ``,``, ``"``, ``\n`` and ``\r`` are refused in keys and values.
    """
    result = check_labels(field, labels)
    bad = ("\r\n",) if csv_quoted else (",", '"', "\n", "\r")
    for key, val in result.items():
        for name, text in ((f"{field} key", key), (f"{field}[{key}]", val)):
            found = [b for b in bad if b in text]
            if found:
                raise InvalidConfigError(
                    name, text, f"podman cannot keep {found[0]!r} in a volume label"
                )
    return result


def _check_int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidConfigError(field, value, "must be an integer")
    if not low <= value <= high:
        raise InvalidConfigError(field, value, f"must be between {low} and {high}")
    return value


def check_stop_timeout(field: str, value: object) -> int:
    """Seconds to wait before SIGKILL (``--stop-timeout``, ``stop -t``, ``restart -t``)."""
    return _check_int(field, value, 0, INT32_MAX)


def check_restart_retries(field: str, value: object) -> int:
    """``on-failure:N``: at most N restarts."""
    return _check_int(field, value, 0, INT32_MAX)


def _check_number(field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidConfigError(field, value, "must be a number")
    if not math.isfinite(value):
        raise InvalidConfigError(field, value, "must be finite")
    return float(value)


def check_timeout(field: str, value: object) -> float:
    """A time limit in seconds: a finite number, > 0 and at most :data:`TIMEOUT_MAX`."""
    number = _check_number(field, value)
    if not 0 < number <= TIMEOUT_MAX:
        raise InvalidConfigError(field, value, f"must be > 0 and at most {TIMEOUT_MAX:.0f}")
    return number


def check_duration(field: str, value: object) -> float:
    """A duration in seconds for the CLI (health-check timing): a finite number from 0 to
    :data:`TIMEOUT_MAX`, rounded to the millisecond (the CLIs read Go durations)."""
    number = _check_number(field, value)
    if not 0 <= number <= TIMEOUT_MAX:
        raise InvalidConfigError(field, value, f"must be >= 0 and at most {TIMEOUT_MAX:.0f}")
    return round(number, 3)


def check_count(field: str, value: object, low: int = 1) -> int:
    """An integer from ``low`` to 2**31-1 (health-check retries)."""
    return _check_int(field, value, low, INT32_MAX)


def check_cpus(field: str, value: object) -> float:
    """``--cpus``: a finite number from :data:`CPUS_MIN` to :data:`CPUS_MAX`."""
    number = _check_number(field, value)
    if not CPUS_MIN <= number <= CPUS_MAX:
        raise InvalidConfigError(field, value, f"must be between {CPUS_MIN} and {CPUS_MAX:.0f}")
    return number


def check_memory(field: str, value: object) -> int:
    """``--memory``: bytes, or a number with a unit (``512m``, ``1.5g``, ``1GiB``).

    Returns the size in bytes. Units are binary on both CLIs; ``b``/``ib`` suffixes and
    upper case are accepted, spaces and exponents are not (podman refuses ``1e9``).
    """
    text = check_text(field, value)
    match = _MEMORY.fullmatch(text)
    if match is None:
        raise InvalidConfigError(
            field, value, "must be a size such as '512m', '1g' or a number of bytes"
        )
    size = int(float(match.group(1)) * _MEMORY_UNITS[(match.group(2) or "").lower()])
    if not MEMORY_MIN <= size <= MEMORY_MAX:
        raise InvalidConfigError(
            field, value, f"must be at least 6m ({MEMORY_MIN} bytes) and fit in 63 bits"
        )
    return size


def check_filters(field: str, filters: object) -> dict[str, tuple[str, ...]]:
    """``filters=`` of list/prune: ``{"label": ["a=1", "b"], "name": "web"}``.

    Each value is a string or a sequence of strings (one ``--filter key=value`` each; an
    empty sequence is refused: on a prune it would silently mean "everything"). Keys are
    non-empty, without ``=`` or a leading ``-``; nothing may hold NUL.
    """
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise InvalidConfigError(field, type(filters).__name__, "must be a mapping")
    result: dict[str, tuple[str, ...]] = {}
    for key, raw in filters.items():
        check_text(f"{field} key", key)
        if "=" in key:
            raise InvalidConfigError(f"{field} key", key, "must not contain '='")
        if key.startswith("-"):
            raise InvalidConfigError(f"{field} key", key, "must not start with '-'")
        if isinstance(raw, str):
            values: tuple[object, ...] = (raw,)
        elif isinstance(raw, (list, tuple)):
            values = tuple(raw)
            if not values:
                raise InvalidConfigError(f"{field}[{key}]", raw, "must not be empty")
        else:
            raise InvalidConfigError(
                f"{field}[{key}]", raw, "must be a string or a list/tuple of strings"
            )
        result[key] = tuple(check_text(f"{field}[{key}]", val, allow_empty=True) for val in values)
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


def normalize_context_path(field: str, path: object, *, inside: str = "the build context") -> str:
    """A build-context path: relative, no ``..``, no NUL; returned in normal form.

    ``inside`` names what the path is relative to, for the error message.
    """
    text = check_text(field, path)
    if text.startswith(("/", "\\")):
        raise InvalidConfigError(field, path, f"must be relative to {inside}")
    if "\\" in text:
        raise InvalidConfigError(field, path, "must use '/' as the separator")
    norm = posixpath.normpath(text)
    if norm in (".", "") or norm == ".." or norm.startswith("../") or "/../" in f"/{text}/":
        raise InvalidConfigError(field, path, f"must name a file inside {inside}")
    return norm


def check_files(
    field: str, files: object, *, inside: str = "the build context"
) -> dict[str, bytes]:
    """In-memory files by relative path (``BuildContext.files``, ``put_files``): each name
    normalised by :func:`normalize_context_path` (no absolute path, no ``..``, not empty),
    no two names equal after normalisation, ``str`` contents encoded as UTF-8."""
    if not isinstance(files, Mapping):
        raise InvalidConfigError(field, type(files).__name__, "must be a mapping of name to bytes")
    out: dict[str, bytes] = {}
    for path, data in files.items():
        norm = normalize_context_path(f"{field} key", path, inside=inside)
        if norm in out:
            raise InvalidConfigError(
                f"{field} key", path, f"duplicates {norm!r} after normalisation"
            )
        if isinstance(data, str):
            check_text(f"{field}[{path}]", data, allow_empty=True)
            data = data.encode("utf-8")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise InvalidConfigError(f"{field}[{path}]", type(data), "not bytes/str")
        out[norm] = data if isinstance(data, bytes) else bytes(data)
    return out


def check_container_path(field: str, value: object) -> str:
    """A path inside a container: absolute, no NUL or newline."""
    text = check_text(field, value)
    if not text.startswith("/"):
        raise InvalidConfigError(field, value, "must be an absolute path in the container")
    if "\n" in text or "\r" in text:
        raise InvalidConfigError(field, value, "must not contain a line break")
    return text


def check_host_path(field: str, value: object) -> str:
    """A host path (``str`` or ``os.PathLike[str]``), returned absolute."""
    if not isinstance(value, (str, os.PathLike)):
        raise InvalidConfigError(field, value, "must be a path (str or os.PathLike)")
    text = os.fspath(value)
    if not isinstance(text, str):
        raise InvalidConfigError(field, value, "must be a str path, not bytes")
    return os.path.abspath(check_text(field, text))


def check_input_file(field: str, value: object) -> str:
    """An existing host file to read, returned absolute."""
    path = check_host_path(field, value)
    if not os.path.isfile(path):
        raise InvalidConfigError(field, path, "must be an existing host file")
    return path


def check_output_file(field: str, value: object) -> str:
    """A host file to write, returned absolute: its directory exists, it is no directory."""
    path = check_host_path(field, value)
    if not os.path.isdir(os.path.dirname(path)):
        raise InvalidConfigError(field, path, "must be in an existing host directory")
    if os.path.isdir(path):
        raise InvalidConfigError(field, path, "is a directory (a file path is needed)")
    return path


# What ``import --change`` applies (the list both CLIs document; podman adds STOPSIGNAL).
_CHANGE_INSTRUCTIONS = frozenset(
    {"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "ONBUILD", "USER", "VOLUME", "WORKDIR"}
)


def check_changes(field: str, changes: object) -> tuple[str, ...]:
    """Dockerfile instructions for ``import --change``: one line each, an instruction both
    CLIs apply to an imported image (``CMD``, ``ENTRYPOINT``, ``ENV``, ``EXPOSE``,
    ``LABEL``, ``ONBUILD``, ``USER``, ``VOLUME``, ``WORKDIR``)."""
    out = check_args(field, changes)  # type: ignore[arg-type]
    for change in out:
        if "\n" in change or "\r" in change:
            raise InvalidConfigError(f"{field} item", change, "must be one line")
        word = change.strip().split(None, 1)[0].upper() if change.strip() else ""
        if word not in _CHANGE_INSTRUCTIONS:
            raise InvalidConfigError(
                f"{field} item",
                change,
                f"must start with one of {', '.join(sorted(_CHANGE_INSTRUCTIONS))}",
            )
    return out


def check_optional_timeout(field: str, value: object) -> float | None:
    """:func:`check_timeout`, with None meaning "the default"."""
    return None if value is None else check_timeout(field, value)


def check_optional_stop_timeout(field: str, value: object) -> int | None:
    """:func:`check_stop_timeout`, with None meaning "the container's own"."""
    return None if value is None else check_stop_timeout(field, value)
