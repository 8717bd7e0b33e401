"""Collection query parameters use API Platform's names."""

from __future__ import annotations

from typing import Any

import pytest

from app.api.documents import search_template
from app.config.parameters import query_parameters
from app.config.spec import PaginationSpec, ResourceSpec
from app.openapi.parameters import filter_parameters, pagination_parameters
from tests.openapi.specs import GADGET, LOG, OWNER

INT32 = {"type": "integer", "format": "int32", "minimum": -(2**31), "maximum": 2**31 - 1}


def _by_name(parameters: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in parameters}


def test_filter_names_in_declaration_order() -> None:
    names = [p["name"] for p in filter_parameters(GADGET)]
    assert names == [
        "label",
        "label[]",
        "owner",
        "owner[]",
        "a_integer",
        "a_integer[]",
        "rank[between]",
        "rank[gt]",
        "rank[gte]",
        "rank[lt]",
        "rank[lte]",
        "weight[between]",
        "weight[gt]",
        "weight[gte]",
        "weight[lt]",
        "weight[lte]",
        "since[before]",
        "since[strictly_before]",
        "since[after]",
        "since[strictly_after]",
        "seen[before]",
        "seen[strictly_before]",
        "seen[after]",
        "seen[strictly_after]",
        "flag",
        "a_boolean",
        "exists[a_text]",
        "exists[backup]",
        "order[label]",
        "order[rank]",
    ]


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("label", {"type": "string", "pattern": r"^[^\u0000]*$"}),
        ("owner", {"type": "string", "format": "iri-reference"}),
        ("a_integer", INT32),
        ("a_integer[]", {"type": "array", "items": INT32}),
        ("rank[gt]", INT32),
        ("rank[between]", {"type": "string", "pattern": r"^-?[0-9]{1,9}\.\.-?[0-9]{1,9}$"}),
        ("weight[gt]", {"type": "number"}),
        ("since[after]", {"type": "string", "format": "date"}),
        ("seen[strictly_before]", {"type": "string", "format": "date-time"}),
        ("flag", {"type": "boolean"}),
        ("exists[backup]", {"type": "boolean"}),
        ("order[rank]", {"type": "string", "enum": ["asc", "desc"]}),
    ],
)
def test_filter_schemas(name: str, schema: dict[str, Any]) -> None:
    parameter = _by_name(filter_parameters(GADGET))[name]
    assert parameter["in"] == "query"
    assert parameter["required"] is False
    assert parameter["schema"] == schema


def test_array_search_parameters_explode() -> None:
    parameter = _by_name(filter_parameters(GADGET))["label[]"]
    assert (parameter["style"], parameter["explode"]) == ("form", True)


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            GADGET,
            {
                "page": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": 1},
                # Larger numbers are capped at the resource's maximum (50), as API Platform.
                "itemsPerPage": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 2**31 - 1,
                    "default": 10,
                },
            },
        ),
        (OWNER, {}),
        (LOG, {"page": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "default": 1}}),
    ],
)
def test_pagination_parameters(resource: ResourceSpec, expected: dict[str, Any]) -> None:
    assert {p["name"]: p["schema"] for p in pagination_parameters(resource)} == expected


def test_defaults_give_page_and_items_per_page() -> None:
    resource = ResourceSpec(name="X", route="/xs", table="xs", pagination=PaginationSpec())
    names = [p["name"] for p in pagination_parameters(resource)]
    assert names == ["page", "itemsPerPage"]
    assert filter_parameters(resource) == []


def test_the_openapi_parameters_and_the_hydra_template_name_the_same_parameters() -> None:
    """Both read :func:`app.config.parameters.query_parameters`: the OpenAPI document and
    the collection's Hydra search template offer exactly the same parameters, in order."""
    declared = [p.name for p in query_parameters(GADGET)]
    template = search_template(GADGET)
    assert template is not None
    assert [m["variable"] for m in template["mapping"]] == declared
    assert [p["name"] for p in filter_parameters(GADGET)] == declared
