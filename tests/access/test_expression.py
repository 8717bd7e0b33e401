"""The security language: what parses, what is refused (with a message saying what is
wrong), and how a checked expression judges anonymous users, users and admins."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest

from app.access.expression import Expression, ExpressionError, parse_expression
from app.access.user import User

FIELDS = {
    "id": "integer",
    "author": "string",
    "body": "text",
    "status": "enum",
    "rating": "integer",
    "price": "decimal",
    "score": "float",
    "published": "boolean",
    "day": "date",
    "at": "datetime",
    "ref": "uuid",
    "extra": "json",
}

ITEM = ("get", True, False)
COLLECTION = ("get_collection", False, False)
CHANGE = ("patch", True, True)
OPERATIONS = {"get": ITEM, "get_collection": COLLECTION, "post": ITEM, "patch": CHANGE}


def parse(source: str, operation: str = "get") -> Expression:
    _, has_object, has_previous = OPERATIONS[operation]
    return parse_expression(source, FIELDS, has_object=has_object, has_previous=has_previous)


@pytest.mark.parametrize(
    ("source", "operation", "fields"),
    [
        ("is_granted('admin')", "get_collection", set()),
        ("is_authenticated()", "get_collection", set()),
        ('is_granted("admin") or is_authenticated()', "get_collection", set()),
        ("user.id == 'alice'", "get_collection", set()),
        ("user.id in ['alice', 'bob', none]", "get_collection", set()),
        ("'admin' in user.roles", "get_collection", set()),
        ("'admin' not in user.roles", "get_collection", set()),
        ("user.id", "get_collection", set()),
        ("not (true or false) and none == none", "get_collection", set()),
        ("is_granted('admin') or object.author == user.id", "get", {"author"}),
        ("user.id == object.author", "get", {"author"}),
        ("object.author != user.id", "post", {"author"}),
        ("object.author in user.roles", "get", {"author"}),
        ("object.author not in ['a', none]", "get", {"author"}),
        ("object.body == 'x' and object.status in ('draft', 'done')", "get", {"body", "status"}),
        ("object.status == user.id", "get", {"status"}),
        ("object.published", "get", {"published"}),
        ("not object.published", "get", {"published"}),
        ("object.published == true or object.published == none", "get", {"published"}),
        ("object.rating == 3 or object.rating in [1, 2]", "get", {"rating"}),
        ("object.id == 1", "get", {"id"}),
        ("object.score == 0.5 or object.score == 1", "get", {"score"}),
        ("object.price == 10 or object.price == none", "get", {"price"}),
        ("object.day == none and object.at != none", "get", {"day", "at"}),
        ("object.ref == none or object.extra != none", "get", {"ref", "extra"}),
        ("previous_object.author == user.id", "patch", {"author"}),
        ("(((is_authenticated())))", "get", set()),
    ],
)
def test_accepted(source: str, operation: str, fields: set[str]) -> None:
    expression = parse(source, operation)
    assert expression.object_fields == fields
    assert expression.reads_object == bool(fields)
    assert expression.source == source


@pytest.mark.parametrize(
    ("source", "operation", "message"),
    [
        # items an operation does not have
        ("object.author == user.id", "get_collection", "this operation has no item"),
        ("object", "get_collection", "'object' exists only for item operations and post"),
        ("previous_object.author == user.id", "get", "'previous_object' exists only for put"),
        ("previous_object.author == user.id", "post", "'previous_object' exists only for put"),
        ("previous_object", "get_collection", "'previous_object' exists only for put"),
        # unknown names and fields
        ("object.nope == 1", "get", "'object.nope' is not a field; use one of: at, author"),
        ("previous_object.nope == 1", "patch", "'previous_object.nope' is not a field"),
        ("user.name == 'a'", "get", "'user.name' does not exist; use user.id or user.roles"),
        ("foo", "get", "'foo' cannot be used on its own"),
        ("objet.author == user.id", "get", "unknown name 'objet' in 'objet.author'"),
        ("config.items == 1", "get", "unknown name 'config' in 'config.items'"),
        ("config", "get", "'config' cannot be used on its own"),
        ("self", "get", "'self' cannot be used on its own"),
        ("user", "get", "'user' cannot be used on its own"),
        ("object", "get", "'object' cannot be used on its own"),
        # attribute escapes
        ("user.__class__", "get", "'user.__class__' does not exist"),
        ("user.id.__class__ == 1", "get", "'user.id.__class__' is not supported"),
        ("object.__dict__", "get", "'object.__dict__' is not a field"),
        ("object.__class__.__mro__", "get", "'object.__class__.__mro__' is not supported"),
        ("''.__class__.__mro__", "get", "'''.__class__.__mro__' is not supported"),
        ("().__class__.__bases__[0]", "get", "'getitem' is not supported"),
        ("user.roles.__len__()", "get", "unknown function in 'user.roles.__len__(...)'"),
        # functions
        ("lipsum()", "get", "unknown function in 'lipsum(...)'"),
        ("range(10)", "get", "unknown function in 'range(...)'"),
        ("cycler()", "get", "unknown function in 'cycler(...)'"),
        ("object.author.upper() == 'A'", "get", "unknown function in 'object.author.upper"),
        ("is_granted(role='admin')", "get", "unknown function in 'is_granted(...)'"),
        ("is_granted(*roles)", "get", "unknown function in 'is_granted(...)'"),
        ("is_granted('a', 'b')", "get", "'is_granted' is called as is_granted('<role>')"),
        ("is_granted()", "get", "'is_granted' is called as is_granted('<role>')"),
        ("is_granted(user.id)", "get", "is_granted takes a role name in quotes"),
        ("is_granted(1)", "get", "is_granted takes a role name in quotes"),
        ("is_authenticated(1)", "get", "'is_authenticated' is called as is_authenticated()"),
        ("user.id == is_authenticated()", "get", "is a condition, not a value"),
        # filters, tests, subscripts, arithmetic, other syntax
        ("object.author|lower == 'a'", "get", "'filter' is not supported"),
        ("user.id|attr('__class__')", "get", "'filter' is not supported"),
        ("object.author is none", "get", "'test' is not supported"),
        ("object['author'] == 'a'", "get", "'getitem' is not supported"),
        ("user.roles[0] == 'admin'", "get", "'getitem' is not supported"),
        ("user['id'] == 'a'", "get", "'getitem' is not supported"),
        ("object.rating + 1 == 2", "get", "'add' is not supported"),
        ("object.rating * 2 == 2", "get", "'mul' is not supported"),
        ("object.rating == -1", "get", "'neg' is not supported"),
        ("object.author ~ 'x' == 'ax'", "get", "'concat' is not supported"),
        ("'a' if true else 'b'", "get", "'condexpr' is not supported"),
        ("{'a': 1}", "get", "'dict' is not supported"),
        # comparisons
        ("object.rating < 3", "get", "comparisons are ==, !=, in and not in"),
        ("object.rating >= 3", "get", "comparisons are ==, !=, in and not in"),
        ("1 == 1 == 1", "get", "comparisons are ==, !=, in and not in between two operands"),
        ("object.author == object.body", "get", "both read the item"),
        ("object.author == previous_object.author", "patch", "both read the item"),
        ("object.author in 'abc'", "get", "'in' needs a list or user.roles on its right"),
        ("user.id in object.author", "get", "'in' needs a list or user.roles on its right"),
        ("object.author in [user.id]", "get", "lists hold literals only"),
        ("[object.author] == ['a']", "get", "a list goes on the right of 'in' or 'not in'"),
        ("object.author == ['a']", "get", "a list goes on the right of 'in' or 'not in'"),
        ("[1] == (1,)", "get", "a list goes on the right of 'in' or 'not in'"),
        ("['a'] in user.roles", "get", "a list goes on the right of 'in' or 'not in'"),
        ("user.roles == ['admin']", "get", "user.roles is a list: test a role with is_granted"),
        ("user.roles != []", "get", "user.roles is a list: test a role with is_granted"),
        ("object.author == user.roles", "get", "user.roles is a list"),
        ("user.roles in ['admin']", "get", "user.roles is a list"),
        # types
        ("object.author", "get", "'object.author' is string, not a condition; compare it"),
        ("object.rating or true", "get", "'object.rating' is integer, not a condition"),
        ("object.rating == 'x'", "get", "'x' cannot be compared with an integer field"),
        ("object.rating == 1.5", "get", "1.5 cannot be compared with an integer field"),
        ("object.rating == true", "get", "True cannot be compared with an integer field"),
        ("object.rating == user.id", "get", "user.id is text and cannot be compared with an"),
        ("object.rating in [1, 'a']", "get", "'a' cannot be compared with an integer field"),
        ("object.published == 1", "get", "1 cannot be compared with a boolean field"),
        ("object.author == 1", "get", "1 cannot be compared with a string field"),
        ("object.price == 0.1", "get", "compared with a decimal field, which compares with"),
        ("object.day == '2024-01-01'", "get", "with a date field, which compares with none"),
        ("object.at == '2024-01-01T00:00:00Z'", "get", "datetime field, which compares with"),
        ("object.ref == '6f1c'", "get", "with a uuid field, which compares with none only"),
        ("object.ref == user.id", "get", "user.id is text and cannot be compared with a uuid"),
        ("object.extra == 'a'", "get", "with a json field, which compares with none only"),
        # syntax
        ("", "get", "syntax error in '': unexpected 'end of template'"),
        ("is_granted('admin') and (", "get", "syntax error in"),
        ("is_granted('admin') is_authenticated()", "get", "syntax error in"),
        ("{{ user.id }}", "get", "syntax error in"),
        ("object.author == 1j", "get", "syntax error in"),
    ],
)
def test_refused(source: str, operation: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(source, operation)
    assert message in str(caught.value)


ANONYMOUS = None
ALICE = User("alice", ("reader",))
BOB = User("bob")
ADMIN = User("root", ("admin",))


def item(**values: object) -> SimpleNamespace:
    fields = dict.fromkeys(FIELDS)
    fields.update(id=1, **values)
    return SimpleNamespace(**fields)


ALICES = item(author="alice", published=True)
BOBS = item(author="bob", published=False)
NOBODYS = item(author=None)


@pytest.mark.parametrize(
    ("source", "allowed"),
    [
        (
            "is_granted('admin') or object.author == user.id",
            {
                (None, "alices"): False,
                (None, "nobodys"): False,
                ("alice", "alices"): True,
                ("alice", "bobs"): False,
                ("alice", "nobodys"): False,
                ("bob", "bobs"): True,
                ("root", "alices"): True,
                ("root", "nobodys"): True,
            },
        ),
        (
            "object.author != user.id",
            {(None, "alices"): True, (None, "nobodys"): True, ("alice", "alices"): False},
        ),
        (
            "object.published or is_granted('admin')",
            {(None, "alices"): True, (None, "bobs"): False, ("root", "bobs"): True},
        ),
        (
            "object.author in user.roles or 'reader' in user.roles",
            {(None, "alices"): False, ("alice", "bobs"): True, ("bob", "bobs"): False},
        ),
        (
            "object.author not in user.roles",
            {(None, "alices"): True, ("root", "nobodys"): True},
        ),
        (
            "user.id == none or object.author == none",
            {(None, "alices"): False, (None, "nobodys"): True, ("bob", "nobodys"): True},
        ),
        (
            "is_authenticated() and not is_granted('admin')",
            {(None, "alices"): False, ("bob", "alices"): True, ("root", "alices"): False},
        ),
    ],
)
def test_allows(source: str, allowed: dict[tuple[str | None, str], bool]) -> None:
    expression = parse(source)
    users = {None: ANONYMOUS, "alice": ALICE, "bob": BOB, "root": ADMIN}
    items = {"alices": ALICES, "bobs": BOBS, "nobodys": NOBODYS}
    for (user, name), expected in allowed.items():
        assert expression.allows(users[user], items[name]) is expected, (user, name)


def test_allows_previous_object() -> None:
    expression = parse_expression(
        "previous_object.author == user.id and object.author == user.id",
        FIELDS,
        has_object=True,
        has_previous=True,
    )
    assert expression.allows(ALICE, ALICES, previous=ALICES)
    assert not expression.allows(ALICE, BOBS, previous=ALICES)
    assert not expression.allows(ALICE, ALICES, previous=BOBS)
    assert not expression.allows(None, NOBODYS, previous=NOBODYS)


def test_allows_reads_model_values() -> None:
    expression = parse("object.day == none and object.score == 1 and object.price == 10")
    assert expression.allows(None, item(score=1.0, price=Decimal("10.00")))
    assert not expression.allows(None, item(day=datetime.date(2024, 1, 1), score=1.0))


def test_evaluation_errors_deny_and_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    expression = parse("object.author == 'a'")

    class Hostile:
        @property
        def author(self) -> str:
            raise RuntimeError("boom")

    assert expression.allows(ALICE, Hostile()) is False
    assert "security expression \"object.author == 'a'\" failed" in caplog.text


def test_expressions_compare_by_source() -> None:
    assert parse("is_authenticated()") == parse("is_authenticated()")
    assert parse("is_authenticated()") != parse("is_granted('admin')")
    assert hash(parse("is_authenticated()")) == hash(parse("is_authenticated()"))


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (" or ".join(["is_authenticated()"] * 60), "levels deep, more than 50"),
        ("not " * 120 + "true", "levels deep, more than 50"),
        ("[" * 3000, "nests too deeply"),
        ("(" * 200 + "true" + ")" * 200, "nests too deeply"),
        ("true or " * 600 + "true", "more than 4000"),
        ("object.rating == 99999999999999999999", "does not fit a 64-bit integer"),
        ("'yes'", "'yes' is not a condition"),
        ("none", "None is not a condition"),
    ],
)
def test_oversized_rules_are_refused_with_a_message(source: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse_expression(source, FIELDS, has_object=True, has_previous=False)
