"""Output schemas compiled per resource: the reads' documents without marshmallow's dump loop.

A :class:`Dumper` is built once from a resource's marshmallow *output* schema (see
:mod:`app.schemas.factory`, which stays the declared shape of every document) and its
model. It knows statically what ``Schema.dump`` finds out on every call: which keys, in
which order, from which attributes, and which values need a conversion at all. Strings,
integers, booleans and free-form JSON are written as they are stored; the other types go
through their marshmallow field's own ``_serialize``, so a document is equal to
``schema.dump(obj)``, key order included.

It also gives reads a Core ``SELECT`` of the model's columns, each labelled with its
attribute name, the dumped ones first: :meth:`Dumper.dump_row` dumps such a row by
position, and the row answers attribute access as the model would (for the rules).

Contracts:

* ``dump(obj) == schema.dump(obj)`` and ``dump_row(row) == schema.dump(obj)`` for the row
  of ``obj``, for every value the columns can hold (a test compares them).
* :attr:`Dumper.plain_json` is true when every value the documents can hold is a string,
  an integer, a boolean or ``None``: such documents may be encoded by a JSON encoder that
  writes them byte for byte as ``json.dumps`` does (see :mod:`app.schemas.encoder`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, fields

from app.config.spec import ResourceSpec
from app.models.iri import context_iri, item_iri
from app.schemas.encoder import encode_document
from app.schemas.fields import (
    ApiDate,
    Iri,
    JsonDecimal,
    StrictBoolean,
    StrictInteger,
    Text,
    UtcDateTime,
)

__all__ = ["Dumper"]

Convert = Callable[[Any, Any, Any], Any]

_STORED_AS_WRITTEN = (Text, StrictInteger, StrictBoolean, fields.Raw)
"""Fields whose ``_serialize`` gives back a stored (non-``None``) value unchanged."""
_PLAIN = (Text, StrictInteger, StrictBoolean, Iri, ApiDate, UtcDateTime, fields.UUID, JsonDecimal)
"""Fields that write only strings, integers, booleans and ``None`` (not floats, not JSON)."""


class Dumper:
    """The compiled output schema of one resource (see the module's docstring)."""

    __slots__ = ("_attributes", "_converts", "_keys", "_last", "_resource", "columns", "plain_json")

    def __init__(self, schema: Schema, model: type[Any], resource: ResourceSpec) -> None:
        keys: list[str] = []
        attributes: list[str] = []
        converts: list[Convert | None] = []
        plain = True
        for name, field in schema.dump_fields.items():
            keys.append(field.data_key if field.data_key is not None else name)
            attributes.append(field.attribute or name)
            exact = isinstance(field, _STORED_AS_WRITTEN) and type(field)._serialize in (
                fields.String._serialize,
                fields.Integer._serialize,
                fields.Number._serialize,
                fields.Boolean._serialize,
                fields.Raw._serialize,
            )
            converts.append(None if exact else field._serialize)
            plain = plain and (isinstance(field, _PLAIN) or name == "id")
        self._keys = tuple(keys)
        self._attributes = tuple(attributes)
        self._converts = tuple(converts)
        self.plain_json = plain
        mapper: Any = sa.inspect(model)
        dumped = dict.fromkeys(attributes)
        others = [attribute.key for attribute in mapper.column_attrs if attribute.key not in dumped]
        self.columns: tuple[sa.Label[Any], ...] = tuple(
            mapper.columns[name].label(name) for name in (*dumped, *others)
        )
        """Every column of the model, labelled with its attribute, the dumped ones first."""
        self._resource = resource
        self._last: tuple[Any, bytes] | None = None

    def dump(self, obj: object) -> dict[str, Any]:
        """``schema.dump(obj)`` for an object with the model's attributes."""
        document: dict[str, Any] = {}
        for key, attribute, convert in zip(
            self._keys, self._attributes, self._converts, strict=True
        ):
            value = getattr(obj, attribute)
            if convert is not None and value is not None:
                value = convert(value, attribute, obj)
            document[key] = value
        return document

    def dump_row(self, row: Any) -> dict[str, Any]:
        """``schema.dump`` of the item whose row of :attr:`columns` is ``row``."""
        document: dict[str, Any] = {}
        for key, convert, value in zip(self._keys, self._converts, row, strict=False):
            if convert is not None and value is not None:
                value = convert(value, key, row)
            document[key] = value
        return document

    def encode_item(self, row: Any) -> bytes:
        """The JSON-LD item document of ``row`` (``@context``, ``@id``, ``@type``, then
        :meth:`dump_row`), encoded by :func:`~app.schemas.encoder.encode_document`.

        The last row's bytes are kept and given back for the same row object (rows are
        immutable): a write encodes its row once, for its update and for its answer."""
        last = self._last
        if last is not None and last[0] is row:
            return last[1]
        resource = self._resource
        document = {
            "@context": context_iri(resource),
            "@id": item_iri(resource, row),
            "@type": resource.name,
            **self.dump_row(row),
        }
        encoded = encode_document(document, plain=self.plain_json)
        self._last = (row, encoded)
        return encoded
