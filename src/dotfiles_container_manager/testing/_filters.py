"""``filters=`` as docker and podman apply them.

Different keys must all match. Several values of one key: any may match, except ``label``,
where every one must (both CLIs work this way). A key the runtime does not know raises the
manager's error, as the CLI's refusal does; a key the runtime knows but the fake does not
simulate raises :class:`NotImplementedError`, so a test never passes on a filter that was
silently ignored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TypeVar

from ..core.exceptions import ContainerError
from ._store import Store, regex

__all__ = ["label_match", "name_match", "select"]

T = TypeVar("T")
Predicate = Callable[[T, str], bool]


def label_match(labels: Mapping[str, str], value: str) -> bool:
    """``key`` (present) or ``key=value`` (equal)."""
    key, sep, expected = value.partition("=")
    if not sep:
        return key in labels
    return labels.get(key) == expected


def name_match(name: str, value: str) -> bool:
    """A regular-expression search, as both CLIs do (an invalid pattern matches nothing)."""
    pattern = regex(value)
    return pattern is not None and pattern.search(name) is not None


def select(
    store: Store,
    items: Iterable[T],
    filters: Mapping[str, tuple[str, ...]],
    predicates: Mapping[str, Predicate[T]],
    *,
    known: frozenset[str],
    error: type[ContainerError],
    argv: Sequence[str],
) -> list[T]:
    """The items every filter accepts."""
    if not filters:
        return list(items)
    checks: list[tuple[Predicate[T], tuple[str, ...], bool]] = []
    for key, values in filters.items():
        predicate = predicates.get(key)
        if predicate is None:
            if key in known:
                raise NotImplementedError(
                    f"the fake engine does not simulate the {key!r} filter "
                    f"(it simulates {', '.join(sorted(predicates))})"
                )
            raise store.invalid_filter(error, key, argv)
        checks.append((predicate, values, key == "label"))
    selected = []
    for item in items:
        for predicate, values, every in checks:
            hits = (predicate(item, value) for value in values)
            if not (all(hits) if every else any(hits)):
                break
        else:
            selected.append(item)
    return selected
