"""Field and relation rules: options that fit the type, defaults, access conflicts."""

from __future__ import annotations

from collections.abc import Callable

import pytest


def book(field: str) -> str:
    """A file whose Book has ``field`` as the line-3 field declaration."""
    return f"resources:\n  Book:\n    fields:\n      {field}\n"


CASES = [
    ("kind: {type: enum}", "4: enum field without choices at resources.Book.fields.kind; add"),
    (
        "n: {type: integer, max_length: 3}",
        "4: 'max_length' does not apply to type integer at resources.Book.fields.n.max_length; "
        "remove it, or use type string or text",
    ),
    ("t: {type: string, min: 1}", "4: 'min' does not apply to type string at"),
    ("b: {type: boolean, max: 1}", "4: 'max' does not apply to type boolean"),
    (
        "d: {type: date, max: 1}",
        "4: max 1 does not match type date at resources.Book.fields.d.max; "
        "use a date such as 2024-01-31",
    ),
    ("n: {type: integer, min: low}", "4: min 'low' does not match type integer"),
    ("n: {type: float, min: .inf}", "4: min inf does not match type float"),
    (
        "d: {type: date, min: 2024-02-01, max: 2024-01-01}",
        "4: min 2024-02-01 is greater than max 2024-01-01 at resources.Book.fields.d.min",
    ),
    (
        "d: {type: datetime, min: 2024-01-01T00:00:00Z, default: '2023-12-31T23:00:00'}",
        "4: default 2023-12-31T23:00:00 is outside min/max",
    ),
    (
        "p: {type: decimal, max: 5, default: '5.01'}",
        "4: default 5.01 is outside min/max",
    ),
    ("t: {type: string, precision: 4}", "4: 'precision' does not apply to type string"),
    ("t: {type: float, scale: 4}", "4: 'scale' does not apply to type float"),
    ("t: {type: string, choices: [a]}", "4: 'choices' does not apply to type string"),
    (
        "n: {type: integer, min: 5, max: 1}",
        "4: min 5 is greater than max 1 at resources.Book.fields.n.min; swap them",
    ),
    (
        "p: {type: decimal, precision: 4, scale: 6}",
        "4: scale 6 is greater than precision 4 at resources.Book.fields.p.scale",
    ),
    ("j: {type: json, unique: true}", "4: json fields cannot be unique at"),
    (
        "n: {type: integer, default: many}",
        "4: default 'many' does not match type integer at resources.Book.fields.n.default; "
        "use an integer",
    ),
    ("n: {type: integer, default: true}", "4: default True does not match type integer"),
    ("b: {type: boolean, default: 1}", "4: default 1 does not match type boolean"),
    ("f: {type: float, default: x}", "4: default 'x' does not match type float"),
    ("p: {type: decimal, default: abc}", "4: default 'abc' does not match type decimal"),
    ("d: {type: date, default: '2024-13-40'}", "4: default '2024-13-40' does not match type date"),
    (
        "d: {type: date, default: 2024-01-02T10:00:00}",
        "4: default datetime.datetime(2024, 1, 2, 10, 0) does not match type date",
    ),
    ("d: {type: datetime, default: soon}", "4: default 'soon' does not match type datetime"),
    ("u: {type: uuid, default: nope}", "4: default 'nope' does not match type uuid"),
    ("s: {type: string, default: 5}", "4: default 5 does not match type string"),
    (
        "s: {type: enum, choices: [draft, published], default: publshed}",
        "4: default 'publshed' is not a choice at resources.Book.fields.s.default; "
        "did you mean 'published'?",
    ),
    (
        "s: {type: string, max_length: 2, default: abc}",
        "4: default is longer than max_length 2",
    ),
    ("n: {type: integer, min: 0, max: 5, default: 6}", "4: default 6 is outside min/max"),
    (
        "s: {type: string, nullable: false, default: null}",
        "4: default is null but the field is not nullable at resources.Book.fields.s.default",
    ),
    ("s: {type: string, required: true, default: null}", "4: default is null but the field"),
    (
        "s: {type: string, read_only: true, write_only: true}",
        "4: read_only and write_only are both true at resources.Book.fields.s.write_only",
    ),
    (
        "s: {type: string, nullable: false, read_only: true}",
        "4: a read_only value that is never null needs a default at "
        "resources.Book.fields.s.nullable",
    ),
    (
        "s: {type: string, read_only: true, required: true}",
        "4: a read_only value cannot be required from clients at resources.Book.fields.s.required",
    ),
]


@pytest.mark.parametrize(("field", "expected"), CASES)
def test_field_rule(problems: Callable[..., list[str]], field: str, expected: str) -> None:
    found = problems(book(field))
    assert any(line.startswith(expected) for line in found), found


RELATION_CASES = [
    (
        "author: {target: Autor}",
        "5: unknown resource 'Autor' at resources.Book.relations.author.target; "
        "did you mean 'Author'?",
    ),
    (
        "author: {target: Author, required: true, on_delete: set_null}",
        "5: on_delete: set_null needs a nullable relation at "
        "resources.Book.relations.author.on_delete",
    ),
    (
        "author: {target: Author, read_only: true, write_only: true}",
        "5: read_only and write_only are both true",
    ),
    ("title: {target: Author}", "5: 'title' is both a field and a relation of Book"),
    (
        "author: {target: Listed}",
        "5: target Listed has no 'get' operation, so its IRIs cannot be resolved at "
        "resources.Book.relations.author.target; add 'get' to the operations of Listed",
    ),
    (
        "author: {target: Author, nullable: false, read_only: true}",
        "5: a read_only value that is never null needs a default at "
        "resources.Book.relations.author.nullable",
    ),
    (
        "title_: {target: Author}",
        "5: relation 'title_' needs the column 'title__id', which is already the column of "
        "field 'title__id'",
    ),
    (
        "favouriteAuthor: {target: Author}",
        "5: relation 'favouriteAuthor' needs the column 'favourite_author_id', which is "
        "already the column of field 'favouriteAuthorId'",
    ),
]


@pytest.mark.parametrize(("relation", "expected"), RELATION_CASES)
def test_relation_rule(problems: Callable[..., list[str]], relation: str, expected: str) -> None:
    text = (
        "resources:\n  Book:\n    fields: {title: string, title__id: integer,"
        " favouriteAuthorId: integer}\n"
        f"    relations:\n      {relation}\n  Author:\n    fields: {{name: string}}\n"
        "  Listed:\n    operations: [get_collection]\n"
    )
    found = problems(text)
    assert any(line.startswith(expected) for line in found), found


def test_one_problem_per_mistake(problems: Callable[..., list[str]]) -> None:
    found = problems(book("s: {type: string, read_only: true, required: true}"))
    assert len(found) == 1, found
