"""Suggestions for misspelled names."""

from __future__ import annotations

import pytest

from app.config.suggest import closest, fix_for


@pytest.mark.parametrize(
    ("word", "candidates", "expected"),
    [
        ("requred", ["required", "nullable"], "required"),
        ("Titel", ["title", "author"], "title"),
        ("ascending", ["asc", "desc"], "asc"),
        ("xyz", ["required", "nullable"], None),
        ("", ["a"], None),
        ("a", [], None),
    ],
)
def test_closest(word: str, candidates: list[str], expected: str | None) -> None:
    assert closest(word, candidates) == expected


def test_fix_lists_options_when_nothing_is_close() -> None:
    assert fix_for("zzz", ["asc", "desc"]) == "use one of asc, desc"
    assert fix_for("dsc", ["asc", "desc"]) == "did you mean 'desc'?"
