"""Name rules and derived names: resource names, field names, routes and tables.

Routes and tables follow API Platform's defaults: a resource ``BookReview`` is served at
``/book_reviews`` and stored in table ``book_review`` (snake_case, plural for the route).
"""

from __future__ import annotations

import keyword
import re

import inflection

RESOURCE_NAME = re.compile(r"^[A-Z][A-Za-z0-9]*$")
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
TABLE_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
ROUTE = re.compile(r"^(/[A-Za-z0-9][A-Za-z0-9_.~-]*)+$")

RESERVED_FIELD_NAMES = frozenset({"id", "metadata", "registry", "query", "query_class"})
"""``id`` is the primary key; the others are attributes of every declarative model."""

RESERVED_ROUTE_SEGMENTS = frozenset(
    {"docs", "docs.json", "docs.jsonld", "docs.jsonopenapi", "docs.yamlopenapi", "contexts"}
    | {"index.jsonld", "auth"}
)
"""First path segments used by the entrypoint, API documentation, JSON-LD contexts and
subscriber tokens (``/auth/mercure``)."""

OUTBOX_TABLE = "mercure_outbox"
LEASE_TABLE = "mercure_relay_lease"
RESERVED_TABLES = frozenset({"alembic_version", OUTBOX_TABLE, LEASE_TABLE})
"""Tables the gateway keeps beside the resources': migrations and the publishing outbox."""

MAX_TABLE_NAME = 63
"""PostgreSQL truncates longer identifiers."""


def column_name(attribute: str) -> str:
    """``publicationDate`` -> ``publication_date`` (already snake names are unchanged)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", attribute).lower()


def snake_case(name: str) -> str:
    """``BookReview`` -> ``book_review``."""
    return inflection.underscore(name)


def default_route(name: str) -> str:
    """``Book`` -> ``/books``, ``Category`` -> ``/categories``, ``BookReview`` -> ``/book_reviews``.

    The last word is pluralized with English rules (``Person`` -> ``/people``).
    """
    return "/" + inflection.pluralize(snake_case(name))


def default_table(name: str) -> str:
    """``BookReview`` -> ``book_review``."""
    return snake_case(name)


def pascal_case(name: str) -> str:
    """A PascalCase spelling of ``name`` to suggest (``book_review`` -> ``BookReview``)."""
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    return inflection.camelize(cleaned) if cleaned else "Resource"


def resource_name_problem(name: str) -> tuple[str, str] | None:
    """``(what, fix)`` when ``name`` is not a valid resource name, else ``None``."""
    if RESOURCE_NAME.match(name):
        return None
    return (
        f"resource name '{name}' is not PascalCase",
        f"rename it to '{pascal_case(name)}' (letters and digits, starting with a capital)",
    )


def field_name_problem(name: str) -> tuple[str, str] | None:
    """``(what, fix)`` when ``name`` cannot name a field or relation, else ``None``."""
    if name in RESERVED_FIELD_NAMES:
        return (
            f"name '{name}' is reserved",
            "choose another name (the primary key 'id' is always present)"
            if name == "id"
            else "choose another name; it clashes with a model attribute",
        )
    if not FIELD_NAME.match(name):
        return (
            f"name '{name}' is not a valid identifier",
            "use letters, digits and '_', starting with a letter (e.g. 'publicationDate')",
        )
    if keyword.iskeyword(name):
        return (f"name '{name}' is a Python keyword", f"choose another name, e.g. '{name}_'")
    return None


def route_problem(route: str) -> tuple[str, str] | None:
    """``(what, fix)`` when ``route`` cannot be a collection path, else ``None``."""
    if not ROUTE.match(route):
        return (
            f"route '{route}' is not a plain path",
            "write it like '/books': a leading '/', no trailing '/', no '{id}' and no spaces",
        )
    first = route.split("/")[1]
    if first in RESERVED_ROUTE_SEGMENTS:
        return (
            f"route '{route}' is reserved",
            f"choose a path that does not start with '/{first}'",
        )
    return None


def table_problem(table: str) -> tuple[str, str] | None:
    """``(what, fix)`` when ``table`` cannot name a table, else ``None``."""
    if not TABLE_NAME.match(table) or len(table) > MAX_TABLE_NAME:
        return (
            f"table name '{table}' is not valid",
            f"use lowercase letters, digits and '_', at most {MAX_TABLE_NAME} characters",
        )
    if table in RESERVED_TABLES:
        return (f"table name '{table}' is reserved", "choose another table name")
    return None
