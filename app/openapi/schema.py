"""JSON Schema (OpenAPI 3.1 dialect) for the resources of a spec.

Pure functions from :mod:`app.config.spec` values to plain ``dict`` documents; no Flask.
Each resource yields three component schemas, named as API Platform names them:

- ``<Name>``: the plain JSON representation. Every property carries ``readOnly`` or
  ``writeOnly`` as declared, so one schema serves requests and responses; ``required``
  lists what a client must send on create and replace.
- ``<Name>.jsonld``: the same plus the JSON-LD keys ``@context``, ``@id`` and ``@type``.
- ``<Name>.jsonMergePatch``: the same properties, none required (RFC 7396 bodies).

Nullable values use the 3.1 form ``type: [T, "null"]``; relations are IRI strings
(``format: iri-reference``) of the target's items (``pattern``). Text has no NUL
character (PostgreSQL cannot store it). Bodies may carry the JSON-LD keys (``@context``,
``@id``, ``@type``), which are ignored, and the read-only properties, which are ignored
too. Any other property is ignored as well, unless the resource is strict
(``allow_extra_attributes: false``): then it is refused, so ``additionalProperties`` is
``false`` beside a ``patternProperties`` that lets ``@`` keys through.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Mapping
from typing import Any

from app.config.spec import FieldSpec, FieldType, RelationSpec, ResourceSpec
from app.models.columns import DEFAULT_STRING_LENGTH

Schema = dict[str, Any]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
"""Bounds of ``integer`` columns and ids (32 bits on every database)."""
TEXT_PATTERN = r"^[^\u0000]*$"
"""Strings the API stores: any text without NUL characters."""
ID_PATTERN = "[1-9][0-9]{0,8}"
"""An item id as written in an IRI (at most nine digits: always within 32 bits)."""
JSONLD_KEYS: Schema = {"^@": {}}
"""``patternProperties`` of bodies: JSON-LD keys are accepted (and ignored)."""

# JSON Schema per field type, before options (length, bounds, nullability) are applied. A
# date or date-time is never shorter than ``2024-05-01``: ``minLength`` says so to clients
# (and to contract testers) that do not check ``format``.
_BASE: Mapping[FieldType, Schema] = {
    "string": {"type": "string", "pattern": TEXT_PATTERN},
    "text": {"type": "string", "pattern": TEXT_PATTERN},
    "integer": {"type": "integer", "format": "int32", "minimum": INT32_MIN, "maximum": INT32_MAX},
    "float": {"type": "number", "format": "double"},
    "decimal": {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date", "minLength": 10},
    "datetime": {"type": "string", "format": "date-time", "minLength": 10},
    "uuid": {"type": "string", "format": "uuid"},
    "json": {},
    "enum": {"type": "string"},
}

_NUMERIC: frozenset[FieldType] = frozenset({"integer", "float"})

_ALSO_ACCEPTED: Mapping[FieldType, str] = {
    "date": "Written as a date; an RFC 3339 date-time is also accepted, and its date (in its "
    "own offset) is stored, as API Platform does.",
    "datetime": "A date alone is also accepted, as midnight UTC.",
}
"""What a write accepts beyond the format each type is read in (documented, since one
schema describes both)."""


def json_value(value: object) -> object:
    """``value`` as it appears in a JSON document (defaults may be dates, decimals, ...)."""
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, tuple):
        return [json_value(item) for item in value]
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def _nullable(schema: Schema) -> Schema:
    """Let ``schema`` also accept ``null`` (3.1: ``null`` joins the type list)."""
    kind = schema.get("type")
    if kind is None:
        return schema  # no type: null is already accepted
    types = kind if isinstance(kind, list) else [kind]
    if "null" not in types:
        schema["type"] = [*types, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def field_schema(spec: FieldSpec) -> Schema:
    """The schema of one scalar field with its declared options."""
    schema: Schema = dict(_BASE[spec.type])
    if spec.type == "enum":
        schema["enum"] = list(spec.choices)
    if spec.max_length is not None:
        schema["maxLength"] = spec.max_length
    elif spec.type == "string":
        schema["maxLength"] = DEFAULT_STRING_LENGTH
    if spec.type in _NUMERIC:
        if spec.minimum is not None:
            schema["minimum"] = _number(spec.minimum, spec.type)
        if spec.maximum is not None:
            schema["maximum"] = _number(spec.maximum, spec.type)
    elif spec.minimum is not None or spec.maximum is not None:
        schema["description"] = _bounds_text(spec)
    if spec.type in _ALSO_ACCEPTED:
        shown = schema.get("description")
        schema["description"] = (
            f"{shown} {_ALSO_ACCEPTED[spec.type]}" if shown else _ALSO_ACCEPTED[spec.type]
        )
    if spec.nullable:
        _nullable(schema)
    _annotate(schema, spec.description, spec.read_only, spec.write_only)
    if spec.has_default:
        schema["default"] = json_value(spec.default)
    return schema


def iri_pattern(route: str, *, bare_id: bool = False) -> str:
    """The ``pattern`` of IRIs of ``route``'s items (``bare_id``: or of their ids alone)."""
    escaped = "".join(f"\\{c}" if c in _REGEX_SPECIALS else c for c in route)
    prefix = f"({escaped}/)?" if bare_id else f"{escaped}/"
    return f"^{prefix}{ID_PATTERN}$"


