"""The accepted keys of ``resources.yaml``: one table, read by the validator and the docs test.

The shapes below describe every key the loader accepts, its type and a one-line meaning.
:mod:`app.config.validation` checks a document against :data:`DOCUMENT`; the docs test
walks the same table (:func:`iter_keys`) so an accepted key cannot go undocumented.
Cross-field rules (option X only for type Y, names that must exist) live in
:mod:`app.config.rules`, :mod:`app.config.fields` and :mod:`app.config.references`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from app.config.spec import (
    FIELD_TYPES,
    OPERATIONS,
    SEARCH_STRATEGIES,
    Direction,
    OnDelete,
)

ScalarKind = Literal["string", "integer", "number", "boolean", "any"]
NameRule = Literal["resource", "field", "reference"]

ON_DELETE: tuple[str, ...] = get_args(OnDelete)
DIRECTIONS: tuple[str, ...] = get_args(Direction)


@dataclass(frozen=True)
class Scalar:
    """A single value; ``any`` is checked later against the field type (``default``)."""

    kind: ScalarKind
    minimum: int | None = None


@dataclass(frozen=True)
class Choice:
    """One string out of ``values``."""

    values: tuple[str, ...]


@dataclass(frozen=True)
class ListOf:
    """A list of distinct items."""

    item: Scalar | Choice


@dataclass(frozen=True)
class Key:
    """One key of a :class:`Section`."""

    shape: Shape
    doc: str
    required: bool = False


@dataclass(frozen=True)
class Section:
    """A mapping with a fixed set of keys; any other key is an error."""

    keys: Mapping[str, Key] = field(default_factory=dict)


@dataclass(frozen=True)
class NameMap:
    """A mapping from names the user chooses (``names`` says which rule they follow)."""

    value: Shape
    names: NameRule
    placeholder: str


@dataclass(frozen=True)
class Either:
    """A scalar shorthand or the full section; ``wrap`` turns the scalar into ``{wrap: value}``."""

    scalar: Scalar | Choice
    section: Section
    wrap: str | None = None


Shape = Scalar | Choice | ListOf | Section | NameMap | Either

STRING = Scalar("string")
BOOLEAN = Scalar("boolean")
ANY = Scalar("any")
NAMES = ListOf(STRING)

FIELD = Section(
    {
        "type": Key(Choice(FIELD_TYPES), "column type", required=True),
        "required": Key(BOOLEAN, "clients must send it on create and replace (default false)"),
        "nullable": Key(BOOLEAN, "null is accepted (default: true unless required)"),
        "unique": Key(BOOLEAN, "no two rows share the value (default false)"),
        "default": Key(ANY, "value used when a create omits it; must match the type"),
        "max_length": Key(Scalar("integer", 1), "longest accepted string (string, text)"),
        "min": Key(ANY, "smallest accepted value (integer, float, decimal, date, datetime)"),
        "max": Key(ANY, "largest accepted value (integer, float, decimal, date, datetime)"),
        "choices": Key(NAMES, "accepted values of an enum (required for enum)"),
        "read_only": Key(BOOLEAN, "returned but never written by clients"),
        "write_only": Key(BOOLEAN, "written but never returned"),
        "precision": Key(Scalar("integer", 1), "total digits of a decimal (default 12)"),
        "scale": Key(Scalar("integer", 0), "digits after the point of a decimal (default 2)"),
        "groups": Key(NAMES, "serialization groups the field belongs to"),
        "description": Key(STRING, "shown in the OpenAPI document"),
        "iri": Key(STRING, "RDF property of the field (https://schema.org/name)"),
    }
)

RELATION = Section(
    {
        "target": Key(STRING, "name of the related resource", required=True),
        "required": Key(BOOLEAN, "clients must send it on create and replace (default false)"),
        "nullable": Key(BOOLEAN, "null is accepted (default: true unless required)"),
        "on_delete": Key(Choice(ON_DELETE), "what deleting the target does (default restrict)"),
        "read_only": Key(BOOLEAN, "returned but never written by clients"),
        "write_only": Key(BOOLEAN, "written but never returned"),
        "groups": Key(NAMES, "serialization groups the relation belongs to"),
        "description": Key(STRING, "shown in the OpenAPI document"),
        "iri": Key(STRING, "RDF property of the relation (https://schema.org/about)"),
    }
)

PAGINATION = Section(
    {
        "enabled": Key(BOOLEAN, "collections are paged (default true)"),
        "items_per_page": Key(Scalar("integer", 1), "page size (default 30)"),
        "maximum_items_per_page": Key(
            Scalar("integer", 1), "cap on the itemsPerPage parameter (default 100)"
        ),
        "client_items_per_page": Key(BOOLEAN, "clients may choose itemsPerPage (default true)"),
    }
)

FILTERS = Section(
    {
        "search": Key(
            NameMap(Choice(SEARCH_STRATEGIES), "reference", "<field>"),
            "field -> strategy; ?title=foo",
        ),
        "range": Key(NAMES, "numeric fields; ?rating[gte]=3"),
        "date": Key(NAMES, "date and datetime fields; ?publicationDate[after]=2024-01-01"),
        "boolean": Key(NAMES, "boolean fields; ?available=true"),
        "exists": Key(NAMES, "nullable fields and relations; ?exists[description]=true"),
    }
)

ORDER = Section(
    {
        "fields": Key(NAMES, "fields clients may sort by with order[field]=asc|desc"),
        "default": Key(
            NameMap(Choice(DIRECTIONS), "reference", "<field>"),
            "order applied when the client gives none (default id: asc)",
        ),
    }
)

MERCURE = Either(
    BOOLEAN,
    Section(
        {
            "private": Key(BOOLEAN, "updates reach only authorized subscribers"),
            "topics": Key(
                NAMES, "topic templates replacing the item IRI ({id}, {book.id}, {+field}, @iri)"
            ),
            "data": Key(STRING, "payload replacing the serialized item"),
            "id": Key(STRING, "SSE id of the update (default: generated by the hub)"),
            "type": Key(STRING, "SSE event type"),
            "retry": Key(Scalar("integer", 0), "SSE reconnection delay in milliseconds"),
            "hub": Key(STRING, "name of the hub to publish to"),
            "normalization_groups": Key(NAMES, "publish only fields of these groups"),
            "include_type": Key(BOOLEAN, "add @type to delete updates (default false)"),
        }
    ),
)

RULE = Either(
    STRING,
    Section(
        {
            "rule": Key(STRING, "security expression, or 'public' for no check", required=True),
            "message": Key(STRING, "detail of the 401/403 answer when the rule denies"),
        }
    ),
    wrap="rule",
)

SECURITY = Either(
    STRING,
    Section(
        {
            "rule": Key(STRING, "expression for every operation without its own, or 'public'"),
            "message": Key(STRING, "detail of the 401/403 answer when a rule denies"),
            "operations": Key(
                Section({operation: Key(RULE, f"rule of {operation}") for operation in OPERATIONS}),
                "per-operation rules: an expression, 'public', or {rule, message}",
            ),
        }
    ),
    wrap="rule",
)

RESOURCE = Section(
    {
        "route": Key(STRING, "collection path (default '/' + snake_case plural of the name)"),
        "table": Key(STRING, "database table (default snake_case of the name)"),
        "description": Key(STRING, "shown in the OpenAPI document"),
        "fields": Key(
            NameMap(Either(Choice(FIELD_TYPES), FIELD, wrap="type"), "field", "<field>"),
            "columns: name -> options, or name -> type",
        ),
        "relations": Key(
            NameMap(RELATION, "field", "<relation>"), "many-to-one links, read and written as IRIs"
        ),
        "operations": Key(ListOf(Choice(OPERATIONS)), "enabled operations (default all)"),
        "pagination": Key(PAGINATION, "collection paging"),
        "filters": Key(FILTERS, "collection filters"),
        "order": Key(ORDER, "collection ordering"),
        "mercure": Key(MERCURE, "publish updates: true, false or options (default false)"),
        "owner": Key(STRING, "string field set to the user's id on create, read-only after"),
        "security": Key(SECURITY, "who may perform each operation: expression or options"),
        "allow_extra_attributes": Key(
            BOOLEAN, "unknown properties in write bodies are ignored (true) or a 422 (false)"
        ),
    }
)

API = Section(
    {
        "title": Key(STRING, "API title (default mercure-gateway)"),
        "version": Key(STRING, "API version; quote numbers like '1.0' (default 1.0.0)"),
        "description": Key(STRING, "API description"),
    }
)

DOCUMENT = Section(
    {
        "api": Key(API, "metadata shown in the entrypoint and the OpenAPI document"),
        "resources": Key(
            NameMap(RESOURCE, "resource", "<Resource>"), "resources by name", required=True
        ),
    }
)


def describe(shape: Shape) -> str:
    """What a value of ``shape`` looks like, for "expected ..." messages."""
    if isinstance(shape, Scalar):
        if shape.kind == "any":
            return "a value"
        article = "an" if shape.kind == "integer" else "a"
        bound = f" >= {shape.minimum}" if shape.minimum is not None else ""
        word = {"boolean": "boolean (true or false)"}.get(shape.kind, shape.kind)
        return f"{article} {word}{bound}"
    if isinstance(shape, Choice):
        return "one of " + ", ".join(shape.values)
    if isinstance(shape, ListOf):
        if isinstance(shape.item, Choice):
            return "a list of values out of " + ", ".join(shape.item.values)
        return f"a list of {shape.item.kind}s"
    if isinstance(shape, Section):
        return "a mapping with keys " + ", ".join(shape.keys)
    if isinstance(shape, NameMap):
        return f"a mapping of {shape.placeholder} -> {describe(shape.value)}"
    return f"{describe(shape.scalar)} or {describe(shape.section)}"


def iter_keys(shape: Shape = DOCUMENT, path: str = "") -> Iterator[tuple[str, Key]]:
    """Every accepted key as ``(dotted pattern, key)``, e.g. ``resources.<Resource>.route``."""
    if isinstance(shape, Section):
        for name, key in shape.keys.items():
            dotted = f"{path}.{name}" if path else name
            yield dotted, key
            yield from iter_keys(key.shape, dotted)
    elif isinstance(shape, NameMap):
        yield from iter_keys(shape.value, f"{path}.{shape.placeholder}")
    elif isinstance(shape, Either):
        yield from iter_keys(shape.section, path)
