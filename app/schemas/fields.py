"""Marshmallow fields for each spec field type, as API Platform reads and writes them.

Strict on input (an integer is a JSON integer, a boolean a JSON boolean); decimals are
written as strings; datetimes are read with or without offset (no offset means UTC),
stored in UTC and written in ISO 8601 with their offset (``2024-05-01T12:00:00+00:00``);
a datetime given as a date (``2024-05-01``) is midnight UTC that day; a date is read
from a date or, as API Platform reads it, from an RFC 3339 date-time, of which it keeps
the calendar date as written (see :class:`ApiDate`); dates are written ``2024-05-01``;
relations are IRIs (``/books/1``) read into the target's id.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping
from typing import Any

from marshmallow import ValidationError, fields, validate

from app.config.spec import FieldSpec, RelationSpec, ResourceSpec
from app.models.columns import DEFAULT_STRING_LENGTH, relation_column
from app.models.iri import iri_for_id, parse_iri

UTC = dt.UTC


class UtcDateTime(fields.AwareDateTime):
    """ISO 8601 datetime; naive input is taken as UTC; values are normalised to UTC."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", default_timezone=UTC, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        try:
            return super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
        except OverflowError:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return str(aware.astimezone(UTC).isoformat())


class ApiDate(fields.Date):
    """An ISO 8601 date (``2020-01-02``), or a date-time as API Platform clients send for
    a date (``2020-01-02T00:00:00+00:00``; any date-time a ``datetime`` field reads).

    A date-time stands for the calendar date written in it, in its own offset:
    ``2020-01-02T23:30:00-05:00`` is 2020-01-02 (the same instant is already 2020-01-03
    in UTC). API Platform does the same: Symfony's ``DateTimeNormalizer`` builds a
    ``DateTime`` keeping the offset written, and Doctrine's ``date`` type stores its
    ``Y-m-d`` in that offset.
    """

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        try:
            result: dt.date = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            if not isinstance(value, str):
                raise
            try:  # the date-times a ``datetime`` field reads
                return dt.datetime.fromisoformat(value).date()
            except ValueError:
                raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None
        return result


