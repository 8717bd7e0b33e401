"""Rules for one field or relation: options that fit the type, sane defaults, no conflicts.

Pure: reads the cleaned options of a single field (or relation plus the resource names)
and reports into :class:`Problems`.
"""

from __future__ import annotations

import re
from typing import Any

from app.config.errors import Problems, join
from app.config.suggest import fix_for
from app.config.validation import INVALID
from app.config.values import (
    EXPECTED,
    NUMERIC_TYPES,
    TIME_TYPES,
    bound,
    coerce,
    timestamp,
)

STRING_TYPES = ("string", "text")
BOUNDED_TYPES = (*NUMERIC_TYPES, *TIME_TYPES)

_ONLY_FOR: dict[str, tuple[str, ...]] = {
    "max_length": STRING_TYPES,
    "min": BOUNDED_TYPES,
    "max": BOUNDED_TYPES,
    "precision": ("decimal",),
    "scale": ("decimal",),
    "choices": ("enum",),
}


def is_nullable(options: dict[str, Any]) -> bool:
    """``nullable`` of a field or relation's options: as declared, else ``not required``."""
    return bool(options.get("nullable", not options.get("required", False)))


def check_field(options: dict[str, Any], path: str, problems: Problems) -> None:
    """Report every rule the field at ``path`` breaks."""
    _check_access(options, path, problems)
    _check_iri(options, path, problems)
    _check_settable(options, "default" in options, path, problems)
    field_type = options.get("type")
    if field_type is None:
        return
    for option, types in _ONLY_FOR.items():
        if option in options and field_type not in types:
            problems.add(
                join(path, option),
                f"'{option}' does not apply to type {field_type}",
                f"remove it, or use type {' or '.join(types)}",
            )
    if field_type == "enum" and not options.get("choices"):
        problems.add(
            path,
            "enum field without choices",
            "add 'choices: [a, b]' listing the accepted values",
        )
    if field_type == "json" and options.get("unique"):
        problems.add(join(path, "unique"), "json fields cannot be unique", "remove 'unique'")
    low, high = _bounds(options, field_type, path, problems)
    if low is not None and high is not None and low > high:
        problems.add(
            join(path, "min"),
            f"min {options['min']} is greater than max {options['max']}",
            "swap them",
        )
    precision, scale = options.get("precision"), options.get("scale")
    if (
        field_type == "decimal"
        and precision is not None
        and scale is not None
        and scale > precision
    ):
        problems.add(
            join(path, "scale"),
            f"scale {scale} is greater than precision {precision}",
            "use a scale no greater than the precision",
        )
    if "default" in options:
        _check_default(options, field_type, join(path, "default"), problems)


def check_relation(
    options: dict[str, Any], resources: dict[str, Any], path: str, problems: Problems
) -> None:
    """Report every rule the relation at ``path`` breaks; ``resources`` are all resources."""
    _check_access(options, path, problems)
    _check_iri(options, path, problems)
    _check_settable(options, False, path, problems)
    target = options.get("target")
    if target is not None and target not in resources:
        problems.add(
            join(path, "target"),
            f"unknown resource '{target}'",
            fix_for(target, resources, "a declared resource:"),
        )
    elif target is not None and "get" not in resources[target].get("operations", ["get"]):
        problems.add(
            join(path, "target"),
            f"target {target} has no 'get' operation, so its IRIs cannot be resolved",
            f"add 'get' to the operations of {target}",
        )
    nullable = is_nullable(options)
    if options.get("on_delete") == "set_null" and not nullable:
        problems.add(
            join(path, "on_delete"),
            "on_delete: set_null needs a nullable relation",
            "set 'nullable: true' or choose on_delete restrict or cascade",
        )


_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")
"""An absolute IRI: a scheme, a colon, then no space and no character IRIs exclude."""


def _check_iri(options: dict[str, Any], path: str, problems: Problems) -> None:
    iri = options.get("iri")
    if isinstance(iri, str) and not _ABSOLUTE_IRI.fullmatch(iri):
        problems.add(
            join(path, "iri"),
            f"iri {iri!r} is not an absolute IRI",
            "write the full IRI of an RDF property, for example https://schema.org/name",
        )


def _check_access(options: dict[str, Any], path: str, problems: Problems) -> None:
    if options.get("read_only") and options.get("write_only"):
        problems.add(
            join(path, "write_only"),
            "read_only and write_only are both true",
            "keep at most one of them",
        )
    if options.get("read_only") and options.get("required"):
        problems.add(
            join(path, "required"),
            "a read_only value cannot be required from clients",
            "remove 'required' or 'read_only'",
        )


def _check_settable(
    options: dict[str, Any], has_default: bool, path: str, problems: Problems
) -> None:
    """A value clients cannot write must be nullable or have a default.

    (A writable non-nullable value without a default is effectively required.)
    """
    nullable = is_nullable(options)
    if nullable or has_default:
        return
    if options.get("read_only") and not options.get("required"):
        problems.add(
            join(path, "nullable"),
            "a read_only value that is never null needs a default",
            "add a 'default' or set 'nullable: true'",
        )


def _check_default(options: dict[str, Any], field_type: str, path: str, problems: Problems) -> None:
    raw = options["default"]
    nullable = is_nullable(options)
    if raw is None:
        if not nullable:
            problems.add(path, "default is null but the field is not nullable", _NULL_FIX)
        return
    value = coerce(raw, field_type)
    if value is INVALID:
        problems.add(
            path,
            f"default {raw!r} does not match type {field_type}",
            f"use {EXPECTED[field_type]}",
        )
        return
    choices = options.get("choices")
    if field_type == "enum" and choices and value not in choices:
        problems.add(path, f"default '{value}' is not a choice", fix_for(value, choices))
    max_length = options.get("max_length")
    if field_type in STRING_TYPES and max_length is not None and len(value) > max_length:
        problems.add(
            path,
            f"default is longer than max_length {max_length}",
            "shorten it or raise max_length",
        )
    if field_type in BOUNDED_TYPES:
        low, high = _bounds(options, field_type, path, None)
        stamp = float(value) if field_type in NUMERIC_TYPES else timestamp(value)
        if (low is not None and stamp < low) or (high is not None and stamp > high):
            problems.add(
                path,
                f"default {raw} is outside min/max",
                "use a default between min and max",
            )


def _bounds(
    options: dict[str, Any], field_type: str, path: str, problems: Problems | None
) -> tuple[float | None, float | None]:
    """``min`` and ``max`` as comparable floats; an unusable one is reported and ``None``."""
    if field_type not in BOUNDED_TYPES:
        return None, None
    result: list[float | None] = []
    for key in ("min", "max"):
        value = options.get(key)
        converted = None if value is None else bound(value, field_type)
        if converted is INVALID:
            if problems is not None:
                problems.add(
                    join(path, key),
                    f"{key} {value!r} does not match type {field_type}",
                    f"use {EXPECTED[field_type]}",
                )
            converted = None
        result.append(converted)
    return result[0], result[1]


_NULL_FIX = "set 'nullable: true' or give a non-null default"
