"""Rules for names that refer to fields: filters, ordering and Mercure options.

Every filter name must be a field (or relation) of a type the filter works on; every order
name a sortable field; topic and update-id templates may only use ``id``, fields,
relations and ``relation.field``; normalization groups must be groups some field belongs to. Pure.
"""

from __future__ import annotations

import re
from typing import Any

from app.config.errors import Problems, join
from app.config.fields import is_nullable
from app.config.parameters import RESERVED
from app.config.suggest import fix_for

TEXT_STRATEGIES = ("partial", "start", "end", "iexact", "ipartial", "istart", "iend")
TEXT_TYPES = ("string", "text", "enum")

_FILTER_TYPES: dict[str, tuple[str, ...]] = {
    "range": ("integer", "float", "decimal"),
    "date": ("date", "datetime"),
    "boolean": ("boolean",),
}
_SORTABLE = ("string", "text", "enum", "integer", "float", "decimal", "boolean", "date",
             "datetime", "uuid", "relation")  # fmt: skip
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def check_filters(options: dict[str, Any], path: str, problems: Problems) -> None:
    """Filter names exist and have a type their filter supports."""
    filters: dict[str, Any] = options.get("filters", {})
    base = join(path, "filters")
    _check_parameters(filters, base, problems)
    for name, strategy in filters.get("search", {}).items():
        where = join(join(base, "search"), name)
        kind = _kind(options, name, where, problems)
        if kind is None:
            continue
        if kind == "json":
            problems.add(where, f"search filter on json field '{name}'", "remove it")
        elif strategy in TEXT_STRATEGIES and kind not in TEXT_TYPES:
            problems.add(
                where,
                f"strategy '{strategy}' needs a string, text or enum field, "
                f"but '{name}' is {_a(kind)}",
                "use strategy 'exact'",
            )
    for kind_name, types in _FILTER_TYPES.items():
        for index, name in enumerate(filters.get(kind_name, [])):
            where = join(join(base, kind_name), index)
            kind = _kind(options, name, where, problems)
            if kind is not None and kind not in types:
                problems.add(
                    where,
                    f"{kind_name} filter on '{name}', which is {_a(kind)}",
                    f"use it only on {' or '.join(types)} fields",
                )
    for index, name in enumerate(filters.get("exists", [])):
        where = join(join(base, "exists"), index)
        if _kind(options, name, where, problems) is None:
            continue
        member = options.get("fields", {}).get(name) or options.get("relations", {}).get(name)
        if member is None or not is_nullable(member):
            problems.add(
                where,
                f"exists filter on '{name}', which is never null",
                f"make '{name}' nullable or remove the filter",
            )


def _check_parameters(filters: dict[str, Any], base: str, problems: Problems) -> None:
    """Filter names must not shadow collection parameters or each other."""
    named = {
        kind: list(filters.get(kind, {}))
        for kind in ("search", "range", "date", "boolean", "exists")
    }
    for kind, names in named.items():
        for index, name in enumerate(names):
            if name in RESERVED and kind != "exists":
                where = join(join(base, kind), name if kind == "search" else index)
                problems.add(
                    where,
                    f"a {kind} filter on '{name}' would clash with the '{name}' query parameter",
                    "rename the field or remove the filter",
                )
    for index, name in enumerate(named["boolean"]):
        if name in named["search"]:
            problems.add(
                join(join(base, "boolean"), index),
                f"'{name}' has both a search and a boolean filter; both read ?{name}=",
                "keep one of them",
            )


def check_order(options: dict[str, Any], path: str, problems: Problems) -> None:
    """Order names are ``id``, sortable fields or relations."""
    order: dict[str, Any] = options.get("order", {})
    base = join(path, "order")
    for index, name in enumerate(order.get("fields", [])):
        _sortable(options, name, join(join(base, "fields"), index), problems)
    for name in order.get("default", {}):
        _sortable(options, name, join(join(base, "default"), name), problems)


def check_mercure(
    options: dict[str, Any], resources: dict[str, Any], path: str, problems: Problems
) -> None:
    """Topic templates and normalization groups refer to what exists."""
    mercure = options.get("mercure")
    if not isinstance(mercure, dict):
        return
    base = join(path, "mercure")
    for index, topic in enumerate(mercure.get("topics", [])):
        _check_topic(topic, options, resources, join(join(base, "topics"), index), problems)
    if isinstance(mercure.get("id"), str):  # a template like the topics, or a literal
        _check_topic(mercure["id"], options, resources, join(base, "id"), problems)
    members = [*options.get("fields", {}).values(), *options.get("relations", {}).values()]
    groups = {group for member in members for group in member.get("groups", [])}
    for index, group in enumerate(mercure.get("normalization_groups", [])):
        if group not in groups:
            problems.add(
                join(join(base, "normalization_groups"), index),
                f"no field or relation is in group '{group}'",
                fix_for(group, sorted(groups), "a declared group:")
                or "add 'groups: [...]' to the fields to publish",
            )


def _check_topic(
    topic: str, options: dict[str, Any], resources: dict[str, Any], path: str, problems: Problems
) -> None:
    if _PLACEHOLDER.sub("", topic).count("{") or _PLACEHOLDER.sub("", topic).count("}"):
        problems.add(path, f"unbalanced braces in topic '{topic}'", "write placeholders as {id}")
        return
    for expression in _PLACEHOLDER.findall(topic):
        # ``{+path}`` keeps reserved characters in the value; it reads the same path.
        head, _, tail = expression.removeprefix("+").partition(".")
        relation = options.get("relations", {}).get(head)
        if not tail:
            names = ["id", *options.get("fields", {}), *options.get("relations", {})]
            if head not in names:
                problems.add(
                    path,
                    f"unknown placeholder '{{{expression}}}' in topic '{topic}'",
                    fix_for(head, names, "id, a field or a relation:"),
                )
        elif relation is None:
            problems.add(
                path,
                f"placeholder '{{{expression}}}': '{head}' is not a relation",
                fix_for(head, list(options.get("relations", {})), "a relation:")
                or "declare the relation first",
            )
        elif relation.get("target") in resources:
            target = resources[relation["target"]]
            names = ["id", *target.get("fields", {})]
            if tail not in names:
                problems.add(
                    path,
                    f"placeholder '{{{expression}}}': '{tail}' is not a field of "
                    f"{relation.get('target')}",
                    fix_for(tail, names),
                )


def _kind(options: dict[str, Any], name: str, path: str, problems: Problems) -> str | None:
    """The type of field ``name`` (``"relation"`` for relations); report unknown names."""
    if name == "id":
        return "integer"
    field = options.get("fields", {}).get(name)
    if field is not None:
        return field.get("type")  # type: ignore[no-any-return]
    if name in options.get("relations", {}):
        return "relation"
    names = ["id", *options.get("fields", {}), *options.get("relations", {})]
    problems.add(path, f"unknown field '{name}'", fix_for(name, names))
    return None


def _sortable(options: dict[str, Any], name: str, path: str, problems: Problems) -> None:
    kind = _kind(options, name, path, problems)
    if kind is not None and kind not in _SORTABLE:
        problems.add(path, f"cannot order by '{name}', which is {_a(kind)}", "remove it")


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"
