"""Field, relation and resource schemas carry every declared option (table-driven)."""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import replace
from typing import Any

import pytest

from app.config.spec import FieldSpec, RelationSpec
from app.openapi.schema import field_schema, json_value, relation_schema, resource_schemas
from tests.openapi.specs import GADGET

TEXT = r"^[^\u0000]*$"
DATE_ALSO = (
    "Written as a date; an RFC 3339 date-time is also accepted, and its date (in its own "
    "offset) is stored, as API Platform does."
)
DATETIME_ALSO = "A date alone is also accepted, as midnight UTC."
"""Text fields refuse NUL characters (PostgreSQL cannot store them)."""

CASES: list[tuple[FieldSpec, dict[str, Any]]] = [
    (
        FieldSpec(name="f", type="string", nullable=False),
        {"type": "string", "pattern": TEXT, "maxLength": 255},
    ),
    (
        FieldSpec(name="f", type="string", max_length=12),
        {"type": ["string", "null"], "pattern": TEXT, "maxLength": 12},
    ),
    (FieldSpec(name="f", type="text", nullable=False), {"type": "string", "pattern": TEXT}),
    (
        FieldSpec(name="f", type="integer", nullable=False, minimum=0, maximum=5),
        {"type": "integer", "format": "int32", "minimum": 0, "maximum": 5},
    ),
    (
        FieldSpec(name="f", type="float", minimum=0.5),
        {"type": ["number", "null"], "format": "double", "minimum": 0.5},
    ),
    (
        FieldSpec(name="f", type="decimal", nullable=False),
        {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
    ),
    (
        FieldSpec(name="f", type="decimal", nullable=False, minimum=1, maximum=2),
        {
            "type": "string",
            "format": "decimal",
            "pattern": r"^-?\d+(\.\d+)?$",
            "description": "Must be at least 1 and at most 2.",
        },
    ),
    (FieldSpec(name="f", type="boolean", nullable=False), {"type": "boolean"}),
    (
        FieldSpec(name="f", type="date", nullable=False, minimum=86400.0),
        {
            "type": "string",
            "format": "date",
            "minLength": 10,
            "description": f"Must be at least 1970-01-02. {DATE_ALSO}",
        },
    ),
    (
        FieldSpec(name="f", type="datetime", maximum=0.0),
        {
            "type": ["string", "null"],
            "format": "date-time",
            "minLength": 10,
            "description": f"Must be at most 1970-01-01T00:00:00+00:00. {DATETIME_ALSO}",
        },
    ),
    (FieldSpec(name="f", type="uuid", nullable=False), {"type": "string", "format": "uuid"}),
    (FieldSpec(name="f", type="json"), {}),
    (
        FieldSpec(name="f", type="enum", choices=("a", "b"), nullable=False),
        {"type": "string", "enum": ["a", "b"]},
    ),
    (
        FieldSpec(name="f", type="enum", choices=("a", "b")),
        {"type": ["string", "null"], "enum": ["a", "b", None]},
    ),
    (
        FieldSpec(name="f", type="text", nullable=False, read_only=True, description="Shown."),
        {"type": "string", "pattern": TEXT, "readOnly": True, "description": "Shown."},
    ),
    (
        FieldSpec(name="f", type="text", nullable=False, write_only=True),
        {"type": "string", "pattern": TEXT, "writeOnly": True},
    ),
    (
        FieldSpec(name="f", type="date", nullable=False, default=dt.date(2024, 5, 1)),
        {
            "type": "string",
            "format": "date",
            "minLength": 10,
            "default": "2024-05-01",
            "description": DATE_ALSO,
        },
    ),
    (
        FieldSpec(name="f", type="json", default=None),
        {"default": None},
    ),
]


@pytest.mark.parametrize(("spec", "expected"), CASES)
def test_field_schema(spec: FieldSpec, expected: dict[str, Any]) -> None:
    assert field_schema(spec) == expected


@pytest.mark.parametrize(
    ("relation", "expected"),
    [
        (
            RelationSpec(name="book", target="Book", nullable=False),
            {
                "type": "string",
                "format": "iri-reference",
                "pattern": "^/books/[1-9][0-9]{0,8}$",
                "examples": ["/books/1"],
                "description": "IRI of a Book (/books/{id}).",
            },
        ),
        (
            RelationSpec(name="book", target="Book", read_only=True, description="The book."),
            {
                "type": ["string", "null"],
                "format": "iri-reference",
                "pattern": "^/books/[1-9][0-9]{0,8}$",
                "examples": ["/books/1"],
                "description": "The book.",
                "readOnly": True,
            },
        ),
    ],
)
def test_relation_schema(relation: RelationSpec, expected: dict[str, Any]) -> None:
    assert relation_schema(relation, "/books") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.date(2024, 1, 2), "2024-01-02"),
        (dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC), "2024-01-02T03:04:00+00:00"),
        (decimal.Decimal("1.50"), "1.50"),
        (("a", dt.date(2024, 1, 2)), ["a", "2024-01-02"]),
        ({"k": decimal.Decimal(1)}, {"k": "1"}),
        (3, 3),
    ],
)
def test_json_value(value: object, expected: object) -> None:
    assert json_value(value) == expected


def test_resource_schemas_names_and_required() -> None:
    schemas = resource_schemas(GADGET, {"Gadget": "/gadgets", "Owner": "/owners"})
    assert set(schemas) == {"Gadget", "Gadget.jsonld", "Gadget.jsonMergePatch"}
    plain = schemas["Gadget"]
    # Read-only "computed" is required in the spec but never sent by clients.
    assert plain["required"] == ["label", "owner"]
    assert plain["properties"]["id"] == {"type": "integer", "readOnly": True}
    assert plain["properties"]["secret"]["writeOnly"] is True
    assert plain["properties"]["backup"]["writeOnly"] is True
    assert plain["properties"]["owner"]["format"] == "iri-reference"
    assert "required" not in schemas["Gadget.jsonMergePatch"]
    assert schemas["Gadget.jsonMergePatch"]["properties"] == plain["properties"]
    ld = schemas["Gadget.jsonld"]["allOf"]
    assert ld[0] == {"$ref": "#/components/schemas/Gadget"}
    assert set(ld[1]["properties"]) == {"@context", "@id", "@type"}


def test_bodies_are_open_unless_the_resource_is_strict() -> None:
    routes = {"Gadget": "/gadgets", "Owner": "/owners"}
    lenient = resource_schemas(GADGET, routes)
    assert "additionalProperties" not in lenient["Gadget"]
    assert "additionalProperties" not in lenient["Gadget.jsonMergePatch"]
    strict = resource_schemas(replace(GADGET, allow_extra_attributes=False), routes)
    for name in ("Gadget", "Gadget.jsonMergePatch"):
        assert strict[name]["additionalProperties"] is False
        assert strict[name]["patternProperties"] == {"^@": {}}
