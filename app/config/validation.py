"""Structural validation: a parsed document against the key table in :mod:`app.config.schema`.

:func:`validate` reports every unknown key (with a suggestion), missing required key,
value of the wrong type and badly formed name, and returns a cleaned copy holding only
the valid parts: invalid entries are dropped, shorthands expanded and environment values
converted to the expected type. Later passes may therefore trust every value they find
and treat a missing one as "absent or already reported". Pure: no IO.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from typing import Any

from app.config.document import REPORTED, EnvValue
from app.config.errors import Problems, join
from app.config.naming import field_name_problem, resource_name_problem
from app.config.schema import (
    Choice,
    Either,
    ListOf,
    NameMap,
    Scalar,
    Section,
    Shape,
    describe,
)
from app.config.suggest import did_you_mean, fix_for

INVALID: Any = object()
"""Returned for a value that was reported; never part of the cleaned document."""

_NAME_RULES: dict[str, Callable[[str], tuple[str, str] | None]] = {
    "resource": resource_name_problem,
    "field": field_name_problem,
}
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def validate(data: Any, shape: Shape, problems: Problems, path: str = "") -> Any:
    """Check ``data`` against ``shape``; report into ``problems``; return the cleaned value."""
    if data is REPORTED:
        return INVALID
    if isinstance(shape, Section):
        return _section(data, shape, problems, path)
    if isinstance(shape, NameMap):
        return _name_map(data, shape, problems, path)
    if isinstance(shape, Either):
        if isinstance(data, dict):
            return _section(data, shape.section, problems, path)
        if isinstance(data, list) or data is None:
            _wrong(data, describe(shape), problems, path)
            return INVALID
        if isinstance(shape.scalar, Scalar) and _convert(data, shape.scalar) is INVALID:
            _wrong(data, describe(shape), problems, path)
            return INVALID
        value = _leaf(data, shape.scalar, problems, path)
        if value is INVALID or shape.wrap is None:
            return value
        return {shape.wrap: value}
    if isinstance(shape, ListOf):
        return _list(data, shape, problems, path)
    return _leaf(data, shape, problems, path)


def _section(data: Any, shape: Section, problems: Problems, path: str) -> Any:
    data = {} if data is None else data
    if not isinstance(data, dict):
        _wrong(data, describe(shape), problems, path)
        return INVALID
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        child = join(path, name)
        key = shape.keys.get(name)
        if key is None:
            problems.add(
                path,
                f"unknown key '{name}'",
                did_you_mean(name, shape.keys) or "accepted keys: " + ", ".join(shape.keys),
                line_of=child,
            )
            continue
        result = validate(value, key.shape, problems, child)
        if result is not INVALID:
            cleaned[name] = result
    for name, key in shape.keys.items():
        if key.required and name not in data:
            problems.add(
                path,
                f"missing key '{name}'",
                f"add '{name}:' ({key.doc}), {describe(key.shape)}",
            )
    return cleaned


def _name_map(data: Any, shape: NameMap, problems: Problems, path: str) -> Any:
    data = {} if data is None else data
    if not isinstance(data, dict):
        _wrong(data, describe(shape), problems, path)
        return INVALID
    rule = _NAME_RULES.get(shape.names)
    cleaned: dict[str, Any] = {}
    for name, value in data.items():
        child = join(path, name)
        bad = rule(name) if rule is not None else None
        if bad is not None:
            problems.add(child, *bad)
            continue
        result = validate(value, shape.value, problems, child)
        if result is not INVALID:
            cleaned[name] = result
    return cleaned


def _list(data: Any, shape: ListOf, problems: Problems, path: str) -> Any:
    if not isinstance(data, list):
        example = f"[{data}]" if isinstance(data, str) else "[a, b]"
        _wrong(data, f"{describe(shape)}, e.g. {example}", problems, path)
        return INVALID
    cleaned: list[Any] = []
    for index, item in enumerate(data):
        child = join(path, index)
        value = INVALID if item is REPORTED else _leaf(item, shape.item, problems, child)
        if value is INVALID:
            continue
        if value in cleaned:
            problems.add(child, f"duplicate entry '{value}'", "list each entry once")
            continue
        cleaned.append(value)
    return cleaned


def _leaf(data: Any, shape: Scalar | Choice, problems: Problems, path: str) -> Any:
    if isinstance(shape, Choice):
        if isinstance(data, str) and data in shape.values:
            return str(data)
        if isinstance(data, str):
            problems.add(
                path,
                f"unknown value '{data}'{_from_env(data)}",
                fix_for(data, shape.values),
            )
        else:
            _wrong(data, describe(shape), problems, path)
        return INVALID
    value = _convert(data, shape)
    if value is INVALID:
        _wrong(data, describe(shape), problems, path, quote=shape.kind == "string")
        return INVALID
    if shape.minimum is not None and value < shape.minimum:
        problems.add(
            path,
            f"value {value}{_from_env(data)} is too small",
            f"use an integer >= {shape.minimum}",
        )
        return INVALID
    return value


def _convert(data: Any, shape: Scalar) -> Any:
    """``data`` as ``shape.kind``, converting environment strings; ``INVALID`` if impossible."""
    kind = shape.kind
    if kind == "any":
        return data
    if kind == "string":
        return str(data) if isinstance(data, str) else INVALID
    if isinstance(data, EnvValue):
        return from_text(str(data), kind)
    if kind == "boolean":
        return data if isinstance(data, bool) else INVALID
    if isinstance(data, bool):
        return INVALID
    if kind == "integer":
        return data if isinstance(data, int) else INVALID
    return data if isinstance(data, int | float) and math.isfinite(data) else INVALID


def from_text(text: str, kind: str) -> Any:
    """Convert an environment variable's text to ``kind``; ``INVALID`` if it does not parse."""
    text = text.strip()
    if kind == "boolean":
        lowered = text.lower()
        return True if lowered in _TRUE else False if lowered in _FALSE else INVALID
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            number = float(text)
            if not math.isfinite(number):
                return INVALID
            return int(number) if number.is_integer() and "." not in text else number
    except ValueError:
        return INVALID
    return text


def _from_env(data: Any) -> str:
    return f" (from ${data.variable})" if isinstance(data, EnvValue) else ""


def _wrong(data: Any, expected: str, problems: Problems, path: str, *, quote: bool = False) -> None:
    fix = f"expected {expected}"
    if quote and isinstance(data, int | float | datetime.date) and not isinstance(data, bool):
        fix += f"; quote it: '{data}'"
    problems.add(path, f"invalid value {_show(data)}{_from_env(data)}", fix)


def _show(data: Any) -> str:
    if data is None:
        return "null"
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, dict):
        return "(a mapping)"
    if isinstance(data, list):
        return "(a list)"
    return repr(data) if isinstance(data, str) else str(data)
