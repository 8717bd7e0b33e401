"""Partial evaluation of rules for a known user: table-driven cases, and the property that
the residual condition holds for an item exactly when :meth:`Expression.allows` does."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.access.expression import parse_expression
from app.access.residual import AllOf, AnyOf, Atom, Negation, Residual, residual
from app.access.user import User
from tests.access.rules import (
    FIELDS,
    examples,
    items,
    parse_read_rule,
    rows,
    rule_sources,
    users,
)

ALICE = User("alice")
ADMIN = User("root", ("admin",))


@pytest.mark.parametrize(
    ("source", "user", "expected"),
    [
        ("is_granted('admin') or object.author == user.id", ADMIN, True),
        ("is_granted('admin') or object.author == user.id", ALICE, Atom("author", "eq", "alice")),
        ("is_granted('admin') or object.author == user.id", None, False),
        ("object.author == user.id", None, False),
        ("user.id == object.author", ALICE, Atom("author", "eq", "alice")),
        ("object.author != user.id", None, True),
        ("object.author != user.id", ALICE, Atom("author", "ne", "alice")),
        ("object.author in user.roles", None, False),
        ("object.author not in user.roles", None, True),
        ("object.author in user.roles", ADMIN, Atom("author", "in", ("admin",))),
        ("object.author in ['a', none]", None, Atom("author", "in", ("a", None))),
        ("object.author == none", ALICE, Atom("author", "eq", None)),
        ("is_authenticated()", None, False),
        ("is_authenticated()", ALICE, True),
        ("is_authenticated() and object.published", ALICE, Atom("published", "true")),
        ("is_authenticated() and object.published", None, False),
        ("not object.published", None, Negation(Atom("published", "true"))),
        ("not not object.published", None, Atom("published", "true")),
        (
            "object.rating == 1 and (object.score == 0 and object.published)",
            None,
            AllOf((Atom("rating", "eq", 1), Atom("score", "eq", 0), Atom("published", "true"))),
        ),
        (
            "object.rating == 1 or (object.rating == 3 or user.id == 'x')",
            ALICE,
            AnyOf((Atom("rating", "eq", 1), Atom("rating", "eq", 3))),
        ),
        ("user.id == none", None, False),
        ("user.id != none", None, True),
        ("user.id == none", ALICE, False),
        ("user.id in ['alice', none]", ALICE, True),
        ("user.id in ['alice', none]", None, False),
        ("user.id not in user.roles", None, True),
        ("'admin' in user.roles", ADMIN, True),
        ("user.id", None, False),
        ("user.roles", ALICE, False),
        ("user.roles", ADMIN, True),
        ("false", ADMIN, False),
        ("true", None, True),
        ("not is_granted('admin') and object.id == 2", ADMIN, False),
        ("not is_granted('admin') and object.id == 2", ALICE, Atom("id", "eq", 2)),
    ],
)
def test_residual(source: str, user: User | None, expected: Residual) -> None:
    assert residual(parse_read_rule(source), user) == expected


def holds(condition: Residual, item: Any) -> bool:
    """``condition`` evaluated on ``item`` with Python's comparisons."""
    if isinstance(condition, bool):
        return condition
    if isinstance(condition, AllOf):
        return all(holds(term, item) for term in condition.terms)
    if isinstance(condition, AnyOf):
        return any(holds(term, item) for term in condition.terms)
    if isinstance(condition, Negation):
        return not holds(condition.term, item)
    value = getattr(item, condition.field)
    match condition.operator:
        case "true":
            return bool(value)
        case "eq":
            return bool(value == condition.value)
        case "ne":
            return bool(value != condition.value)
        case "in":
            return value in condition.value
        case "notin":
            return value not in condition.value
    raise AssertionError(condition)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def evaluation_errors() -> Iterator[list[logging.LogRecord]]:
    """Collects what :meth:`Expression.allows` logs when an evaluation fails (and denies)."""
    handler = _Errors()
    logger = logging.getLogger("app.access.expression")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@examples(400)
@given(source=rule_sources, user=users, values=rows)
def test_residual_holds_exactly_when_the_rule_allows(
    source: str, user: User | None, values: list[dict[str, Any]]
) -> None:
    expression = parse_read_rule(source)
    condition = residual(expression, user)
    with evaluation_errors() as records:
        for item in items(values):
            assert holds(condition, item) == expression.allows(user, item), (source, item)
        assert records == []


@examples(200)
@given(source=rule_sources, user=users, values=rows)
def test_a_constant_residual_decides_every_item(
    source: str, user: User | None, values: list[dict[str, Any]]
) -> None:
    expression = parse_read_rule(source)
    condition = residual(expression, user)
    if isinstance(condition, bool):
        assert all(expression.allows(user, item) is condition for item in items(values))


@examples(100)
@given(source=rule_sources)
def test_a_rule_without_item_fields_has_a_constant_residual(source: str) -> None:
    expression = parse_read_rule(source)
    if not expression.reads_object:
        for user in (None, ALICE, ADMIN):
            assert isinstance(residual(expression, user), bool)


@examples(200)
@given(source=rule_sources, user=users, values=rows, data=st.data())
def test_a_constant_residual_decides_changes_too(
    source: str, user: User | None, values: list[dict[str, Any]], data: st.DataObject
) -> None:
    """Rules of put and patch read ``object`` and ``previous_object``; when the residual is
    constant, the guard decides without the items, so the sandbox must agree for any pair."""
    change = re.sub(
        r"\bobject\.",
        lambda _: data.draw(st.sampled_from(("object.", "previous_object."))),
        source,
    )
    expression = parse_expression(change, FIELDS, has_object=True, has_previous=True)
    condition = residual(expression, user)
    if isinstance(condition, bool):
        known = items(values)
        for item in known:
            for previous in known:
                assert expression.allows(user, item, previous) is condition, (change, user)


def test_residual_of_a_denied_rule_ignores_the_item() -> None:
    expression = parse_read_rule("is_granted('admin') and object.author == user.id")
    assert residual(expression, ALICE) is False
    assert not expression.allows(ALICE, SimpleNamespace(id=1, author="alice"))
