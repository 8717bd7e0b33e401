"""Cross-checks on a structurally valid document: rules that span keys and resources.

Input is the cleaned document from :func:`app.config.validation.validate` (only valid
values; a missing value was absent or already reported, so checks that need it are
skipped rather than reported twice). Checks: at least one resource; routes and tables well
formed, unreserved and unique; field and relation names distinct; field options that fit
the field type; defaults that match type, choices, bounds and nullability; read/write
conflicts; relation targets; operations; pagination bounds; filter, order, and Mercure
references; security rules and owner. Pure: no IO.
"""

from __future__ import annotations

from typing import Any

from app.config.errors import Problems, join
from app.config.fields import check_field, check_relation
from app.config.naming import (
    column_name,
    default_route,
    default_table,
    route_problem,
    table_problem,
)
from app.config.references import check_filters, check_mercure, check_order
from app.config.security import check_security


def check_rules(data: dict[str, Any], problems: Problems) -> None:
    """Report every rule broken by the cleaned document ``data``."""
    resources: dict[str, Any] = data.get("resources", {})
    if "resources" in data and not resources and not problems:
        problems.add("resources", "no resource declared", "declare at least one resource")
    routes: dict[str, str] = {}
    tables: dict[str, str] = {}
    for name, options in resources.items():
        path = join("resources", name)
        _check_place(name, options, path, routes, tables, problems)
        _check_members(name, options, resources, path, problems)
        if options.get("operations") == []:
            problems.add(
                join(path, "operations"),
                "no operation enabled",
                "list at least one of get_collection, post, get, put, patch, delete, "
                "or remove the key to enable all",
            )
        pagination = options.get("pagination", {})
        per_page = pagination.get("items_per_page")
        maximum = pagination.get("maximum_items_per_page")
        if per_page is not None and maximum is not None and per_page > maximum:
            problems.add(
                join(join(path, "pagination"), "items_per_page"),
                f"items_per_page {per_page} exceeds maximum_items_per_page {maximum}",
                "lower items_per_page or raise maximum_items_per_page",
            )
        check_filters(options, path, problems)
        check_order(options, path, problems)
        check_mercure(options, resources, path, problems)
        check_security(options, path, problems)


def _check_place(
    name: str,
    options: dict[str, Any],
    path: str,
    routes: dict[str, str],
    tables: dict[str, str],
    problems: Problems,
) -> None:
    route = options.get("route", default_route(name))
    route_path = join(path, "route")
    bad = route_problem(route)
    if bad is not None:
        problems.add(route_path, *bad)
    elif route in routes:
        problems.add(
            route_path,
            f"route '{route}' is already used by resource '{routes[route]}'",
            "give one of them another 'route:'",
        )
    else:
        routes[route] = name
    table = options.get("table", default_table(name))
    table_path = join(path, "table")
    bad = table_problem(table)
    if bad is not None:
        problems.add(table_path, *bad)
    elif table in tables:
        problems.add(
            table_path,
            f"table '{table}' is already used by resource '{tables[table]}'",
            "give one of them another 'table:'",
        )
    else:
        tables[table] = name


def _check_members(
    name: str,
    options: dict[str, Any],
    resources: dict[str, Any],
    path: str,
    problems: Problems,
) -> None:
    fields: dict[str, Any] = options.get("fields", {})
    relations: dict[str, Any] = options.get("relations", {})
    for field_name, field_options in fields.items():
        check_field(field_options, join(join(path, "fields"), field_name), problems)
    field_columns = {column_name(field_name): field_name for field_name in fields}
    for relation_name, relation_options in relations.items():
        relation_path = join(join(path, "relations"), relation_name)
        check_relation(relation_options, resources, relation_path, problems)
        if relation_name in fields:
            problems.add(
                relation_path,
                f"'{relation_name}' is both a field and a relation of {name}",
                "rename one of them",
            )
        elif (column := f"{column_name(relation_name)}_id") in field_columns:
            problems.add(
                relation_path,
                f"relation '{relation_name}' needs the column '{column}', which is already "
                f"the column of field '{field_columns[column]}' of {name}",
                f"rename the relation or the field '{field_columns[column]}'",
            )
