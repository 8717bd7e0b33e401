"""The generated document is valid OpenAPI 3.1 and describes exactly the spec's API."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from app.config.spec import ResourcesSpec
from app.openapi import build_document
from tests.openapi.specs import EVERYTHING

ALL = ("get", "put", "patch", "delete", "post")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document(EVERYTHING)


def test_document_passes_the_openapi_31_validator(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_validator_rejects_a_broken_document(document: dict[str, Any]) -> None:
    broken = dict(document, paths={"/gadgets": {"get": {"responses": "nope"}}})
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_empty_spec_gives_a_valid_document() -> None:
    document = build_document(ResourcesSpec(resources=()))
    validate(document)
    assert document["paths"] == {}


def test_info_comes_from_the_spec(document: dict[str, Any]) -> None:
    assert document["info"] == {
        "title": "Gadget shop",
        "version": "2.3.4",
        "description": "Test API.",
    }
    assert [tag["name"] for tag in document["tags"]] == ["Gadget", "Owner", "LogEntry"]


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/gadgets", {"get", "post"}),
        ("/gadgets/{id}", {"get", "put", "patch", "delete"}),
        ("/owners", {"get"}),
        ("/owners/{id}", {"get"}),
        ("/log_entries", {"post"}),
        ("/log_entries/{id}", {"delete"}),
    ],
)
def test_paths_carry_only_enabled_operations(
    document: dict[str, Any], path: str, methods: set[str]
) -> None:
    assert {m for m in document["paths"][path] if m in ALL} == methods


def test_paths_are_exactly_the_resource_routes(document: dict[str, Any]) -> None:
    assert list(document["paths"]) == [
        "/gadgets",
        "/gadgets/{id}",
        "/owners",
        "/owners/{id}",
        "/log_entries",
        "/log_entries/{id}",
    ]


def test_item_paths_take_an_integer_id(document: dict[str, Any]) -> None:
    (parameter,) = document["paths"]["/gadgets/{id}"]["parameters"]
    assert parameter["in"] == "path"
    assert parameter["required"] is True
    assert parameter["schema"] == {"type": "integer"}


@pytest.mark.parametrize(
    ("path", "method", "statuses"),
    [
        ("/gadgets", "get", {"200", "400", "406", "503"}),
        ("/gadgets", "post", {"201", "400", "406", "409", "413", "415", "422", "503"}),
        ("/gadgets/{id}", "get", {"200", "404", "406", "503"}),
        ("/gadgets/{id}", "put", {"200", "400", "404", "406", "409", "413", "415", "422", "503"}),
        (
            "/gadgets/{id}",
            "patch",
            {"200", "400", "404", "406", "409", "413", "415", "422", "503"},
        ),
        ("/gadgets/{id}", "delete", {"204", "404", "409", "503"}),
    ],
)
def test_responses_per_operation(
    document: dict[str, Any], path: str, method: str, statuses: set[str]
) -> None:
    assert set(document["paths"][path][method]["responses"]) == statuses


@pytest.mark.parametrize(
    ("method", "media_types", "schema"),
    [
        ("post", {"application/ld+json", "application/json"}, "Gadget.jsonld"),
        ("put", {"application/ld+json", "application/json"}, "Gadget.jsonld"),
        ("patch", {"application/merge-patch+json"}, "Gadget.jsonMergePatch"),
    ],
)
def test_request_bodies(
    document: dict[str, Any], method: str, media_types: set[str], schema: str
) -> None:
    path = "/gadgets" if method == "post" else "/gadgets/{id}"
    body = document["paths"][path][method]["requestBody"]
    assert body["required"] is True
    assert set(body["content"]) == media_types
    first = next(iter(body["content"].values()))
    assert first["schema"] == {"$ref": f"#/components/schemas/{schema}"}


def test_created_response_has_location_and_both_media_types(document: dict[str, Any]) -> None:
    created = document["paths"]["/gadgets"]["post"]["responses"]["201"]
    assert "Location" in created["headers"]
    assert created["content"]["application/ld+json"]["schema"] == {
        "$ref": "#/components/schemas/Gadget.jsonld"
    }
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Gadget"
    }


def test_collection_schema_is_jsonld_collection(document: dict[str, Any]) -> None:
    content = document["paths"]["/gadgets"]["get"]["responses"]["200"]["content"]
    ref = content["application/ld+json"]["schema"]["$ref"]
    collection = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    properties = collection["properties"]
    assert {"@context", "@id", "@type", "member", "totalItems", "view"} <= set(properties)
    assert properties["member"]["items"] == {"$ref": "#/components/schemas/Gadget.jsonld"}
    view = document["components"]["schemas"]["CollectionView"]["properties"]
    assert {"first", "last", "previous", "next"} <= set(view)
    assert content["application/json"]["schema"]["type"] == "array"


@pytest.mark.parametrize(
    ("status", "schema"),
    [
        ("400", "Error"),
        ("404", "Error"),
        ("406", "Error"),
        ("409", "Error"),
        ("413", "Error"),
        ("415", "Error"),
        ("422", "ConstraintViolation"),
        ("503", "Error"),
    ],
)
def test_errors_are_problem_json(document: dict[str, Any], status: str, schema: str) -> None:
    ref = document["paths"]["/gadgets/{id}"]["put"]["responses"][status]["$ref"]
    response = document["components"]["responses"][ref.rsplit("/", 1)[1]]
    assert response["content"]["application/problem+json"]["schema"] == {
        "$ref": f"#/components/schemas/{schema}"
    }


def test_problem_schemas_have_the_error_body_fields(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["Error"]["required"]) == {"type", "title", "status", "detail"}
    extra = schemas["ConstraintViolation"]["allOf"][1]
    item = extra["properties"]["violations"]["items"]
    assert set(item["required"]) == {"propertyPath", "message"}


def test_document_is_deterministic() -> None:
    assert build_document(EVERYTHING) == build_document(EVERYTHING)
