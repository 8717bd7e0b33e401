"""Field values from YAML: ``default`` converted to the Python type of its field.

The contract downstream relies on: string, text and enum defaults are ``str``; integer
``int``; float ``float``; decimal :class:`decimal.Decimal`; boolean ``bool``; date
:class:`datetime.date`; datetime :class:`datetime.datetime`; uuid :class:`uuid.UUID`;
json any plain JSON value. ``None`` stays ``None``.

``min``/``max`` become :func:`bound` floats: the number itself for numeric fields, the POSIX
timestamp for date and datetime fields (a date is its midnight UTC, a naive datetime is
taken as UTC). Pure: no IO.
"""

from __future__ import annotations

import datetime
import decimal
import math
import uuid
from typing import Any

from app.config.document import EnvValue
from app.config.validation import INVALID, from_text

EXPECTED: dict[str, str] = {
    "string": "a string",
    "text": "a string",
    "enum": "one of the choices",
    "integer": "an integer",
    "float": "a number",
    "decimal": "a number or a numeric string such as '9.99'",
    "boolean": "true or false",
    "date": "a date such as 2024-01-31",
    "datetime": "a date-time such as 2024-01-31T12:00:00Z",
    "uuid": "a UUID string",
    "json": "any JSON value",
}


def coerce(value: Any, field_type: str) -> Any:
    """``value`` as ``field_type``'s Python type, or ``INVALID`` when it does not fit."""
    if value is None:
        return None
    if isinstance(value, EnvValue):
        return _from_env(str(value), field_type)
    if field_type in ("string", "text", "enum"):
        return str(value) if isinstance(value, str) else INVALID
    if field_type == "boolean":
        return value if isinstance(value, bool) else INVALID
    if field_type == "json":
        return value if _is_json(value) else INVALID
    if isinstance(value, bool):
        return INVALID
    if field_type == "integer":
        return value if isinstance(value, int) else INVALID
    if field_type == "float":
        return float(value) if isinstance(value, int | float) else INVALID
    if field_type == "decimal":
        return _decimal(value)
    if field_type == "date":
        if isinstance(value, datetime.datetime):
            return INVALID
        if isinstance(value, datetime.date):
            return value
        return _parse(datetime.date.fromisoformat, value)
    if field_type == "datetime":
        if isinstance(value, datetime.datetime):
            return value
        return _parse(datetime.datetime.fromisoformat, value)
    if field_type == "uuid":
        return _parse(uuid.UUID, value)
    return INVALID


NUMERIC_TYPES = ("integer", "float", "decimal")
TIME_TYPES = ("date", "datetime")


def bound(value: Any, field_type: str) -> Any:
    """``min``/``max`` of a ``field_type`` field as a float, or ``INVALID``."""
    if field_type in NUMERIC_TYPES:
        number = from_text(str(value), "number") if isinstance(value, EnvValue) else value
        if isinstance(number, bool) or not isinstance(number, int | float):
            return INVALID
        return float(number) if math.isfinite(number) else INVALID
    if field_type in TIME_TYPES:
        moment = coerce(value, field_type)
        return INVALID if moment is INVALID or moment is None else timestamp(moment)
    return INVALID


def timestamp(moment: datetime.date) -> float:
    """POSIX timestamp of a date (midnight UTC) or datetime (naive = UTC)."""
    if isinstance(moment, datetime.datetime):
        aware = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
        return aware.timestamp()
    return datetime.datetime(moment.year, moment.month, moment.day, tzinfo=datetime.UTC).timestamp()


def from_timestamp(stamp: float, field_type: str) -> datetime.date:
    """The inverse of :func:`timestamp` for a ``date`` or ``datetime`` field (UTC)."""
    moment = datetime.datetime.fromtimestamp(stamp, datetime.UTC)
    return moment.date() if field_type == "date" else moment


def _from_env(text: str, field_type: str) -> Any:
    if field_type == "boolean":
        return from_text(text, "boolean")
    if field_type == "integer":
        return from_text(text, "integer")
    if field_type == "float":
        number = from_text(text, "number")
        return INVALID if number is INVALID else float(number)
    return coerce(text, field_type)


def _decimal(value: Any) -> Any:
    if isinstance(value, int | float | str):
        try:
            result = decimal.Decimal(str(value))
        except decimal.InvalidOperation:
            return INVALID
        return result if result.is_finite() else INVALID
    return INVALID


def _parse(parser: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return INVALID
    try:
        return parser(value)
    except ValueError:
        return INVALID


def _is_json(value: Any) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(_is_json(item) for item in value.values())
    return False
