"""Field and relation specs -> SQLAlchemy columns.

Pure mapping, no IO. Column names are the snake_case form of the field names (the
attribute keeps the declared name, ``publicationDate``); a relation ``book`` becomes the
column ``book_id``, ``favouriteBook`` the column ``favourite_book_id`` (relations follow
the fields' naming). Constraint names follow :data:`NAMING_CONVENTION`, so the same names
appear in migrations, in error mapping and on every database.

Case-insensitive text comparison goes through :class:`unicode_lower`, PostgreSQL's
``lower()`` and, on SQLite (whose own ``lower()`` only knows ASCII), the function
:data:`SQLITE_LOWER` that :mod:`app.models` registers on each connection
(:func:`simple_lower`), so both databases fold the same characters.

A declared default is what a new row gets for a field it is not given; a field given
``None`` is stored as NULL, default or not (the columns of fields with a default
*evaluate* ``None``, which SQLAlchemy otherwise replaces by the default on INSERT).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from app.config.naming import column_name
from app.config.spec import FieldSpec, RelationSpec, ResourceSpec

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DEFAULT_STRING_LENGTH = 255
"""Length of ``string`` columns that declare no ``max_length``."""

RESERVED_ATTRIBUTES = frozenset({"id", "metadata", "registry", "query", "query_class"})
"""Names a field or relation may not take: they belong to the model class itself."""

_ON_DELETE = {"restrict": "RESTRICT", "cascade": "CASCADE", "set_null": "SET NULL"}

_INTEGER_RANGES: tuple[tuple[type[sa.Integer], int, int], ...] = (
    (sa.BigInteger, -(2**63), 2**63 - 1),
    (sa.SmallInteger, -(2**15), 2**15 - 1),
    (sa.Integer, -(2**31), 2**31 - 1),
)


def relation_column(relation: RelationSpec) -> str:
    """The attribute and column holding a relation's target id: the snake_case form of
    ``<name>_id`` (``book`` -> ``book_id``, ``favouriteBook`` -> ``favourite_book_id``)."""
    return f"{column_name(relation.name)}_id"


SQLITE_LOWER = "unicode_lower"
"""Name of the SQL function :func:`simple_lower` is registered as on SQLite connections."""

_DOTTED_CAPITAL_I = "\u0130"
_CAPITAL_SIGMA = "\u03a3"


def simple_lower(value: str | None) -> str | None:
    """``value`` lowercased one character at a time, as PostgreSQL's ``lower()`` with a
    libc locale (``towlower``, Unicode's simple case mapping).

    Python's ``str.lower`` uses the full mapping instead, which differs in two places
    only: the dotted capital I (U+0130) becomes ``i`` plus a combining dot, and a capital
    sigma ending a word becomes the final sigma (U+03C2); here they become ``i`` and the
    small sigma (U+03C3), as in PostgreSQL.
    """
    if value is None:
        return None
    if _DOTTED_CAPITAL_I not in value and _CAPITAL_SIGMA not in value:
        return value.lower()
    return "".join("i" if char == _DOTTED_CAPITAL_I else char.lower() for char in value)


class unicode_lower(FunctionElement[str]):  # noqa: N801 (an SQL function, named as one)
    """``lower(x)`` folding every script the same way on SQLite and PostgreSQL."""

    type = sa.String()
    name = "unicode_lower"
    inherit_cache = True


@compiles(unicode_lower)
def _lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _sqlite_lower(element: unicode_lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{SQLITE_LOWER}({compiler.process(element.clauses, **kw)})"


def column_type(spec: FieldSpec) -> sa.types.TypeEngine[Any]:
    """The portable SQLAlchemy type of one field (same DDL on SQLite and PostgreSQL)."""
    match spec.type:
        case "string":
            return sa.String(spec.max_length or DEFAULT_STRING_LENGTH)
        case "text":
            return sa.Text()
        case "integer":
            return sa.Integer()
        case "float":
            return sa.Float()
        case "decimal":
            return sa.Numeric(spec.precision, spec.scale, asdecimal=True)
        case "boolean":
            return sa.Boolean()
        case "date":
            return sa.Date()
        case "datetime":
            return sa.DateTime(timezone=True)
        case "uuid":
            return sa.Uuid()
        case "json":
            return sa.JSON()
        case "enum":
            return sa.String(max(len(choice) for choice in spec.choices))
    raise ValueError(f"field {spec.name!r} has unsupported type {spec.type!r}")


def integer_range(column_type: sa.types.TypeEngine[Any]) -> tuple[int, int] | None:
    """The smallest and largest value an integer column holds, ``None`` for other types.

    PostgreSQL's bounds, on every database: ``Integer`` (``integer`` fields, ids and
    relations) is 32 bits there, while SQLite's ``INTEGER`` would hold 64; the same spec
    must accept the same values on both.
    """
    for kind, low, high in _INTEGER_RANGES:
        if isinstance(column_type, kind):
            return low, high
    return None


def python_default(spec: FieldSpec) -> Callable[[], object] | None:
    """A callable producing a fresh copy of the declared default (``None`` if none)."""
    if not spec.has_default:
        return None
    value = spec.default
    return lambda: copy.deepcopy(value)


def server_default(spec: FieldSpec) -> str | sa.TextClause | None:
    """The declared default as SQL, so migrations can add ``NOT NULL`` columns to tables
    that already have rows. Only for types whose literal reads back identically on
    SQLite and PostgreSQL (not datetime, uuid or json, which keep a Python default only).
    """
    value = spec.default
    if not spec.has_default or value is None:
        return None
    match spec.type:
        case "string" | "text" | "enum":
            return str(value)
        case "integer" | "float" | "decimal":
            return sa.text(str(value))
        case "boolean":
            return sa.text("true" if value else "false")
        case "date":
            return str(value)
    return None


def field_column(spec: FieldSpec) -> sa.Column[Any]:
    """The column of one field; the model assigns it to the attribute ``spec.name``."""
    kind = column_type(spec)
    if spec.has_default:
        kind = kind.evaluates_none()  # None is NULL, not "use the default"
    return sa.Column(
        column_name(spec.name),
        kind,
        nullable=spec.nullable,
        unique=spec.unique,
        default=python_default(spec),
        server_default=server_default(spec),
    )


def relation_fk_column(
    relation: RelationSpec, target: ResourceSpec, *, use_alter: bool = False
) -> sa.Column[Any]:
    """The indexed foreign-key column (:func:`relation_column`) pointing at ``target``'s
    ``id``. ``use_alter`` marks a key of a cycle of tables (see :func:`cyclic_relations`):
    PostgreSQL adds it after creating the tables and drops it before dropping them."""
    name = relation_column(relation)
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(
            f"{target.table}.id", ondelete=_ON_DELETE[relation.on_delete], use_alter=use_alter
        ),
        nullable=relation.nullable,
        index=True,
    )


def cyclic_relations(resources: Sequence[ResourceSpec]) -> frozenset[tuple[str, str]]:
    """``(resource, relation)`` names of the relations through which a resource refers back
    to itself via other resources (``A -> B -> A``); a relation to its own resource is no
    cycle between tables. Their foreign keys are created with ``use_alter``, so tables
    sort for creation and deletion without a warning."""
    targets = {
        r.name: {rel.target for rel in r.relations if rel.target != r.name} for r in resources
    }

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        stack = [start]
        while stack:
            name = stack.pop()
            if name == goal:
                return True
            if name not in seen:
                seen.add(name)
                stack.extend(targets.get(name, ()))
        return False

    return frozenset(
        (resource.name, relation.name)
        for resource in resources
        for relation in resource.relations
        if relation.target != resource.name and reaches(relation.target, resource.name)
    )


def check_names(resource: ResourceSpec) -> None:
    """Refuse names that would clash with the model's own attributes or columns."""
    seen: dict[str, str] = {}
    names = [(f.name, column_name(f.name)) for f in resource.fields]
    names += [(r.name, relation_column(r)) for r in resource.relations]
    attributes = {f.name for f in resource.fields} | {r.name for r in resource.relations}
    for attribute, column in names:
        if attribute in RESERVED_ATTRIBUTES:
            raise ValueError(
                f"resource {resource.name}: the name {attribute!r} is reserved; rename it"
            )
        if column in seen or (column != attribute and column in attributes):
            raise ValueError(
                f"resource {resource.name}: {attribute!r} and {seen.get(column, column)!r} "
                f"both map to the column {column!r}; rename one of them"
            )
        seen[column] = attribute
