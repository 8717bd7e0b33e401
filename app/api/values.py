"""Query-string values -> typed Python values for filters (pure, no IO).

Each parser raises :class:`ValueError` whose message says what was expected; the caller
turns it into a 400 naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec
from app.models.columns import integer_range
from app.models.iri import parse_iri

UTC = dt.UTC


def parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError("expected true, false, 1 or 0")


def parse_datetime(raw: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(raw.strip().replace(" ", "+"))
    except ValueError:
        raise ValueError(
            "expected an ISO 8601 date or datetime such as 2024-05-01T12:00:00Z"
        ) from None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ValueError("the date is out of range") from None


def parse_date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise ValueError("expected an ISO 8601 date such as 2024-05-01") from None


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
ID_MAX = 2**31 - 1
"""Ids are 32-bit integers; filter integers must fit in 64 bits on every database."""


def integer_value(raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("expected an integer") from None
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("the integer is out of range")
    return value


def _decimal(raw: str) -> decimal.Decimal:
    try:
        value = decimal.Decimal(raw.strip())
    except decimal.InvalidOperation:
        raise ValueError("expected a decimal number") from None
    if not value.is_finite() or value.adjusted() > 60:
        raise ValueError("the number is out of range")
    return value


def _float(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError("expected a number") from None
    if not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _uuid(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise ValueError("expected a UUID such as 123e4567-e89b-12d3-a456-426614174000") from None


_PARSERS: dict[str, Callable[[str], Any]] = {
    "integer": integer_value,
    "float": _float,
    "decimal": _decimal,
    "boolean": parse_bool,
    "date": parse_date,
    "datetime": parse_datetime,
    "uuid": _uuid,
}


def field_value(spec: FieldSpec, raw: str) -> Any:
    """``raw`` converted to the type of ``spec`` (strings are kept as they are)."""
    if "\x00" in raw:
        raise ValueError("NUL characters are not allowed")
    parser = _PARSERS.get(spec.type)
    return raw if parser is None else parser(raw)


def check_storable(column_type: sa.types.TypeEngine[Any], value: Any) -> None:
    """Refuse a filter value the column cannot hold, naming the column's range: an
    integer past its 32 (or 16, 64) bits, a decimal with more digits before the point
    than its precision allows. PostgreSQL would fail on the first (the parameter is cast
    to the column's type) and no row can match the second, on any database."""
    bounds = integer_range(column_type)
    if bounds is not None and isinstance(value, int) and not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"the value must be between {bounds[0]} and {bounds[1]}")
    if isinstance(column_type, sa.Numeric) and isinstance(value, decimal.Decimal):
        precision, scale = column_type.precision, column_type.scale or 0
        if precision is not None and abs(value) >= 10 ** (precision - scale):
            limit = 10 ** (precision - scale)
            raise ValueError(f"the value must be greater than -{limit} and less than {limit}")


def relation_value(relation: RelationSpec, target: ResourceSpec, raw: str) -> int:
    """A relation filter value: the target's IRI (``/books/1``) or its bare id (``1``)."""
    text = raw.strip()
    item_id = int(text) if text.isdigit() else parse_iri(target, text)
    if item_id is None or not 1 <= item_id <= ID_MAX:
        raise ValueError(f"expected an IRI of a {target.name} such as {target.route}/1, or its id")
    return item_id
