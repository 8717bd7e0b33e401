"""Spec fields map to portable columns with conventional names (table-driven)."""

from __future__ import annotations

import datetime
import decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateTable

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec
from app.models.columns import (
    DEFAULT_STRING_LENGTH,
    check_names,
    column_name,
    column_type,
    cyclic_relations,
    field_column,
    python_default,
    relation_column,
    simple_lower,
)


@pytest.mark.parametrize(
    ("attribute", "column"),
    [
        ("title", "title"),
        ("publicationDate", "publication_date"),
        ("isbn13Code", "isbn13_code"),
        ("already_snake", "already_snake"),
        ("HTTPStatus", "httpstatus"),
    ],
)
def test_column_name(attribute: str, column: str) -> None:
    assert column_name(attribute) == column


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (FieldSpec("a", "string"), sa.String(DEFAULT_STRING_LENGTH)),
        (FieldSpec("a", "string", max_length=20), sa.String(20)),
        (FieldSpec("a", "text"), sa.Text()),
        (FieldSpec("a", "integer"), sa.Integer()),
        (FieldSpec("a", "float"), sa.Float()),
        (FieldSpec("a", "decimal", precision=8, scale=3), sa.Numeric(8, 3)),
        (FieldSpec("a", "boolean"), sa.Boolean()),
        (FieldSpec("a", "date"), sa.Date()),
        (FieldSpec("a", "datetime"), sa.DateTime(timezone=True)),
        (FieldSpec("a", "uuid"), sa.Uuid()),
        (FieldSpec("a", "json"), sa.JSON()),
        (FieldSpec("a", "enum", choices=("s", "medium")), sa.String(6)),
    ],
)
def test_column_types(spec: FieldSpec, expected: sa.types.TypeEngine[object]) -> None:
    produced = column_type(spec)
    assert type(produced) is type(expected)
    assert repr(produced) == repr(expected)


def test_options_become_column_constraints() -> None:
    column = field_column(FieldSpec("isbnCode", "string", nullable=False, unique=True))
    assert (column.name, column.nullable, column.unique) == ("isbn_code", False, True)


def test_defaults_are_fresh_copies() -> None:
    make = python_default(FieldSpec("tags", "json", default={"a": []}))
    assert make is not None
    first, second = make(), make()
    assert first == second == {"a": []}
    assert first is not second
    assert python_default(FieldSpec("tags", "json")) is None


@pytest.mark.parametrize(
    ("fields", "relations", "message"),
    [
        ((FieldSpec("metadata", "string"),), (), "'metadata' is reserved"),
        ((FieldSpec("id", "integer"),), (), "'id' is reserved"),
        ((FieldSpec("fooBar", "string"), FieldSpec("foo_bar", "string")), (), "column 'foo_bar'"),
        ((FieldSpec("book_id", "integer"),), (RelationSpec("book", "Book"),), "column 'book_id'"),
        (
            (FieldSpec("favouriteBookId", "integer"),),
            (RelationSpec("favouriteBook", "Book"),),
            "column 'favourite_book_id'",
        ),
        (
            (FieldSpec("favourite_book_id", "integer"),),
            (RelationSpec("favouriteBook", "Book"),),
            "column 'favourite_book_id'",
        ),
    ],
)
def test_clashing_names_are_refused(
    fields: tuple[FieldSpec, ...], relations: tuple[RelationSpec, ...], message: str
) -> None:
    resource = ResourceSpec("Thing", "/things", "thing", fields=fields, relations=relations)
    with pytest.raises(ValueError, match=message):
        check_names(resource)


@pytest.mark.parametrize(
    ("spec", "sql"),
    [
        (FieldSpec("a", "string", default="it's"), "'it''s'"),
        (FieldSpec("a", "enum", choices=("x",), default="x"), "'x'"),
        (FieldSpec("a", "integer", default=-3), "-3"),
        (FieldSpec("a", "decimal", default=decimal.Decimal("1.50")), "1.50"),
        (FieldSpec("a", "boolean", default=False), "false"),
        (FieldSpec("a", "date", default=datetime.date(2024, 1, 2)), "'2024-01-02'"),
        (FieldSpec("a", "datetime", default=datetime.datetime(2024, 1, 2)), None),
        (FieldSpec("a", "json", default={"k": 1}), None),
        (FieldSpec("a", "string", default=None), None),
        (FieldSpec("a", "string"), None),
    ],
)
def test_server_defaults(spec: FieldSpec, sql: str | None) -> None:
    column = field_column(spec)
    table = sa.Table("t", sa.MetaData(), column)
    ddl = str(CreateTable(table).compile(dialect=postgresql.dialect()))
    if sql is None:
        assert "DEFAULT" not in ddl
    else:
        assert f"DEFAULT {sql}" in ddl


@pytest.mark.parametrize(
    ("relation", "column"),
    [("book", "book_id"), ("favouriteBook", "favourite_book_id"), ("next_part", "next_part_id")],
)
def test_relation_columns_are_named_as_fields(relation: str, column: str) -> None:
    assert relation_column(RelationSpec(relation, "Book")) == column


def _resource(name: str, *targets: str) -> ResourceSpec:
    relations = tuple(RelationSpec(f"to{target}", target) for target in targets)
    return ResourceSpec(name, f"/{name.lower()}s", name.lower(), relations=relations)


@pytest.mark.parametrize(
    ("resources", "cyclic"),
    [
        ((_resource("A", "B"), _resource("B")), set()),
        ((_resource("A", "A"),), set()),
        ((_resource("A", "B"), _resource("B", "A")), {("A", "toB"), ("B", "toA")}),
        (
            (_resource("A", "B", "D"), _resource("B", "C"), _resource("C", "A"), _resource("D")),
            {("A", "toB"), ("B", "toC"), ("C", "toA")},
        ),
    ],
)
def test_cyclic_relations(
    resources: tuple[ResourceSpec, ...], cyclic: set[tuple[str, str]]
) -> None:
    assert cyclic_relations(resources) == cyclic


@pytest.mark.parametrize(
    ("text", "lowered"),
    [
        (None, None),
        ("Война И Мир", "война и мир"),
        ("CRÈME BRÛLÉE", "crème brûlée"),
        ("ΟΔΟΣ", "οδοσ"),  # a capital sigma is never a final sigma, as in PostgreSQL
        ("İSTANBUL", "istanbul"),  # one character, not "i" plus a combining dot
        ("ISPANAK ıspanak", "ispanak ıspanak"),  # noqa: RUF001 (dotless i on purpose)
        ("STRAẞE", "straße"),
    ],
)
def test_simple_lower(text: str | None, lowered: str | None) -> None:
    assert simple_lower(text) == lowered
