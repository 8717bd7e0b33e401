"""Cleaned, checked document -> frozen :class:`ResourcesSpec`.

Runs only after validation found no problem, so every value is present where required
and of the right type. Absent keys take the defaults declared on the spec dataclasses;
the only defaults computed here are the derived ones: ``route`` and ``table`` from the
resource name (:mod:`app.config.naming`) and ``nullable`` (``not required``). The ``owner``
field becomes read-only and not required: the gateway, not the client, sets it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from app.config.fields import is_nullable
from app.config.naming import default_route, default_table
from app.config.security import build_security
from app.config.spec import (
    ApiInfo,
    FieldSpec,
    FilterSpec,
    MercureSpec,
    OrderSpec,
    PaginationSpec,
    RelationSpec,
    ResourceSpec,
    ResourcesSpec,
)
from app.config.values import bound, coerce

_RENAMED = {"min": "minimum", "max": "maximum"}
_TUPLES = ("choices", "groups", "topics", "normalization_groups")


def build_spec(data: dict[str, Any], source: str) -> ResourcesSpec:
    """Freeze the cleaned document ``data`` read from ``source``."""
    resources = tuple(build_resource(name, options) for name, options in data["resources"].items())
    return ResourcesSpec(resources=resources, api=ApiInfo(**data.get("api", {})), source=source)


def build_resource(name: str, options: dict[str, Any]) -> ResourceSpec:
    """One resource with its derived route and table."""
    owner = options.get("owner")
    security = build_security(options)
    mercure = build_mercure(options.get("mercure", False))
    if security.read is not None:  # restricted reads: updates reach their readers only
        mercure = replace(mercure, private=True)
    fields = tuple(build_field(field, opts) for field, opts in options.get("fields", {}).items())
    settings: dict[str, Any] = {
        "name": name,
        "route": options.get("route", default_route(name)),
        "table": options.get("table", default_table(name)),
        "fields": tuple(
            replace(field, read_only=True, required=False) if field.name == owner else field
            for field in fields
        ),
        "relations": tuple(
            build_relation(rel, opts) for rel, opts in options.get("relations", {}).items()
        ),
        "pagination": PaginationSpec(**options.get("pagination", {})),
        "filters": _filters(options.get("filters", {})),
        "order": _order(options.get("order", {})),
        "mercure": mercure,
        "security": security,
        "owner": owner,
    }
    if "operations" in options:
        settings["operations"] = tuple(options["operations"])
    if "description" in options:
        settings["description"] = options["description"]
    if "allow_extra_attributes" in options:
        settings["allow_extra_attributes"] = options["allow_extra_attributes"]
    return ResourceSpec(**settings)


def build_field(name: str, options: dict[str, Any]) -> FieldSpec:
    """A field; ``min``/``max`` become ``minimum``/``maximum`` and ``default`` is converted."""
    settings = _options(options)
    settings["nullable"] = is_nullable(settings)
    for key in ("minimum", "maximum"):
        if key in settings:
            settings[key] = bound(settings[key], options["type"])
    if "default" in settings:
        settings["default"] = coerce(settings["default"], options["type"])
    return FieldSpec(name=name, **settings)


def build_relation(name: str, options: dict[str, Any]) -> RelationSpec:
    """A many-to-one relation."""
    settings = _options(options)
    settings["nullable"] = is_nullable(settings)
    return RelationSpec(name=name, **settings)


def build_mercure(value: bool | dict[str, Any]) -> MercureSpec:
    """``true``/``false`` or an options mapping (which enables publishing)."""
    if isinstance(value, bool):
        return MercureSpec(enabled=value)
    return MercureSpec(enabled=True, **_options(value))


def _filters(options: dict[str, Any]) -> FilterSpec:
    settings: dict[str, Any] = {key: tuple(names) for key, names in options.items()}
    if "search" in options:
        settings["search"] = tuple(options["search"].items())
    return FilterSpec(**settings)


def _order(options: dict[str, Any]) -> OrderSpec:
    settings: dict[str, Any] = {}
    if "fields" in options:
        settings["fields"] = tuple(options["fields"])
    if "default" in options:
        settings["default"] = tuple(options["default"].items())
    return OrderSpec(**settings)


def _options(options: dict[str, Any]) -> dict[str, Any]:
    return {
        _RENAMED.get(key, key): tuple(value) if key in _TUPLES else value
        for key, value in options.items()
    }
