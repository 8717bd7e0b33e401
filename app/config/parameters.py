"""The filter and ordering parameters of a resource's collection, named as API Platform
names them, declared once.

:func:`query_parameters` lists them from the resource's spec; the filters
(:mod:`app.api.filters`, which turn them into SQL), the Hydra search template
(:func:`app.api.documents.search_template`) and the OpenAPI parameters
(:mod:`app.openapi.parameters`) all read that list or its operators, so a new operator or
kind of filter is added here and nowhere else. Pure: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.config.spec import ResourceSpec

__all__ = ["DATE_OPERATORS", "RANGE_OPERATORS", "RESERVED", "QueryParameter", "query_parameters"]

ParameterKind = Literal["search", "range", "date", "boolean", "exists", "order"]

RANGE_OPERATORS: tuple[str, ...] = ("between", "gt", "gte", "lt", "lte")
"""``rating[between]=1..3``, ``rating[gt]=2``, ..."""
DATE_OPERATORS: tuple[str, ...] = ("before", "strictly_before", "after", "strictly_after")
"""``publicationDate[after]=2024-05-01``, ..."""
RESERVED: tuple[str, ...] = ("page", "itemsPerPage", "order", "exists")
"""Query parameters of every collection (pagination, and the prefixes of ``order[...]`` and
``exists[...]``): no filter may be named like them (:mod:`app.config.references`)."""


@dataclass(frozen=True)
class QueryParameter:
    """One parameter: ``name`` as sent (``title``, ``title[]``, ``rating[gt]``,
    ``exists[description]``, ``order[title]``), the field or relation it reads
    (``property``), its kind, and its operator (a range's or a date's, ``None`` for the
    other kinds). ``listed``: the ``name[]`` form of a search, which repeats."""

    name: str
    property: str
    kind: ParameterKind
    operator: str | None = None
    listed: bool = False


def query_parameters(resource: ResourceSpec) -> tuple[QueryParameter, ...]:
    """Every filter and ordering parameter of ``resource``'s collection: searches
    (``name`` and ``name[]``), ranges, dates, booleans, ``exists`` and ``order``, each
    kind in declaration order."""
    filters = resource.filters
    parameters: list[QueryParameter] = []
    for name, _strategy in filters.search:
        parameters.append(QueryParameter(name, name, "search"))
        parameters.append(QueryParameter(f"{name}[]", name, "search", listed=True))
    for name in filters.range:
        parameters += [QueryParameter(f"{name}[{op}]", name, "range", op) for op in RANGE_OPERATORS]
    for name in filters.date:
        parameters += [QueryParameter(f"{name}[{op}]", name, "date", op) for op in DATE_OPERATORS]
    parameters += [QueryParameter(name, name, "boolean") for name in filters.boolean]
    parameters += [QueryParameter(f"exists[{name}]", name, "exists") for name in filters.exists]
    parameters += [
        QueryParameter(f"order[{name}]", name, "order") for name in resource.order.fields
    ]
    return tuple(parameters)