_REGEX_SPECIALS = frozenset("\\^$.|?*+()[]{}")


def relation_schema(spec: RelationSpec, target_route: str) -> Schema:
    """A many-to-one relation, read and written as the target's IRI."""
    schema: Schema = {
        "type": "string",
        "format": "iri-reference",
        "pattern": iri_pattern(target_route),
        "examples": [f"{target_route}/1"],
    }
    if spec.nullable:
        _nullable(schema)
    text = spec.description or f"IRI of a {spec.target} ({target_route}/{{id}})."
    _annotate(schema, text, spec.read_only, spec.write_only)
    return schema


def resource_schemas(resource: ResourceSpec, routes: Mapping[str, str]) -> dict[str, Schema]:
    """The component schemas of ``resource``, keyed by component name.

    ``routes`` maps every resource name of the spec to its collection route, for the
    IRI examples of relations.
    """
    properties: dict[str, Schema] = {"id": {"type": "integer", "readOnly": True}}
    required: list[str] = []
    for spec in resource.fields:
        properties[spec.name] = field_schema(spec)
        if spec.required and not spec.read_only:
            required.append(spec.name)
    for relation in resource.relations:
        properties[relation.name] = relation_schema(relation, routes[relation.target])
        if relation.required and not relation.read_only:
            required.append(relation.name)

    closed: Schema = (
        {"patternProperties": dict(JSONLD_KEYS), "additionalProperties": False}
        if resource.strict_bodies
        else {}
    )
    plain: Schema = {"type": "object", "properties": properties, **closed}
    if resource.description:
        plain["description"] = resource.description
    if required:
        plain["required"] = required
    name = resource.name
    jsonld: Schema = {
        "allOf": [
            ref(name),
            {
                "type": "object",
                "properties": {
                    "@context": {
                        "readOnly": True,
                        "oneOf": [{"type": "string"}, {"type": "object"}],
                    },
                    "@id": {"type": "string", "format": "iri-reference", "readOnly": True},
                    "@type": {"type": "string", "readOnly": True, "examples": [name]},
                },
            },
        ]
    }
    patch: Schema = {"type": "object", "properties": dict(properties), **closed}
    return {name: plain, f"{name}.jsonld": jsonld, f"{name}.jsonMergePatch": patch}


def ref(component: str) -> Schema:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{component}"}


def _annotate(schema: Schema, description: str, read_only: bool, write_only: bool) -> None:
    if description:
        schema["description"] = (
            f"{description} {schema['description']}" if "description" in schema else description
        )
    if read_only:
        schema["readOnly"] = True
    if write_only:
        schema["writeOnly"] = True


def _number(value: float, kind: FieldType) -> float | int:
    return int(value) if kind == "integer" and float(value).is_integer() else value


def _bounds_text(spec: FieldSpec) -> str:
    """Bounds JSON Schema cannot express on strings (decimals, dates as POSIX timestamps)."""
    parts = []
    for word, bound in (("at least", spec.minimum), ("at most", spec.maximum)):
        if bound is None:
            continue
        if spec.type == "date":
            shown = datetime.datetime.fromtimestamp(bound, datetime.UTC).date().isoformat()
        elif spec.type == "datetime":
            shown = datetime.datetime.fromtimestamp(bound, datetime.UTC).isoformat()
        else:
            shown = f"{bound:g}"
        parts.append(f"{word} {shown}")
    return "Must be " + " and ".join(parts) + "."
