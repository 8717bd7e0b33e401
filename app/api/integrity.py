"""Database errors -> API errors: refused constraints are 409 or 422, anything else 503.

Constraint names follow :data:`app.models.columns.NAMING_CONVENTION`. PostgreSQL names
the violated constraint (``diag.constraint_name``) and its SQLSTATE; SQLite only says
``UNIQUE constraint failed: books.isbn``, ``NOT NULL constraint failed: ...`` or
``FOREIGN KEY constraint failed``. Both are reduced to a kind and, where known, the
resource property involved.

No answer carries the driver's own text: it may name the database's host, port, name,
schema or the values of other rows. A failure that is not a refused constraint (the
database is unreachable, read-only, locked, dropped, out of space...) is
:class:`~app.errors.DatabaseUnavailable`, and the driver's message goes to the log only,
with the resource and the operation (:func:`database_failure`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config.naming import column_name
from app.config.spec import ResourceSpec
from app.errors import ApiError, Conflict, DatabaseUnavailable, ValidationFailed, Violation
from app.models.columns import relation_column
from app.models.drift import is_schema_mismatch

logger = logging.getLogger(__name__)

Kind = Literal["unique", "foreign_key", "not_null", "other"]

DATABASE_ERRORS: tuple[type[SQLAlchemyError], ...] = (DBAPIError, PoolTimeout)
"""What a failing database raises: any driver error (connection refused or lost, database
dropped, read-only or locked file, ...) and a connection pool that has none to lend."""

_SQLSTATE: dict[str, Kind] = {"23505": "unique", "23503": "foreign_key", "23502": "not_null"}
_SQLITE = re.compile(
    r"(?P<kind>UNIQUE|NOT NULL|FOREIGN KEY) constraint failed(?:: (?P<table>\w+)\.(?P<column>\w+))?"
)
_SQLITE_KINDS: dict[str, Kind] = {
    "UNIQUE": "unique",
    "NOT NULL": "not_null",
    "FOREIGN KEY": "foreign_key",
}


@dataclass(frozen=True)
class Failure:
    """What the database refused: the kind and, when it says so, the column."""

    kind: Kind
    column: str | None = None


def classify(error: DBAPIError, resource: ResourceSpec) -> Failure:
    """Reduce a driver error to a :class:`Failure` on ``resource``'s table."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:
        kind = _SQLSTATE.get(sqlstate, "other")
        diag = getattr(original, "diag", None)
        column = getattr(diag, "column_name", None)
        constraint = getattr(diag, "constraint_name", None)
        if column is None and constraint:
            column = _column_from_constraint(resource.table, constraint)
        return Failure(kind, column)
    match = _SQLITE.search(str(original))
    if match is None:
        return Failure("other")
    return Failure(_SQLITE_KINDS[match["kind"]], match["column"])


def _column_from_constraint(table: str, constraint: str) -> str | None:
    for prefix in (f"uq_{table}_", f"fk_{table}_"):
        if constraint.startswith(prefix):
            rest = constraint[len(prefix) :]
            return rest.split("_id_", 1)[0] + "_id" if prefix.startswith("fk") else rest
    return None


def property_of(resource: ResourceSpec, column: str | None) -> str:
    """The field or relation stored in ``column`` (``""`` when unknown)."""
    if column is None:
        return ""
    for field in resource.fields:
        if column_name(field.name) == column:
            return field.name
    for relation in resource.relations:
        if relation_column(relation) == column:
            return relation.name
    return ""


def write_error(error: IntegrityError, resource: ResourceSpec, sent: dict[str, object]) -> ApiError:
    """The API error for a failed create or update of ``resource``."""
    failure = classify(error, resource)
    prop = property_of(resource, failure.column)
    if failure.kind == "unique":
        value = sent.get(prop)
        shown = f" {value!r}" if value is not None else ""
        return Conflict(
            f"Another {resource.name} already has this {prop or 'value'}{shown}; "
            f"{prop or 'the value'} must be unique."
        )
    if failure.kind == "foreign_key":
        if not prop and len(resource.relations) == 1:
            prop = resource.relations[0].name
        return ValidationFailed([Violation(prop, "The referenced item does not exist.")])
    if failure.kind == "not_null":
        return ValidationFailed([Violation(prop, "This value should not be null.")])
    logger.warning("%s: the database refused a write: %s", resource.name, error.orig)
    return ValidationFailed([Violation(prop, "The database refused this value.")])


def delete_error(error: IntegrityError, resource: ResourceSpec, iri: str) -> ApiError:
    """The API error for a refused delete: the item is still referenced."""
    failure = classify(error, resource)
    if failure.kind == "foreign_key":
        return Conflict(
            f"{resource.name} {iri} is still referenced by other items; "
            "delete or re-link them first."
        )
    logger.warning("%s: the database refused to delete %s: %s", resource.name, iri, error.orig)
    return Conflict(f"{resource.name} {iri} cannot be deleted: the database refused it.")


SCHEMA_BEHIND = (
    "The database does not match resources.yaml yet: the service is being updated; try "
    "again later. Operators: `flask schema check` lists what differs and the commands "
    "that fix it."
)
"""The 503 detail when the database lacks a column or table the resources declare (it
names no table or column; ``flask schema check`` tells whether ``flask db upgrade`` is
enough or a revision must be written first)."""


def database_failure(
    error: SQLAlchemyError, resource: ResourceSpec, operation: str
) -> DatabaseUnavailable:
    """Log ``error`` (with the resource and the operation it broke) and return the 503
    the client gets instead, whose detail says nothing about the database."""
    logger.error(
        "%s %s: the database failed: %s",
        resource.name,
        operation,
        getattr(error, "orig", None) or error,
        exc_info=error,
    )
    if is_schema_mismatch(getattr(error, "orig", None) or error):
        return DatabaseUnavailable(SCHEMA_BEHIND)
    return DatabaseUnavailable()
