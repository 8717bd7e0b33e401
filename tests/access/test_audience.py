"""Audience topics: a user's granted topics meet an item's topics exactly when the read rule
lets the user read the item; read rules of other shapes are refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from app.access.audience import (
    audience_fields,
    audience_topic,
    check_audience,
    grants,
    item_audiences,
)
from app.access.expression import ExpressionError
from app.access.user import User
from tests.access.rules import (
    audience_rule_sources,
    examples,
    items,
    parse_read_rule,
    rows,
    users,
)

BASE = "https://shop.example/auth/mercure/audiences/items"
SHAPE = "must be an 'or' of terms that depend on the user alone"


@examples(500)
@given(source=audience_rule_sources, user=users, values=rows)
def test_topics_meet_exactly_when_the_rule_allows(
    source: str, user: User | None, values: list[dict[str, Any]]
) -> None:
    expression = parse_read_rule(source)
    check_audience(expression)
    granted = set(grants(expression, user, BASE))
    for item in items(values):
        topics = set(item_audiences(audience_fields(expression), item, BASE))
        assert bool(granted & topics) == expression.allows(user, item), (source, item, granted)


@pytest.mark.parametrize(
    ("source", "user", "expected"),
    [
        ("is_granted('admin') or object.author == user.id", User("root", ("admin",)), [BASE]),
        (
            "is_granted('admin') or object.author == user.id",
            User("alice"),
            [f"{BASE}/author/%22alice%22"],
        ),
        ("is_granted('admin') or object.author == user.id", None, []),
        ("object.published", None, [f"{BASE}/published/true"]),
        ("object.author == none", None, [f"{BASE}/author/null"]),
        (
            "object.author == user.id or object.editor == user.id",
            User("zoë"),
            [f"{BASE}/author/%22zo%5Cu00eb%22", f"{BASE}/editor/%22zo%5Cu00eb%22"],
        ),
        ("is_authenticated() and object.rating == 3", User("bob"), [f"{BASE}/rating/3"]),
    ],
)
def test_grants(source: str, user: User | None, expected: list[str]) -> None:
    assert grants(parse_read_rule(source), user, BASE) == expected


def test_fields_of_a_rule_in_order_without_repeats() -> None:
    expression = parse_read_rule(
        "object.editor == user.id or object.author == 'x' or object.editor == none"
    )
    assert audience_fields(expression) == ("editor", "author")


def test_topic_value_is_percent_encoded_json() -> None:
    assert audience_topic(BASE, "author", "a/b c") == f"{BASE}/author/%22a%2Fb%20c%22"


@pytest.mark.parametrize(
    "source",
    [
        "object.author != user.id",
        "object.author in ['a', 'b']",
        "object.author in user.roles",
        "not object.published",
        "not (object.author == user.id)",
        "object.author == user.id and object.editor == user.id",
        "object.author == user.id and object.published",
        "is_granted('admin') and (object.author == user.id or object.editor == user.id)",
        "object.rating != 3 or is_granted('admin')",
        "object.author not in user.roles",
        "is_authenticated() and not (object.author == user.id)",
    ],
)
def test_other_shapes_are_refused(source: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        check_audience(parse_read_rule(source))
    message = str(caught.value)
    assert SHAPE in message
    assert repr(source) in message