class Text(fields.String):
    """A JSON string without NUL characters (PostgreSQL cannot store them)."""

    default_error_messages = {"nul": "This value must not contain NUL characters."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        result = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in result:
            raise self.make_error("nul")
        return result


class StrictInteger(fields.Integer):
    """A JSON integer, as JSON Schema reads ``integer``: a number without a fractional part
    (``3`` or ``3.0``; not ``3.5``, ``"3"`` or ``true``)."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class StrictFloat(fields.Float):
    """A finite JSON number (not a string, not a boolean)."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool | str):
            raise self.make_error("invalid", input=value)
        result = super()._validated(value)
        if result is not None and not math.isfinite(result):
            raise self.make_error("special")
        return result


class StrictBoolean(fields.Boolean):
    """A JSON ``true`` or ``false`` (not 1, 0 or a string)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class JsonDecimal(fields.Decimal):
    """A decimal written as a string (API Platform's shape); read from a string or number.

    Values with more than ``places`` decimals are rounded half up (``"1.005"`` -> ``1.01``
    with two places), as PostgreSQL rounds them into a ``numeric`` column, so the value
    answered is the value stored on every database.
    """

    def __init__(self, *, places: int, **kwargs: Any) -> None:
        super().__init__(
            places=places,
            rounding=decimal.ROUND_HALF_UP,
            as_string=True,
            allow_nan=False,
            **kwargs,
        )

    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Iri(fields.Field):  # type: ignore[type-arg]
    """A many-to-one relation: reads an IRI of ``target`` into its id, writes the IRI.

    Serialization reads the foreign-key attribute (``book_id``), never the related row.
    """

    default_error_messages = {
        "invalid": 'Invalid IRI "{input}": expected an IRI of a {target} such as "{example}".'
    }

    def __init__(self, target: ResourceSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else iri_for_id(self.target, value)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> int:
        item_id = parse_iri(self.target, value) if isinstance(value, str) else None
        if item_id is None:
            raise self.make_error(
                "invalid",
                input=value,
                target=self.target.name,
                example=iri_for_id(self.target, 1),
            )
        return item_id


def _timestamp(value: dt.date) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return dt.datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()


class _TimestampRange(validate.Validator):
    """``minimum``/``maximum`` of date and datetime fields, as POSIX timestamps."""

    def __init__(self, minimum: float | None, maximum: float | None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def __call__(self, value: Any) -> Any:
        stamp = _timestamp(value)
        if self.minimum is not None and stamp < self.minimum:
            bound = dt.datetime.fromtimestamp(self.minimum, UTC).isoformat()
            raise ValidationError(f"This value should be {bound} or later.")
        if self.maximum is not None and stamp > self.maximum:
            bound = dt.datetime.fromtimestamp(self.maximum, UTC).isoformat()
            raise ValidationError(f"This value should be {bound} or earlier.")
        return value


INT_MIN, INT_MAX = -(2**31), 2**31 - 1
"""Bounds of ``integer`` columns (32 bits on every database)."""


class _StorageLimits(validate.Validator):
    """What the column can store, so that no value fails in the database instead."""

    def __init__(self, spec: FieldSpec) -> None:
        self.spec = spec

    def __call__(self, value: Any) -> Any:
        spec = self.spec
        if spec.type == "integer" and not INT_MIN <= value <= INT_MAX:
            raise ValidationError(f"This value should be between {INT_MIN} and {INT_MAX}.")
        if spec.type == "decimal" and value.is_finite():
            digits = spec.precision - spec.scale
            if abs(value) >= 10**digits:
                raise ValidationError(
                    f"This value should have at most {digits} digits before the decimal point."
                )
        return value


class _Range(validate.Range):
    """Inclusive numeric bounds with API Platform's messages."""

    message_min = "This value should be greater than or equal to {{min}}."
    message_max = "This value should be less than or equal to {{max}}."
    message_all = "This value should be between {{min}} and {{max}}."


def _validators(spec: FieldSpec) -> list[validate.Validator]:
    result: list[validate.Validator] = [_StorageLimits(spec)]
    max_length = spec.max_length
    if spec.type == "string" and max_length is None:
        max_length = DEFAULT_STRING_LENGTH
    if max_length is not None:
        result.append(
            validate.Length(
                max=max_length,
                error="This value is too long. It should have {max} characters or less.",
            )
        )
    if spec.minimum is not None or spec.maximum is not None:
        if spec.type in ("date", "datetime"):
            result.append(_TimestampRange(spec.minimum, spec.maximum))
        else:
            result.append(_Range(min=_number(spec.minimum), max=_number(spec.maximum)))
    if spec.choices:
        result.append(
            validate.OneOf(spec.choices, error="The value you selected is not a valid choice.")
        )
    return result


def _number(bound: float | None) -> float | int | None:
    """A bound as the client wrote it: ``5`` rather than ``5.0`` for whole numbers."""
    return int(bound) if bound is not None and float(bound).is_integer() else bound


_REQUIRED = "This value should not be blank."
_NULL = "This value should not be null."


def scalar_field(spec: FieldSpec, *, required: bool) -> fields.Field:  # type: ignore[type-arg]
    """The marshmallow field reading and writing one spec field."""
    options: dict[str, Any] = {
        "required": required,
        "allow_none": spec.nullable,
        "validate": _validators(spec),
        "load_only": spec.write_only,
        "dump_only": spec.read_only,
        "error_messages": {"required": _REQUIRED, "null": _NULL},
    }
    match spec.type:
        case "string" | "text" | "enum":
            return Text(**options)
        case "integer":
            return StrictInteger(strict=True, **options)
        case "float":
            return StrictFloat(**options)
        case "decimal":
            return JsonDecimal(places=spec.scale, **options)
        case "boolean":
            return StrictBoolean(**options)
        case "date":
            return ApiDate(format="iso", **options)
        case "datetime":
            return UtcDateTime(**options)
        case "uuid":
            return fields.UUID(**options)
        case "json":
            return fields.Raw(**options)
    raise ValueError(f"field {spec.name!r} has unsupported type {spec.type!r}")


def relation_field(relation: RelationSpec, target: ResourceSpec, *, required: bool) -> fields.Field:  # type: ignore[type-arg]
    """The marshmallow field of a relation; its attribute is the foreign key ``<name>_id``."""
    return Iri(
        target,
        attribute=relation_column(relation),
        data_key=relation.name,
        required=required,
        allow_none=relation.nullable,
        load_only=relation.write_only,
        dump_only=relation.read_only,
        error_messages={"required": _REQUIRED, "null": _NULL},
    )
