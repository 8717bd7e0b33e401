"""Problem formatting, ordering and line look-up."""

from __future__ import annotations

import pytest

from app.config.errors import ConfigError, Problem, Problems, join


@pytest.mark.parametrize(
    ("problem", "text"),
    [
        (
            Problem("r.yaml", 3, "resources.Book", "unknown key 'x'", "did you mean 'y'?"),
            "r.yaml:3: unknown key 'x' at resources.Book; did you mean 'y'?",
        ),
        (Problem("r.yaml", 1, "", "the file is empty"), "r.yaml:1: the file is empty"),
    ],
)
def test_problem_text(problem: Problem, text: str) -> None:
    assert str(problem) == text


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("resources.Book.fields", 3),
        ("resources.Book.fields.title.type", 4),
        ("resources.Book.fields.title.default", 4),
        ("resources.Book.operations[1]", 7),
        ("resources.Book.operations[2]", 6),
        ("resources.Other", 1),
        ("", 1),
    ],
)
def test_line_of_nearest_known_key(path: str, line: int) -> None:
    lines = {
        "": 1,
        "resources": 1,
        "resources.Book": 2,
        "resources.Book.fields": 3,
        "resources.Book.fields.title": 4,
        "resources.Book.operations": 6,
        "resources.Book.operations[1]": 7,
    }
    assert Problems("r.yaml", lines).line(path) == line


def test_config_error_orders_problems_by_line() -> None:
    problems = Problems("r.yaml", {"a": 5, "b": 2})
    problems.add("a", "first added")
    problems.add("b", "second added")
    with pytest.raises(ConfigError) as caught:
        problems.raise_if_any()
    assert str(caught.value) == "r.yaml:2: second added at b\nr.yaml:5: first added at a"
    assert [p.line for p in caught.value.problems] == [2, 5]


def test_config_error_from_text() -> None:
    error = ConfigError("no location")
    assert (str(error), error.problems) == ("no location", ())


def test_join() -> None:
    assert (join("", "a"), join("a", "b"), join("a", 3)) == ("a", "a.b", "a[3]")
