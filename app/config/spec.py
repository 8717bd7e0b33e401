"""The validated, frozen form of ``resources.yaml``.

Everything downstream (models, schemas, REST views, publishing) reads these dataclasses
and nothing else; none of them knows YAML, Flask or SQLAlchemy. Instances are built only
by :func:`app.config.loader.load_resources` (or directly in tests) and never mutated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from app.access.expression import Expression

FieldType = Literal[
    "string",
    "text",
    "integer",
    "float",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "json",
    "enum",
]
FIELD_TYPES: tuple[FieldType, ...] = (
    "string",
    "text",
    "integer",
    "float",
    "decimal",
    "boolean",
    "date",
    "datetime",
    "uuid",
    "json",
    "enum",
)

Operation = Literal["get_collection", "post", "get", "put", "patch", "delete"]
OPERATIONS: tuple[Operation, ...] = ("get_collection", "post", "get", "put", "patch", "delete")

SearchStrategy = Literal["exact", "partial", "start", "end", "iexact", "ipartial", "istart", "iend"]
SEARCH_STRATEGIES: tuple[SearchStrategy, ...] = (
    "exact",
    "partial",
    "start",
    "end",
    "iexact",
    "ipartial",
    "istart",
    "iend",
)

OnDelete = Literal["restrict", "cascade", "set_null"]
Direction = Literal["asc", "desc"]


class _Missing:
    """Marker for "no default declared" (``None`` is a legitimate default)."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


@dataclass(frozen=True)
class FieldSpec:
    """One scalar column of a resource.

    Invariants: ``choices`` is non-empty iff ``type == "enum"``; ``max_length`` only for
    string types; ``minimum``/``maximum`` only for numeric, date and datetime types;
    ``read_only`` and ``write_only`` are never both true. ``required`` means the client
    must send it on create (and on PUT); ``nullable`` means ``null`` is accepted.
    """

    name: str
    type: FieldType
    required: bool = False
    nullable: bool = True
    unique: bool = False
    default: object = MISSING
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    read_only: bool = False
    write_only: bool = False
    precision: int = 12
    scale: int = 2
    groups: tuple[str, ...] = ()
    description: str = ""
    iri: str | None = None
    """The field's RDF property (``https://schema.org/name``): its ``@id`` in the Hydra
    documentation and the JSON-LD context, as API Platform's ``ApiProperty(iris: [...])``.
    ``None``: the documentation's own ``#Book/title``."""

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING


@dataclass(frozen=True)
class RelationSpec:
    """A many-to-one link to another resource, read and written as an IRI (``/books/1``).

    The database column is ``<name>_id``; ``target`` names a resource of the same spec.
    """

    name: str
    target: str
    required: bool = False
    nullable: bool = True
    on_delete: OnDelete = "restrict"
    read_only: bool = False
    write_only: bool = False
    groups: tuple[str, ...] = ()
    description: str = ""
    iri: str | None = None
    """The relation's RDF property, as :attr:`FieldSpec.iri`."""


@dataclass(frozen=True)
class PaginationSpec:
    """Collection paging, as API Platform: ``page`` from 1, ``itemsPerPage`` capped."""

    enabled: bool = True
    items_per_page: int = 30
    maximum_items_per_page: int = 100
    client_items_per_page: bool = True


@dataclass(frozen=True)
class FilterSpec:
    """Collection filters; every name refers to a field or relation of the resource."""

    search: tuple[tuple[str, SearchStrategy], ...] = ()
    range: tuple[str, ...] = ()
    date: tuple[str, ...] = ()
    boolean: tuple[str, ...] = ()
    exists: tuple[str, ...] = ()


@dataclass(frozen=True)
class OrderSpec:
    """``order[field]=asc|desc`` is accepted for ``fields``; ``default`` applies otherwise."""

    fields: tuple[str, ...] = ()
    default: tuple[tuple[str, Direction], ...] = (("id", "asc"),)


