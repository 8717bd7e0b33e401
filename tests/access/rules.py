"""Random rules, users and items for the property tests of :mod:`app.access`.

Rules are written in the security language itself (sources parsed by
:func:`~app.access.expression.parse_expression`), over the fields of :data:`FIELDS`, so
the tests exercise the parser, the sandbox and the partial evaluator on the same text.
Value pools are small on purpose: equal values, ``None`` and near misses (case, trailing
space) come up often.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from app.access.expression import Expression, parse_expression
from app.access.user import User


def examples(count: int) -> settings:
    """Hypothesis settings of a property test: ``count`` examples, no deadline (no timed
    assertions), no example database written into the working tree."""
    return settings(max_examples=count, deadline=None, database=None)


FIELDS = {
    "id": "integer",
    "author": "string",
    "editor": "string",
    "published": "boolean",
    "rating": "integer",
    "score": "float",
    "day": "date",
}
"""The item's readable fields and their types, as the config loader passes them."""

RESOURCE_YAML = """
resources:
  Item:
    fields:
      author: {type: string, nullable: true}
      editor: {type: string, nullable: true}
      published: {type: boolean, nullable: true}
      rating: {type: integer, nullable: true}
      score: {type: float, nullable: true}
      day: {type: date, nullable: true}
"""
"""A resource whose model stores the fields of :data:`FIELDS`."""

NAMES = ("alice", "bob", "Alice", "alice ", "zoë")
ROLES = ("admin", "editor", "alice")
TEXT_FIELDS = ("author", "editor")
RATINGS = (0, 1, 3)
SCORES = (0.0, -0.0, 0.5, 1.0)
DAYS = (datetime.date(2024, 1, 1), datetime.date(2025, 6, 30))

names = st.sampled_from(NAMES)
users: st.SearchStrategy[User | None] = st.none() | st.builds(
    User,
    id=names,
    roles=st.lists(st.sampled_from(ROLES), unique=True, max_size=3).map(tuple),
)
"""Anonymous (``None``) or a user with an id and some roles (a role may equal an id)."""


def row_values() -> st.SearchStrategy[dict[str, Any]]:
    """The stored fields of one item, any of them null."""
    return st.fixed_dictionaries(
        {
            "author": st.none() | names,
            "editor": st.none() | names,
            "published": st.none() | st.booleans(),
            "rating": st.none() | st.sampled_from(RATINGS),
            "score": st.none() | st.sampled_from(SCORES),
            "day": st.none() | st.sampled_from(DAYS),
        }
    )


rows = st.lists(row_values(), max_size=6)


def items(values: list[dict[str, Any]]) -> list[SimpleNamespace]:
    """In-memory items with ids 1..n, as the sandbox reads a loaded row."""
    return [SimpleNamespace(id=index, **value) for index, value in enumerate(values, 1)]


def text(value: str) -> str:
    return f"'{value}'"


def number(value: float) -> str:
    return repr(value)


def _list(values: list[str]) -> str:
    return "[" + ", ".join(values) + "]"


text_literal = names.map(text)
text_or_none = text_literal | st.just("none")
equality = st.sampled_from(("==", "!="))
membership = st.sampled_from(("in", "not in"))


@st.composite
def _compare(draw: st.DrawFn, left: str, right: st.SearchStrategy[str]) -> str:
    """``left <op> right`` for == and !=, either way round."""
    operator, value = draw(equality), draw(right)
    return draw(st.sampled_from((f"{left} {operator} {value}", f"{value} {operator} {left}")))


def _field_leaves() -> st.SearchStrategy[str]:
    text_field = st.sampled_from(TEXT_FIELDS).map(lambda name: f"object.{name}")
    text_lists = st.lists(text_or_none, max_size=3).map(_list) | st.just("user.roles")
    rating_literal = st.sampled_from(RATINGS).map(number) | st.just("none")
    score_literal = st.sampled_from((0, 1, 0.5)).map(number) | st.just("none")
    return st.one_of(
        text_field.flatmap(lambda f: _compare(f, text_or_none | st.just("user.id"))),
        st.tuples(text_field, membership, text_lists).map(" ".join),
        st.just("object.published"),
        _compare("object.published", st.sampled_from(("true", "false", "none"))),
        _compare("object.rating", rating_literal),
        st.tuples(
            st.just("object.rating"), membership, st.lists(rating_literal, max_size=3).map(_list)
        ).map(" ".join),
        _compare("object.score", score_literal),
        _compare("object.day", st.just("none")),
        _compare("object.id", st.sampled_from(("1", "2"))),
        st.tuples(st.just("object.id"), membership, st.just("[1, 3]")).map(" ".join),
    )


def _user_leaves() -> st.SearchStrategy[str]:
    role = st.sampled_from(ROLES)
    return st.one_of(
        role.map(lambda r: f"is_granted('{r}')"),
        st.just("is_authenticated()"),
        _compare("user.id", text_or_none),
        st.tuples(
            st.just("user.id"), membership, st.lists(text_or_none, max_size=3).map(_list)
        ).map(" ".join),
        st.tuples(role.map(text), membership, st.just("user.roles")).map(" ".join),
        st.just("user.id in user.roles"),
        st.sampled_from(("user.id", "user.roles", "true", "false")),
    )


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(children, children).map(lambda pair: f"({pair[0]}) and ({pair[1]})"),
        st.tuples(children, children).map(lambda pair: f"({pair[0]}) or ({pair[1]})"),
        children.map(lambda child: f"not ({child})"),
    )


rule_sources = st.recursive(_field_leaves() | _user_leaves(), _combine, max_leaves=6)
"""Sources of read rules built from the whole language."""


def parse_read_rule(source: str) -> Expression:
    """``source`` checked as the rule of ``get``."""
    return parse_expression(source, FIELDS, has_object=True, has_previous=False)


# Read rules of the shape audience topics can express: an ``or`` of terms, each ``and``-ing
# conditions on the user with at most one ``object.<field> == <value>``.
_audience_equality = st.one_of(
    st.sampled_from(TEXT_FIELDS).flatmap(
        lambda name: st.sampled_from((f"object.{name} == {{}}", f"{{}} == object.{name}")).flatmap(
            lambda form: (text_or_none | st.just("user.id")).map(form.format)
        )
    ),
    st.just("object.published"),
    st.sampled_from(("true", "false", "none")).map(lambda v: f"object.published == {v}"),
    st.sampled_from(RATINGS).map(lambda v: f"object.rating == {v}"),
    st.sampled_from((0, 1, 0.5)).map(lambda v: f"object.score == {v!r}"),
    st.just("object.day == none"),
    st.sampled_from((1, 2)).map(lambda v: f"object.id == {v}"),
)


@st.composite
def _audience_term(draw: st.DrawFn) -> str:
    conditions = draw(st.lists(st.recursive(_user_leaves(), _combine, max_leaves=3), max_size=2))
    if draw(st.booleans()):
        conditions.append(draw(_audience_equality))
    if not conditions:
        conditions.append(draw(_audience_equality))
    order = draw(st.permutations(conditions))
    return " and ".join(f"({condition})" for condition in order)


audience_rule_sources = st.lists(_audience_term(), min_size=1, max_size=3).map(
    lambda terms: " or ".join(f"({term})" for term in terms)
)
"""Sources of read rules that :func:`~app.access.audience.check_audience` accepts."""
