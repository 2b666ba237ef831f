"""core/regex.py: a pattern compiled at its first use, then called straight through re."""

from __future__ import annotations

import re

import pytest

from dotfiles_container_manager.core.regex import Regex


def test_compiles_at_first_use_and_behaves_as_the_pattern() -> None:
    pattern = r"(\d+)-(\w+)"
    regex = Regex(pattern, re.IGNORECASE)
    compiled = re.compile(pattern, re.IGNORECASE)
    assert regex.match("12-AB x") is not None
    assert regex.match("12-AB x").groups() == compiled.match("12-AB x").groups()  # type: ignore[union-attr]
    assert regex.fullmatch("12-ab") is not None
    assert regex.fullmatch("12-ab ") is None
    assert regex.search("x 3-y").group(0) == "3-y"  # type: ignore[union-attr]
    assert [m.group(1) for m in regex.finditer("1-a 2-b")] == ["1", "2"]
    assert regex.findall("1-a 2-b") == [("1", "a"), ("2", "b")]
    assert regex.sub("#", "1-a 2-b") == "# #"
    assert regex.compiled is compiled  # re's own cache: the same object
    assert repr(regex) == f"Regex({pattern!r}, {re.IGNORECASE!r})"


def test_after_the_first_use_calls_go_to_the_compiled_pattern() -> None:
    regex = Regex(r"a+")
    assert regex.search("baa") is not None
    # The slot now holds the compiled pattern's own bound method: no Python wrapper.
    assert regex.match.__self__ is re.compile(r"a+")  # type: ignore[attr-defined]


def test_unknown_attributes_raise() -> None:
    with pytest.raises(AttributeError):
        _ = Regex("x").no_such_method  # type: ignore[attr-defined]


def test_a_bad_pattern_fails_at_first_use() -> None:
    regex = Regex("(")
    with pytest.raises(re.error):
        regex.match("x")
