"""Query parameters of a collection operation, named as API Platform names them.

Pagination: ``page`` and (when clients may choose) ``itemsPerPage``. Filters:
search ``title`` and ``title[]``; range ``rating[gt]`` / ``[gte]`` / ``[lt]`` / ``[lte]`` /
``[between]``; date ``publicationDate[before]`` / ``[strictly_before]`` / ``[after]`` /
``[strictly_after]``; boolean ``isAvailable``; exists ``exists[description]``; ordering
``order[title]``. Pure functions; the order of the result is stable (declaration order).
"""

from __future__ import annotations

from typing import Any

from app.config.spec import FieldType, ResourceSpec

Parameter = dict[str, Any]

RANGE_OPERATORS: tuple[str, ...] = ("between", "gt", "gte", "lt", "lte")
DATE_OPERATORS: tuple[str, ...] = ("before", "strictly_before", "after", "strictly_after")

_SCALAR: dict[FieldType, dict[str, str]] = {
    "integer": {"type": "integer"},
    "float": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "uuid": {"type": "string", "format": "uuid"},
}


def query(
    name: str, schema: dict[str, Any], description: str, *, explode: bool = False
) -> Parameter:
    """One optional query parameter."""
    parameter: Parameter = {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }
    if explode:
        parameter["style"] = "form"
        parameter["explode"] = True
    return parameter


def pagination_parameters(resource: ResourceSpec) -> list[Parameter]:
    """``page`` and ``itemsPerPage`` as the resource's pagination allows."""
    pagination = resource.pagination
    if not pagination.enabled:
        return []
    parameters = [
        query("page", {"type": "integer", "minimum": 1, "default": 1}, "The collection page.")
    ]
    if pagination.client_items_per_page:
        parameters.append(
            query(
                "itemsPerPage",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": pagination.maximum_items_per_page,
                    "default": pagination.items_per_page,
                },
                f"The number of items per page (at most {pagination.maximum_items_per_page}).",
            )
        )
    return parameters


def filter_parameters(resource: ResourceSpec) -> list[Parameter]:
    """Every declared filter and ordering as query parameters."""
    filters = resource.filters
    parameters: list[Parameter] = []
    for name, strategy in filters.search:
        value = _value_schema(resource, name)
        text = f"Search {name} ({strategy} match)."
        parameters.append(query(name, value, text))
        parameters.append(query(f"{name}[]", {"type": "array", "items": value}, text, explode=True))
    for name in filters.range:
        for operator in RANGE_OPERATORS:
            schema: dict[str, Any] = (
                {"type": "string", "pattern": r"^-?[\d.]+\.\.-?[\d.]+$"}
                if operator == "between"
                else {"type": "number"}
            )
            parameters.append(query(f"{name}[{operator}]", schema, _range_text(name, operator)))
    for name in filters.date:
        for operator in DATE_OPERATORS:
            parameters.append(
                query(
                    f"{name}[{operator}]",
                    {"type": "string"},
                    f"{name} {operator.replace('_', ' ')} the given date or date-time.",
                )
            )
    for name in filters.boolean:
        parameters.append(query(name, {"type": "boolean"}, f"Filter on {name}."))
    for name in filters.exists:
        parameters.append(
            query(
                f"exists[{name}]",
                {"type": "boolean"},
                f"true: only items whose {name} is set; false: only those where it is null.",
            )
        )
    for name in resource.order.fields:
        parameters.append(
            query(
                f"order[{name}]",
                {"type": "string", "enum": ["asc", "desc"]},
                f"Sort the collection by {name}.",
            )
        )
    return parameters


def _range_text(name: str, operator: str) -> str:
    texts = {
        "between": "between two inclusive bounds written 'low..high'",
        "gt": "greater than the value",
        "gte": "greater than or equal to the value",
        "lt": "less than the value",
        "lte": "less than or equal to the value",
    }
    return f"{name} {texts[operator]}."


def _value_schema(resource: ResourceSpec, name: str) -> dict[str, Any]:
    field = resource.field(name)
    if field is not None:
        return dict(_SCALAR.get(field.type, {"type": "string"}))
    # A relation: the target's IRI (or its bare id, as API Platform accepts).
    return {"type": "string", "format": "iri-reference"}