@dataclass(frozen=True)
class MercureSpec:
    """Publishing options, API Platform's ``mercure`` attribute.

    ``topics`` empty means the default topic, the absolute item IRI; otherwise the list
    replaces it. Each entry is a template over the object's fields (``{id}``,
    ``{book.id}``) or the IRI placeholder ``@iri`` (absolute IRI). ``data`` replaces the
    serialized item when set. ``hub`` names the hub to publish to (``None`` = default).
    ``normalization_groups`` selects the fields published (empty = all readable fields).
    """

    enabled: bool = False
    private: bool = False
    topics: tuple[str, ...] = ()
    data: str | None = None
    id: str | None = None
    type: str | None = None
    retry: int | None = None
    hub: str | None = None
    normalization_groups: tuple[str, ...] = ()
    include_type: bool = False


PUBLIC = "public"
"""The rule that declares an operation open to everyone, without a check."""


@dataclass(frozen=True)
class Rule:
    """Who may perform one operation: ``expression`` must allow it; ``None`` with
    ``public`` declares it open to everyone; ``None`` without ``public`` means no rule
    was written (open, and refused for writes in production). ``message`` is the detail
    of a denial."""

    expression: Expression | None = None
    public: bool = False
    message: str | None = None


_NO_RULE = Rule()


@dataclass(frozen=True)
class SecuritySpec:
    """The rules of a resource's operations (an operation absent from ``rules`` has none)."""

    rules: tuple[tuple[Operation, Rule], ...] = ()

    def rule(self, operation: Operation) -> Rule:
        return self._by_operation.get(operation, _NO_RULE)

    @cached_property
    def _by_operation(self) -> dict[Operation, Rule]:
        return dict(reversed(self.rules))  # the first of an operation wins, as declared

    @cached_property
    def read(self) -> Expression | None:
        """The rule deciding who sees an item: that of ``get``. It also limits
        collections and the audience of live updates."""
        return self.rule("get").expression


@dataclass(frozen=True)
class ResourceSpec:
    """One exposed resource: a table, a schema and its REST routes.

    ``name`` is the JSON-LD ``@type`` (``Book``), ``route`` the collection path
    (``/books``), ``table`` the database table. The primary key is always an integer
    ``id`` that clients read but never write.
    """

    name: str
    route: str
    table: str
    fields: tuple[FieldSpec, ...] = ()
    relations: tuple[RelationSpec, ...] = ()
    operations: tuple[Operation, ...] = OPERATIONS
    pagination: PaginationSpec = field(default_factory=PaginationSpec)
    filters: FilterSpec = field(default_factory=FilterSpec)
    order: OrderSpec = field(default_factory=OrderSpec)
    mercure: MercureSpec = field(default_factory=MercureSpec)
    security: SecuritySpec = field(default_factory=SecuritySpec)
    owner: str | None = None
    """A string field set to the authenticated user's id on create, read-only after."""
    description: str = ""
    allow_extra_attributes: bool | None = None
    """Whether a write body may carry properties the resource does not write (ignored,
    as API Platform does) or they are a 422; ``None`` follows the process setting
    ``ALLOW_EXTRA_ATTRIBUTES`` (the app factory fills it in)."""

    @property
    def strict_bodies(self) -> bool:
        """True when unknown properties in a write body are a 422 rather than ignored."""
        return self.allow_extra_attributes is False

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    def relation(self, name: str) -> RelationSpec | None:
        return next((r for r in self.relations if r.name == name), None)


@dataclass(frozen=True)
class ApiInfo:
    """Document-level metadata shown in the entrypoint and the OpenAPI document."""

    title: str = "mercure-gateway"
    version: str = "1.0.0"
    description: str = ""


@dataclass(frozen=True)
class ResourcesSpec:
    """The whole file: API metadata and resources in declaration order."""

    resources: tuple[ResourceSpec, ...]
    api: ApiInfo = field(default_factory=ApiInfo)
    source: str = "resources.yaml"

    def resource(self, name: str) -> ResourceSpec:
        """Return the resource called ``name``; ``KeyError`` when there is none."""
        for resource in self.resources:
            if resource.name == name:
                return resource
        raise KeyError(name)
