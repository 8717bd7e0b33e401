"""Collection query parameters -> SQL clauses, as API Platform's Doctrine filters.

Pure query building: no IO, request arguments come in as a multi-dict. Parameters:

- search: ``name=value`` or ``name[]=a&name[]=b`` with the declared strategy (``exact``,
  ``partial``, ``start``, ``end`` and the case-insensitive ``i`` variants); relations take
  an IRI or an id. The ``i`` variants fold case character by character with Unicode's
  simple mapping on every database (``?title=война`` finds "Война и мир" on SQLite as on
  PostgreSQL), see :func:`app.models.columns.simple_lower` for what that covers.
- range: ``name[gt|gte|lt|lte]=n`` and ``name[between]=a..b``.
- date: ``name[before|strictly_before|after|strictly_after]=2024-05-01``.
- boolean: ``name=true|false|1|0``.
- exists: ``exists[name]=true|false`` (NULL or not).
- order: ``order[name]=asc|desc`` for the declared fields; else the declared default.
  The primary key is always the last sort key, so pages are stable.

Parameters that name no declared filter (or a ``json`` field, which has no portable
equality or ordering; ``exists`` works on it) are ignored (API Platform does the same). A
declared filter with a malformed value (an empty one included, but for a search on text)
is a 400 whose detail names the parameter; so is a number the column cannot hold, whose
detail names the column's range (integers are 32-bit on every database, see
:func:`app.models.columns.integer_range`). The OpenAPI parameters describe exactly these
values (:mod:`app.openapi.parameters`); the parameters and their operators are declared
once, in :mod:`app.config.parameters`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.api.values import (
    check_storable,
    field_value,
    integer_value,
    parse_bool,
    relation_value,
)
from app.config.parameters import DATE_OPERATORS, RANGE_OPERATORS
from app.config.spec import ResourceSpec, ResourcesSpec, SearchStrategy
from app.errors import BadRequest
from app.models.columns import relation_column, unicode_lower

Clause = sa.ColumnElement[bool]

MAX_SEARCH_VALUES = 100
"""Values one search parameter may repeat (``?title=a&title=b``); more is a 400."""
_KEY = re.compile(r"^(?P<name>[^\[\]]+)(?:\[(?P<op>[^\[\]]*)\])?$")


def _ilike(column: Any, value: Any, *, prefix: str, suffix: str) -> Clause:
    """``column`` matches ``prefix + value + suffix`` (``%`` wildcards) ignoring case.

    Both sides are folded by :class:`unicode_lower` in the database, so SQLite and
    PostgreSQL fold the same characters (PostgreSQL's ``ILIKE`` lowercases both sides
    the same way); ``%``, ``_`` and ``/`` in ``value`` match themselves.
    """
    escaped = re.sub(r"([/%_])", r"/\1", str(value))
    pattern = sa.literal(prefix + escaped + suffix, sa.String())
    like: Clause = unicode_lower(column).like(unicode_lower(pattern), escape="/")
    return like


_SEARCH: dict[SearchStrategy, Callable[[Any, Any], Clause]] = {
    "exact": lambda column, value: column == value,
    "iexact": lambda column, value: (
        unicode_lower(column) == unicode_lower(sa.literal(str(value), sa.String()))
    ),
    "partial": lambda column, value: column.contains(value, autoescape=True),
    "ipartial": lambda column, value: _ilike(column, value, prefix="%", suffix="%"),
    "start": lambda column, value: column.startswith(value, autoescape=True),
    "istart": lambda column, value: _ilike(column, value, prefix="", suffix="%"),
    "end": lambda column, value: column.endswith(value, autoescape=True),
    "iend": lambda column, value: _ilike(column, value, prefix="%", suffix=""),
}
_COMPARE: dict[str, Callable[[Any, Any], Clause]] = {
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
    "before": lambda column, value: column <= value,
    "strictly_before": lambda column, value: column < value,
    "after": lambda column, value: column >= value,
    "strictly_after": lambda column, value: column > value,
}


class QueryBuilder:
    """Clauses and sort keys of one resource's collection."""

    def __init__(self, spec: ResourcesSpec, resource: ResourceSpec, model: type[Any]) -> None:
        self.spec = spec
        self.resource = resource
        self.model = model
        self._search = dict(resource.filters.search)
        # JSON values have no equality or ordering on every database: never filtered.
        self._opaque = frozenset(f.name for f in resource.fields if f.type == "json")
        self._default_order = self._sort_keys(resource.order.default)

    def where(self, args: MultiDict[str, str]) -> list[Clause]:
        """The filter clauses for ``args``; raises :class:`BadRequest` for bad values."""
        filters = self.resource.filters
        clauses: list[Clause] = []
        for key in args:
            match = _KEY.match(key)
            if match is None:
                continue
            name, op = match["name"], match["op"]
            if name in self._opaque:
                continue
            values = args.getlist(key)
            if name == "exists" and op is not None and op in filters.exists:
                clauses.append(self._exists(key, op, values[-1]))
            elif op in (None, "") and name in self._search:
                clauses.append(self._search_clause(key, name, values))
            elif op is None and name in filters.boolean:
                clauses.append(self._column(name) == self._parse(key, name, values[-1]))
            elif op is not None and name in filters.range and op in RANGE_OPERATORS:
                clauses.append(self._range(key, name, op, values[-1]))
            elif op is not None and name in filters.date and op in DATE_OPERATORS:
                clauses.append(_COMPARE[op](self._column(name), self._parse(key, name, values[-1])))
            elif op and (name in filters.range or name in filters.date):
                allowed = RANGE_OPERATORS if name in filters.range else DATE_OPERATORS
                raise BadRequest(
                    f"Unknown operator {op!r} in {key!r}; use one of {', '.join(allowed)}."
                )
        return clauses

    def order_by(self, args: MultiDict[str, str]) -> list[sa.ColumnElement[Any]]:
        """Sort keys from ``order[...]`` (or the declared default), then ``id``."""
        requested: list[tuple[str, str]] = []
        for key in args:
            match = _KEY.match(key)
            if match is None or match["name"] != "order" or not match["op"]:
                continue
            name = match["op"]
            if name not in self.resource.order.fields or name in self._opaque:
                continue
            direction = args.getlist(key)[-1].strip().lower()
            if direction not in ("asc", "desc"):
                raise BadRequest(f"{key}={direction!r} is not valid; use asc or desc.")
            requested.append((name, direction))
        if not requested:
            return list(self._default_order)  # built once: clause objects are immutable
        return self._sort_keys(requested)

    @property
    def default_order(self) -> list[sa.ColumnElement[Any]]:
        """The declared default sort keys (the very objects :meth:`order_by` returns)."""
        return list(self._default_order)

    def is_default_order(self, order: Sequence[sa.ColumnElement[Any]]) -> bool:
        """Whether ``order`` (from :meth:`order_by`) is the declared default."""
        default = self._default_order
        return len(order) == len(default) and all(
            key is kept for key, kept in zip(order, default, strict=True)
        )

    def _sort_keys(self, order: Sequence[tuple[str, str]]) -> list[sa.ColumnElement[Any]]:
        """``(name, direction)`` pairs as sort keys, then ``id`` as the tie-breaker."""
        keys: list[sa.ColumnElement[Any]] = []
        for name, direction in order:
            column = self._column(name)
            # Nulls sort as the smallest value on every database (PostgreSQL's default
            # is the opposite), so pages are identical on SQLite and PostgreSQL.
            keys.append(
                column.desc().nulls_last() if direction == "desc" else column.asc().nulls_first()
            )
        if all(name != "id" for name, _ in order):
            keys.append(self.model.id.asc())
        return keys

    def _column(self, name: str) -> Any:
        if name == "id":
            return self.model.id
        relation = self.resource.relation(name)
        if relation is not None:
            return getattr(self.model, relation_column(relation))
        return getattr(self.model, name)

    def _textual(self, name: str) -> bool:
        field = self.resource.field(name)
        return field is not None and field.type in ("string", "text", "enum")

    def _parse(self, key: str, name: str, raw: str) -> Any:
        """``raw`` as a value of ``name``'s column, or a 400 naming ``key``."""
        try:
            relation = self.resource.relation(name)
            if relation is not None:
                return relation_value(relation, self.spec.resource(relation.target), raw)
            field = self.resource.field(name)
            if name == "id":
                value: Any = integer_value(raw)
            else:
                value = raw if field is None else field_value(field, raw)
            check_storable(self._column(name).type, value)
            return value
        except ValueError as error:
            raise BadRequest(f"Invalid value {raw!r} for {key!r}: {error}.") from None

    def _search_clause(self, key: str, name: str, values: list[str]) -> Clause:
        if len(values) > MAX_SEARCH_VALUES:
            raise BadRequest(
                f"{len(values)} values for {key!r}: a search takes at most {MAX_SEARCH_VALUES}."
            )
        strategy = self._search[name]
        column = self._column(name)
        parsed = [self._parse(key, name, raw) for raw in values]
        if not self._textual(name):
            exact: Clause = column.in_(parsed) if len(parsed) > 1 else column == parsed[0]
            return exact
        return sa.or_(*(_SEARCH[strategy](column, value) for value in parsed))

    def _range(self, key: str, name: str, op: str, raw: str) -> Clause:
        column = self._column(name)
        if op != "between":
            return _COMPARE[op](column, self._parse(key, name, raw))
        low, sep, high = raw.partition("..")
        if not sep:
            raise BadRequest(f"Invalid value {raw!r} for {key!r}: expected <low>..<high>.")
        between: Clause = column.between(self._parse(key, name, low), self._parse(key, name, high))
        return between

    def _exists(self, key: str, name: str, raw: str) -> Clause:
        try:
            present = parse_bool(raw)
        except ValueError as error:
            raise BadRequest(f"Invalid value {raw!r} for {key!r}: {error}.") from None
        column = self._column(name)
        exists: Clause = column.is_not(None) if present else column.is_(None)
        return exists
