"""load_resources: the shipped bookshop, defaults, every field type and option, $env."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from app.config import ConfigError, ResourcesSpec, load_resources
from app.config.spec import MISSING, FieldSpec, MercureSpec, PaginationSpec

ROOT = Path(__file__).resolve().parents[2]
Load = Callable[..., ResourcesSpec]


def test_shipped_bookshop_loads() -> None:
    spec = load_resources(ROOT / "resources.yaml", {})
    book, review = spec.resource("Book"), spec.resource("Review")
    assert [r.name for r in spec.resources] == ["Book", "Review"]
    assert (book.route, review.route) == ("/books", "/reviews")
    assert {"isbn", "title", "description", "author", "publicationDate"} <= {
        f.name for f in book.fields
    }
    assert {"rating", "body", "author", "publicationDate"} <= {f.name for f in review.fields}
    rating = review.field("rating")
    assert rating is not None
    assert (rating.type, rating.minimum, rating.maximum) == ("integer", 0, 5)
    relation = review.relation("book")
    assert relation is not None
    assert (relation.target, relation.required, relation.nullable) == ("Book", True, False)
    assert book.mercure == MercureSpec(enabled=True)
    assert review.mercure == MercureSpec(enabled=True, private=True)
    for resource in spec.resources:
        assert set(resource.operations) == {
            "get_collection",
            "post",
            "get",
            "put",
            "patch",
            "delete",
        }
    filters = [book.filters, review.filters]
    assert all(
        any(getattr(f, kind) for f in filters)
        for kind in ("search", "range", "date", "boolean", "exists")
    )


def test_defaults(load: Load) -> None:
    spec = load(
        """
        resources:
          Category:
            fields: {name: string}
          BookReview:
            fields:
              score: {type: integer, required: true}
            relations:
              category: {target: Category}
        """
    )
    category, review = spec.resources
    assert spec.api.title == "mercure-gateway"
    assert (category.route, category.table) == ("/categories", "category")
    assert (review.route, review.table) == ("/book_reviews", "book_review")
    assert category.fields == (FieldSpec(name="name", type="string"),)
    score = review.field("score")
    assert score is not None
    assert (score.required, score.nullable) == (True, False)
    relation = review.relation("category")
    assert relation is not None
    assert (relation.nullable, relation.on_delete) == (True, "restrict")
    assert category.operations == ("get_collection", "post", "get", "put", "patch", "delete")
    assert category.pagination == PaginationSpec()
    assert category.order.default == (("id", "asc"),)
    assert category.mercure == MercureSpec(enabled=False)


def test_resource_options(load: Load) -> None:
    spec = load(
        """
        api: {title: Shop, version: '2.1', description: All of it}
        resources:
          Book:
            route: /library/books
            table: library_book
            description: Books
            fields: {title: string, rating: integer, published: boolean}
            operations: [get, get_collection]
            pagination:
              enabled: false
              items_per_page: 5
              maximum_items_per_page: 10
              client_items_per_page: false
            filters:
              search: {title: iend}
              range: [rating]
              boolean: [published]
              exists: [title]
            order: {fields: [title, rating], default: {rating: desc, title: asc}}
            mercure:
              private: true
              topics: ['/books/{id}', '@iri']
              data: '{"changed": true}'
              id: book-update
              type: book
              retry: 1000
              hub: main
              normalization_groups: []
              include_type: true
        """
    )
    assert (spec.api.title, spec.api.version, spec.api.description) == ("Shop", "2.1", "All of it")
    book = spec.resource("Book")
    assert (book.route, book.table, book.description) == ("/library/books", "library_book", "Books")
    assert book.operations == ("get", "get_collection")
    assert book.pagination == PaginationSpec(False, 5, 10, False)
    assert book.filters.search == (("title", "iend"),)
    assert (book.filters.range, book.filters.boolean) == (("rating",), ("published",))
    assert book.filters.exists == ("title",)
    assert book.order.fields == ("title", "rating")
    assert book.order.default == (("rating", "desc"), ("title", "asc"))
    assert book.mercure == MercureSpec(
        enabled=True,
        private=True,
        topics=("/books/{id}", "@iri"),
        data='{"changed": true}',
        id="book-update",
        type="book",
        retry=1000,
        hub="main",
        include_type=True,
    )


FIELD_CASES = [
    ("string", "{type: string, default: x, max_length: 3}", {"default": "x", "max_length": 3}),
    ("text", "{type: text, default: long}", {"default": "long"}),
    (
        "integer",
        "{type: integer, min: -1, max: 9, default: 3}",
        {"default": 3, "minimum": -1.0, "maximum": 9.0},
    ),
    ("float", "{type: float, min: 0.5, default: 1}", {"default": 1.0, "minimum": 0.5}),
    (
        "decimal",
        "{type: decimal, precision: 6, scale: 3, default: 9.99, max: 100}",
        {"default": decimal.Decimal("9.99"), "precision": 6, "scale": 3, "maximum": 100.0},
    ),
    ("decimal", "{type: decimal, default: '1.10'}", {"default": decimal.Decimal("1.10")}),
    ("boolean", "{type: boolean, default: false}", {"default": False}),
    (
        "date",
        "{type: date, min: 2024-01-01, max: '2024-12-31'}",
        {"minimum": 1704067200.0, "maximum": 1735603200.0},
    ),
    (
        "datetime",
        "{type: datetime, min: 2024-01-01T01:00:00+01:00, max: '2024-01-02T00:00:00'}",
        {"minimum": 1704067200.0, "maximum": 1704153600.0},
    ),
    ("date", "{type: date, default: 2024-01-31}", {"default": datetime.date(2024, 1, 31)}),
    ("date", "{type: date, default: '2024-01-31'}", {"default": datetime.date(2024, 1, 31)}),
    (
        "datetime",
        "{type: datetime, default: 2024-01-31T12:00:00Z}",
        {"default": datetime.datetime(2024, 1, 31, 12, tzinfo=datetime.UTC)},
    ),
    (
        "datetime",
        "{type: datetime, default: '2024-01-31T12:00:00'}",
        {"default": datetime.datetime(2024, 1, 31, 12)},
    ),
    (
        "uuid",
        "{type: uuid, default: 12345678-1234-5678-1234-567812345678}",
        {"default": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    ),
    ("json", "{type: json, default: {a: [1, 2]}}", {"default": {"a": [1, 2]}}),
    (
        "enum",
        "{type: enum, choices: [draft, live], default: live}",
        {"default": "live", "choices": ("draft", "live")},
    ),
    (
        "string",
        "{type: string, required: true, nullable: true, unique: true, read_only: false,"
        " write_only: true, groups: [a, b], description: Title}",
        {
            "required": True,
            "nullable": True,
            "unique": True,
            "write_only": True,
            "groups": ("a", "b"),
            "description": "Title",
        },
    ),
    ("string", "{type: string, read_only: true}", {"read_only": True}),
    ("text", "{type: text, default: null}", {"default": None}),
    ("integer", "integer", {}),
]


@pytest.mark.parametrize(("field_type", "declaration", "expected"), FIELD_CASES)
def test_field_types_and_options(
    load: Load, field_type: str, declaration: str, expected: dict[str, object]
) -> None:
    spec = load(f"resources:\n  Thing:\n    fields:\n      value: {declaration}\n")
    field = spec.resource("Thing").field("value")
    assert field == FieldSpec(name="value", type=field_type, **expected)  # type: ignore[arg-type]
    assert field.has_default == ("default" in expected)


def test_field_without_default_has_missing(load: Load) -> None:
    field = load("resources:\n  Thing:\n    fields: {value: string}\n").resources[0].fields[0]
    assert field.default is MISSING


def test_env_indirection_converts_to_the_expected_type(load: Load) -> None:
    spec = load(
        """
        api:
          title: {$env: SHOP_TITLE}
        resources:
          Book:
            fields:
              rating: {type: integer, default: {$env: SHOP_RATING}, min: {$env: SHOP_MIN}}
              price: {type: decimal, default: {$env: SHOP_PRICE}}
              live: {type: boolean, default: {$env: SHOP_LIVE}}
            pagination: {items_per_page: {$env: SHOP_PAGE}, enabled: {$env: SHOP_PAGING}}
            mercure:
              hub: {$env: SHOP_HUB}
              topics: [{$env: SHOP_TOPIC}]
        """,
        {
            "SHOP_TITLE": "Shop",
            "SHOP_RATING": "4",
            "SHOP_MIN": "0.5",
            "SHOP_PRICE": "9.99",
            "SHOP_LIVE": "true",
            "SHOP_PAGE": "7",
            "SHOP_PAGING": "0",
            "SHOP_HUB": "main",
            "SHOP_TOPIC": "/books/{id}",
        },
    )
    book = spec.resource("Book")
    assert spec.api.title == "Shop"
    assert [(f.default, f.minimum) for f in book.fields] == [
        (4, 0.5),
        (decimal.Decimal("9.99"), None),
        (True, None),
    ]
    assert (book.pagination.items_per_page, book.pagination.enabled) == (7, False)
    assert (book.mercure.hub, book.mercure.topics) == ("main", ("/books/{id}",))


def test_env_value_of_wrong_type_names_the_variable(problems: Callable[..., list[str]]) -> None:
    found = problems(
        "resources:\n  Book:\n    fields:\n      n: {type: integer, default: {$env: N}}\n",
        {"N": "many"},
    )
    assert found == [
        "4: default 'many' does not match type integer at resources.Book.fields.n.default; "
        "use an integer"
    ]


def test_environment_defaults_to_the_process_environment(
    write: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_TEST_TITLE", "From env")
    path = write("api: {title: {$env: CONFIG_TEST_TITLE}}\nresources:\n  Book: {}\n")
    assert load_resources(str(path)).api.title == "From env"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.yaml:1: file not found; create it"):
        load_resources(tmp_path / "nope.yaml")


def test_anchors_and_merge_keys(load: Load) -> None:
    spec = load(
        """
        resources:
          Book:
            fields:
              isbn: &short {type: string, max_length: 10}
              code:
                <<: *short
                unique: true
        """
    )
    code = spec.resource("Book").field("code")
    assert code is not None
    assert (code.type, code.max_length, code.unique) == ("string", 10, True)


def test_empty_values_count_as_empty_mappings(load: Load) -> None:
    spec = load("api:\nresources:\n  Book:\n    relations:\n    fields:\n      t: string\n")
    book = spec.resource("Book")
    assert (book.relations, [f.name for f in book.fields]) == ((), ["t"])
