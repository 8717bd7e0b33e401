"""The 3.0 form (for the packaged Swagger UI 4) is valid 3.0 and keeps the meaning."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV30SpecValidator

from app.openapi import build_document, downgrade
from app.openapi.legacy import downgrade_schema
from tests.openapi.specs import EVERYTHING


def test_downgraded_document_is_valid_openapi_30() -> None:
    original = build_document(EVERYTHING)
    legacy = downgrade(original)
    assert legacy["openapi"] == "3.0.3"
    OpenAPIV30SpecValidator(legacy).validate()
    assert original["openapi"] == "3.1.0", "the input must not be mutated"


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": ["string", "null"]}, {"type": "string", "nullable": True}),
        (
            {"type": ["string", "null"], "enum": ["a", None]},
            {"type": "string", "nullable": True, "enum": ["a"]},
        ),
        (
            {"type": ["string", "integer"]},
            {"anyOf": [{"type": "string"}, {"type": "integer"}]},
        ),
        ({"type": ["null"]}, {"nullable": True}),
        ({"type": "string", "examples": ["/a/1", "/a/2"]}, {"type": "string", "example": "/a/1"}),
        (
            {"properties": {"x": {"type": ["integer", "null"]}}},
            {"properties": {"x": {"type": "integer", "nullable": True}}},
        ),
        (
            {"allOf": [{"type": ["number", "null"]}], "items": {"examples": [1]}},
            {"allOf": [{"type": "number", "nullable": True}], "items": {"example": 1}},
        ),
        ({"$ref": "#/components/schemas/X"}, {"$ref": "#/components/schemas/X"}),
    ],
)
def test_downgrade_schema(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert downgrade_schema(schema) == expected
