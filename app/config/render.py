"""A spec back to ``resources.yaml`` data, with every default spelled out.

:func:`to_data` is the inverse of loading: its output, dumped as YAML, loads back to an
equal spec. ``flask resources show`` prints it so users see the derived routes, tables and
defaults. Options that do not apply to a field's type are left out.
"""

from __future__ import annotations

import decimal
import uuid
from typing import Any

from app.config.spec import (
    PUBLIC,
    FieldSpec,
    MercureSpec,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
    SecuritySpec,
)
from app.config.values import from_timestamp


def to_data(spec: ResourcesSpec) -> dict[str, Any]:
    """Plain data in the file's layout: ``api`` and ``resources`` keyed by name."""
    api = {"title": spec.api.title, "version": spec.api.version}
    if spec.api.description:
        api["description"] = spec.api.description
    return {"api": api, "resources": {r.name: resource_data(r) for r in spec.resources}}


def resource_data(resource: ResourceSpec) -> dict[str, Any]:
    """One resource's options."""
    data: dict[str, Any] = {"route": resource.route, "table": resource.table}
    if resource.description:
        data["description"] = resource.description
    data["fields"] = {f.name: field_data(f) for f in resource.fields}
    if resource.owner is not None:  # written as declared: the loader makes it read-only
        data["fields"][resource.owner].update(read_only=False, required=True)
    if resource.relations:
        data["relations"] = {r.name: relation_data(r) for r in resource.relations}
    data["operations"] = list(resource.operations)
    pagination = resource.pagination
    data["pagination"] = {
        "enabled": pagination.enabled,
        "items_per_page": pagination.items_per_page,
        "maximum_items_per_page": pagination.maximum_items_per_page,
        "client_items_per_page": pagination.client_items_per_page,
    }
    filters = resource.filters
    data["filters"] = {
        "search": dict(filters.search),
        "range": list(filters.range),
        "date": list(filters.date),
        "boolean": list(filters.boolean),
        "exists": list(filters.exists),
    }
    data["order"] = {"fields": list(resource.order.fields), "default": dict(resource.order.default)}
    data["mercure"] = mercure_data(resource.mercure)
    if resource.owner is not None:
        data["owner"] = resource.owner
    if resource.security.rules:
        data["security"] = {"operations": security_data(resource.security)}
    if resource.allow_extra_attributes is not None:
        data["allow_extra_attributes"] = resource.allow_extra_attributes
    return data


def security_data(security: SecuritySpec) -> dict[str, Any]:
    """Each operation's rule, spelled out (``public`` for an open one)."""
    data: dict[str, Any] = {}
    for operation, rule in security.rules:
        entry: dict[str, Any] = {
            "rule": rule.expression.source if rule.expression is not None else PUBLIC
        }
        if rule.message is not None:
            entry["message"] = rule.message
        data[operation] = entry
    return data


def field_data(field: FieldSpec) -> dict[str, Any]:
    """One field's options; type-specific ones only for their type."""
    data: dict[str, Any] = {
        "type": field.type,
        "required": field.required,
        "nullable": field.nullable,
        "unique": field.unique,
    }
    if field.has_default:
        data["default"] = _value(field.default)
    if field.max_length is not None:
        data["max_length"] = field.max_length
    for key, bound in (("min", field.minimum), ("max", field.maximum)):
        if bound is None:
            continue
        if field.type in ("date", "datetime"):
            data[key] = from_timestamp(bound, field.type)
        else:
            data[key] = int(bound) if field.type == "integer" else bound
    if field.type == "enum":
        data["choices"] = list(field.choices)
    if field.type == "decimal":
        data["precision"], data["scale"] = field.precision, field.scale
    data["read_only"], data["write_only"] = field.read_only, field.write_only
    if field.groups:
        data["groups"] = list(field.groups)
    if field.description:
        data["description"] = field.description
    if field.iri:
        data["iri"] = field.iri
    return data


def relation_data(relation: RelationSpec) -> dict[str, Any]:
    """One relation's options."""
    data: dict[str, Any] = {
        "target": relation.target,
        "required": relation.required,
        "nullable": relation.nullable,
        "on_delete": relation.on_delete,
        "read_only": relation.read_only,
        "write_only": relation.write_only,
    }
    if relation.groups:
        data["groups"] = list(relation.groups)
    if relation.description:
        data["description"] = relation.description
    if relation.iri:
        data["iri"] = relation.iri
    return data


def mercure_data(mercure: MercureSpec) -> bool | dict[str, Any]:
    """``false``, or the options of an enabled resource."""
    if not mercure.enabled:
        return False
    data: dict[str, Any] = {"private": mercure.private, "topics": list(mercure.topics)}
    for key in ("data", "id", "type", "retry", "hub"):
        if getattr(mercure, key) is not None:
            data[key] = getattr(mercure, key)
    data["normalization_groups"] = list(mercure.normalization_groups)
    data["include_type"] = mercure.include_type
    return data


def _value(value: object) -> object:
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value
