"""Query parameters of a collection operation, named as API Platform names them.

Pagination: ``page`` and (when clients may choose) ``itemsPerPage``. Filters:
search ``title`` and ``title[]``; range ``rating[gt]`` / ``[gte]`` / ``[lt]`` / ``[lte]`` /
``[between]``; date ``publicationDate[before]`` / ``[strictly_before]`` / ``[after]`` /
``[strictly_after]``; boolean ``isAvailable``; exists ``exists[description]``; ordering
``order[title]``. Pure functions; the order of the result is stable (declaration order).

Each schema admits exactly values the filter takes (:mod:`app.api.filters`): numbers
within the column's range (integers are 32-bit, decimals have at most ``precision -
scale`` digits before the point), dates as dates, relations as an IRI or an id, text
without NUL characters. An empty value is also accepted by every typed filter and
filters nothing.
"""

from __future__ import annotations

from typing import Any

from app.config.parameters import query_parameters
from app.config.spec import FieldSpec, FieldType, ResourceSpec, ResourcesSpec
from app.openapi.schema import INT32_MAX, INT32_MIN, TEXT_PATTERN, iri_pattern

Parameter = dict[str, Any]

PAGE_MAX = INT32_MAX
"""Largest ``page`` and ``itemsPerPage`` the API takes (:mod:`app.api.pagination`)."""

INT32: dict[str, Any] = {
    "type": "integer",
    "format": "int32",
    "minimum": INT32_MIN,
    "maximum": INT32_MAX,
}
_SCALAR: dict[FieldType, dict[str, Any]] = {
    "integer": INT32,
    "float": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "uuid": {"type": "string", "format": "uuid"},
    "string": {"type": "string", "pattern": TEXT_PATTERN},
    "text": {"type": "string", "pattern": TEXT_PATTERN},
}
_FLOAT_DIGITS = r"-?[0-9]{1,15}(\.[0-9]{1,15})?"
"""A float bound of ``between`` (finite, whatever its digits)."""


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
        query(
            "page",
            {"type": "integer", "minimum": 1, "maximum": PAGE_MAX, "default": 1},
            "The collection page.",
        )
    ]
    if pagination.client_items_per_page:
        most = pagination.maximum_items_per_page
        parameters.append(
            query(
                "itemsPerPage",
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": PAGE_MAX,
                    "default": pagination.items_per_page,
                },
                f"The number of items per page: at most {most}, a larger number gives {most}.",
            )
        )
    return parameters


def filter_parameters(resource: ResourceSpec, spec: ResourcesSpec | None = None) -> list[Parameter]:
    """Every declared filter and ordering as query parameters
    (:func:`~app.config.parameters.query_parameters`; ``spec``: the resources relations
    point at, for their routes; without it, a relation's route is unknown and its values
    are documented as IRI references)."""
    strategies = dict(resource.filters.search)
    parameters: list[Parameter] = []
    for parameter in query_parameters(resource):
        name, prop, operator = parameter.name, parameter.property, parameter.operator
        if parameter.kind == "search":
            value = _value_schema(resource, prop, spec)
            text = f"Search {prop} ({strategies[prop]} match)."
            if parameter.listed:
                array = {"type": "array", "items": value}
                parameters.append(query(name, array, text, explode=True))
            else:
                parameters.append(query(name, value, text))
        elif parameter.kind == "range" and operator is not None:
            schema = _range_schema(resource.field(prop), operator == "between")
            parameters.append(query(name, schema, _range_text(prop, operator)))
        elif parameter.kind == "date" and operator is not None:
            field = resource.field(prop)
            value = dict(_SCALAR["date" if field is None else field.type])
            text = f"{prop} {operator.replace('_', ' ')} the given date or date-time."
            parameters.append(query(name, value, text))
        elif parameter.kind == "boolean":
            parameters.append(query(name, {"type": "boolean"}, f"Filter on {prop}."))
        elif parameter.kind == "exists":
            text = f"true: only items whose {prop} is set; false: only those where it is null."
            parameters.append(query(name, {"type": "boolean"}, text))
        elif parameter.kind == "order":
            schema = {"type": "string", "enum": ["asc", "desc"]}
            parameters.append(query(name, schema, f"Sort the collection by {prop}."))
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


def _value_schema(resource: ResourceSpec, name: str, spec: ResourcesSpec | None) -> dict[str, Any]:
    if name == "id":
        return dict(INT32)
    field = resource.field(name)
    if field is not None:
        if field.type == "decimal":
            return _decimal_schema(field)
        return dict(_SCALAR.get(field.type, {"type": "string"}))
    # A relation: the target's IRI (or its bare id, as API Platform accepts).
    schema: dict[str, Any] = {"type": "string", "format": "iri-reference"}
    relation = resource.relation(name)
    if spec is not None and relation is not None:
        route = spec.resource(relation.target).route
        schema["pattern"] = iri_pattern(route, bare_id=True)
    return schema


def _range_schema(field: FieldSpec | None, between: bool) -> dict[str, Any]:
    """A bound (or, for ``between``, ``low..high``) of a range filter on ``field``
    (``None``: the id)."""
    kind = "integer" if field is None else field.type
    if not between:
        if kind == "decimal" and field is not None:
            return _decimal_schema(field)
        return dict(_SCALAR.get(kind, {"type": "number"}))
    if kind == "integer":
        bound = "-?[0-9]{1,9}"  # within 32 bits, whatever the digits
    elif kind == "decimal" and field is not None:
        bound = _decimal_digits(field)
    else:
        bound = _FLOAT_DIGITS
    return {"type": "string", "pattern": f"^{bound}\\.\\.{bound}$"}


def _decimal_schema(field: FieldSpec) -> dict[str, Any]:
    limit = 10 ** max(field.precision - field.scale, 0)
    return {"type": "number", "exclusiveMinimum": -limit, "exclusiveMaximum": limit}


def _decimal_digits(field: FieldSpec) -> str:
    whole = field.precision - field.scale
    head = f"[0-9]{{1,{whole}}}" if whole > 0 else "0"
    return f"-?{head}(\\.[0-9]{{1,15}})?"
