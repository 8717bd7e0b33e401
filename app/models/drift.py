"""Schema drift: where the database disagrees with the models built from ``resources.yaml``.

The comparison is Alembic's own (:func:`alembic.autogenerate.compare_metadata`, with the
options ``flask db migrate`` uses), over every table of the app's metadata: the
resources' tables and the publishing outbox (:mod:`app.models.outbox`). What it reports
is exactly what ``flask db migrate`` would write a revision for.

Who calls what:

* ``wsgi.py`` (the entry point gunicorn serves) calls :func:`refusal` once the app is
  built and refuses to serve while the database disagrees with the file, listing each
  difference and the commands that fix it. ``flask db ...`` never runs this check, so
  ``flask db migrate`` works on a drifted database (it is how drift is fixed).
* ``flask schema sync`` (run by ``make run`` after ``flask db upgrade``, see
  :mod:`app.cli`) is :func:`sync`: in development it writes the migration revision under
  ``migrations/versions/`` and applies it when every difference is additive
  (:attr:`Difference.additive`); anything else, and anything in production, stops with
  the list and the commands.
* :func:`init_app` makes a request that still meets a mismatch (a drift after start)
  log the commands that fix it; the API answers such a request 503 as any database
  failure (:mod:`app.api.integrity`).

Ignored: the ``mercure_history`` table, which the hub's ``sqlite://`` transport creates
when its file is the app's database. With the pinned Alembic and SQLAlchemy versions,
Alembic reports no spurious difference on SQLite or PostgreSQL for the shipped migrations
(``tests/migrations``): nothing else is filtered out.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from app.config.naming import column_name
from app.config.spec import ResourcesSpec
from app.models.columns import relation_column
from app.models.registry import ModelRegistry
from app.models.renames import legacy_columns, renamed_pairs

__all__ = [
    "Difference",
    "Drift",
    "check",
    "fix_commands",
    "init_app",
    "is_schema_mismatch",
    "refusal",
    "sync",
]

logger = logging.getLogger(__name__)

IGNORED_TABLES = frozenset({"mercure_history"})
"""Tables of the database that are not the app's models' and never drift."""

MIGRATE = 'flask db migrate -m "<what changed in resources.yaml>"'
UPGRADE = "flask db upgrade"

_SQLITE_MISMATCH = re.compile(r"no such (?:column|table)|has no column named", re.IGNORECASE)
_POSTGRES_MISMATCH = frozenset({"42703", "42P01"})  # undefined_column, undefined_table


@dataclass(frozen=True)
class Difference:
    """One way the database differs from the models.

    ``additive`` when applying it cannot lose or refuse existing data: a new table, a new
    column that is nullable or has a server default (or whose table is empty), a new
    relation's foreign key on such a column, an index (a unique one only on new columns).
    """

    text: str
    additive: bool


@dataclass(frozen=True)
class Drift:
    """The database's state against the migrations and the models."""

    current: tuple[str, ...]
    """The database's Alembic revisions (empty before the first ``flask db upgrade``)."""
    heads: tuple[str, ...]
    """The head revisions of the migrations directory."""
    differences: tuple[Difference, ...]

    @property
    def pending(self) -> bool:
        """Revisions exist that the database has not run: ``flask db upgrade`` first."""
        return set(self.current) != set(self.heads)

    @property
    def clean(self) -> bool:
        return not self.pending and not self.differences

    @property
    def additive(self) -> bool:
        return not self.pending and all(d.additive for d in self.differences)


def check(app: Flask) -> Drift:
    """Compare ``app``'s database with its models (built from its ``resources.yaml``)."""
    registry: ModelRegistry = app.extensions["model_registry"]
    migrate = app.extensions["migrate"]
    with app.app_context():
        script = ScriptDirectory.from_config(migrate.migrate.get_config())
        heads = tuple(sorted(script.get_heads()))
        with registry.db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"compare_type": migrate.configure_args.get("compare_type", True)},
            )
            current = tuple(sorted(context.get_current_heads()))
            diffs = compare_metadata(context, registry.metadata)
            differences = tuple(_describe(diffs, registry.spec, connection))
    return Drift(current, heads, differences)


def fix_commands(*, development: bool) -> str:
    """The commands that bring the database and ``resources.yaml`` back together."""
    lines = [
        "To fix it, where the project's migrations are kept:",
        f"  1. {MIGRATE}",
        "     writes a revision under migrations/versions/;",
        "  2. review it (a rename shows as a dropped and an added column: edit it into a",
        "     rename, or the values are lost) and commit it;",
        f"  3. {UPGRADE}",
        "     applies it to this database.",
    ]
    if development:
        lines.append(
            "In development, `make run` does steps 1 and 3 by itself when every change is additive."
        )
    return "\n".join(lines)


def refusal(drift: Drift, *, production: bool) -> str | None:
    """Why the gateway must not serve this database (None when it agrees with the file)."""
    if drift.clean:
        return None
    if drift.pending:
        return (
            "the database is not at the latest migration (database: "
            f"{', '.join(drift.current) or 'none'}; migrations/versions/: "
            f"{', '.join(drift.heads) or 'none'}). Run `{UPGRADE}`, then start again."
        )
    return (
        f"the database does not match resources.yaml ({len(drift.differences)} "
        f"difference{'s' if len(drift.differences) != 1 else ''}):\n"
        + "\n".join(_listed(drift.differences))
        + "\n"
        + fix_commands(development=not production)
    )


def sync(app: Flask, *, production: bool, message: str | None = None) -> tuple[bool, str]:
    """Bring the database to the file in development when every difference is additive.

    Returns ``(ok, report)``. Writes one revision under the migrations directory (for
    review and commit) and applies it; in production, with pending revisions or with a
    difference that is not additive, it changes nothing and ``report`` says why and how
    to fix it.
    """
    import flask_migrate

    drift = check(app)
    if drift.clean:
        return True, "the database matches resources.yaml"
    if production or not drift.additive:
        why = refusal(drift, production=production)
        assert why is not None
        if not production and not drift.pending:
            why = "not applied automatically: some changes are not additive.\n" + why
        return False, why
    directory = Path(app.extensions["migrate"].directory)
    before = set((directory / "versions").glob("*.py"))
    with app.app_context():
        flask_migrate.migrate(message=message or _message(drift.differences))
    written = sorted(set((directory / "versions").glob("*.py")) - before)
    with app.app_context():
        flask_migrate.upgrade()
    after = check(app)
    names = ", ".join(str(path) for path in written) or "no file"
    if not after.clean:
        why = refusal(after, production=False)
        return False, f"wrote {names} and applied it, but differences remain:\n{why}"
    return True, (
        f"resources.yaml changed the schema; wrote {names} (review and commit it) and "
        f"applied it:\n" + "\n".join(_listed(drift.differences))
    )


def is_schema_mismatch(error: BaseException) -> bool:
    """Whether a driver error says a column or table the models use does not exist."""
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _POSTGRES_MISMATCH
    return _SQLITE_MISMATCH.search(str(error)) is not None


def init_app(app: Flask) -> None:
    """Log the fix when a request meets a column or table missing from the database."""
    registry: ModelRegistry = app.extensions["model_registry"]
    with app.app_context():
        engine = registry.db.engine

    def explain(context: sa.engine.ExceptionContext) -> None:
        if is_schema_mismatch(context.original_exception):
            logger.error(
                "the database does not match resources.yaml (%s); the request is answered "
                "503 until it does.\n%s",
                context.original_exception,
                fix_commands(development=True),
            )

    sa.event.listen(engine, "handle_error", explain)


def _listed(differences: Iterable[Difference]) -> list[str]:
    return [f"  - {d.text}" + ("" if d.additive else " [not additive]") for d in differences]


def _message(differences: Sequence[Difference]) -> str:
    text = "; ".join(d.text for d in differences)
    return text if len(text) <= 60 else text[:57] + "..."


class _Names:
    """Resource and property names of tables and columns, for the messages."""

    def __init__(self, spec: ResourcesSpec) -> None:
        self.resources = {r.table: r.name for r in spec.resources}
        self.properties: dict[tuple[str, str], str] = {}
        for resource in spec.resources:
            for field in resource.fields:
                self.properties[(resource.table, column_name(field.name))] = field.name
            for relation in resource.relations:
                self.properties[(resource.table, relation_column(relation))] = relation.name

    def table(self, table: str) -> str:
        resource = self.resources.get(table)
        return f"table {table} (resource {resource})" if resource else f"table {table}"

    def column(self, table: str, column: str) -> str:
        resource = self.resources.get(table)
        prop = self.properties.get((table, column))
        if resource and prop:
            return f"column {table}.{column} ({resource}.{prop})"
        return f"column {table}.{column}"


def _describe(
    diffs: Sequence[Any], spec: ResourcesSpec, connection: sa.Connection
) -> Iterable[Difference]:
    names = _Names(spec)
    renamed = renamed_pairs(list(diffs), legacy_columns(spec))
    for (table, earlier), current in renamed.items():
        yield Difference(
            f"{names.column(table, current)}: named {earlier} by an earlier version "
            "(migrating renames it, with its index and foreign key, keeping its values)",
            True,
        )
    renamed_columns = {
        (t, c) for (t, earlier), current in renamed.items() for c in (earlier, current)
    }

    def part_of_a_rename(diff: Any) -> bool:
        kind = diff[0]
        if kind in ("add_column", "remove_column"):
            return (diff[2], diff[3].name) in renamed_columns
        if kind in ("add_index", "remove_index", "add_fk", "remove_fk"):
            item = diff[1]
            table = item.parent.name if kind.endswith("_fk") else item.table.name
            return all((table, c.name) in renamed_columns for c in item.columns)
        return False

    new_columns = {
        (d[2], d[3].name) for d in diffs if isinstance(d, tuple) and d[0] == "add_column"
    }
    empty: dict[str, bool] = {}

    def is_empty(table: str) -> bool:
        if table not in empty:
            quoted = connection.dialect.identifier_preparer.quote(table)
            row = connection.execute(sa.text(f"SELECT 1 FROM {quoted} LIMIT 1")).first()
            empty[table] = row is None
        return empty[table]

    def on_new_columns(table: str, columns: Iterable[str]) -> bool:
        return all((table, c) in new_columns for c in columns)

    for diff in diffs:
        if isinstance(diff, list):
            for change in diff:
                yield _modification(change, names)
            continue
        kind = diff[0]
        if kind in ("add_table", "remove_table") and diff[1].name in IGNORED_TABLES:
            continue
        if part_of_a_rename(diff):
            continue
        if kind == "add_table":
            yield Difference(f"{names.table(diff[1].name)}: missing from the database", True)
        elif kind == "remove_table":
            yield Difference(
                f"{names.table(diff[1].name)}: in the database, not in resources.yaml "
                "(migrating drops it and its rows)",
                False,
            )
        elif kind == "add_column":
            table, column = diff[2], diff[3]
            additive = column.nullable or column.server_default is not None or is_empty(table)
            required = "" if additive else ", required without a default on existing rows"
            yield Difference(
                f"{names.column(table, column.name)}: missing from the database{required}",
                bool(additive),
            )
        elif kind == "remove_column":
            yield Difference(
                f"{names.column(diff[2], diff[3].name)}: in the database, not in "
                "resources.yaml (migrating drops its values)",
                False,
            )
        elif kind in ("add_index", "add_constraint"):
            item = diff[1]
            table = item.table.name
            columns = [c.name for c in item.columns]
            unique = kind == "add_constraint" or bool(item.unique)
            what = "unique constraint" if unique else "index"
            yield Difference(
                f"{what} {item.name} on {table} ({', '.join(columns)}): missing from the database",
                not unique or on_new_columns(table, columns),
            )
        elif kind in ("remove_index", "remove_constraint"):
            item = diff[1]
            if kind == "remove_index":
                what = "unique index" if item.unique else "index"
            else:
                unique = isinstance(item, sa.UniqueConstraint)
                what = "unique constraint" if unique else "constraint"
            yield Difference(
                f"{what} {item.name} on {item.table.name}: in the database, not in resources.yaml",
                False,
            )
        elif kind == "add_fk":
            fk = diff[1]
            table = fk.parent.name
            columns = [c.name for c in fk.columns]
            yield Difference(
                f"foreign key {fk.name} on {table} ({', '.join(columns)}) to "
                f"{fk.referred_table.name}: missing from the database",
                on_new_columns(table, columns),
            )
        elif kind == "remove_fk":
            fk = diff[1]
            yield Difference(
                f"foreign key {fk.name} on {fk.parent.name}: in the database, not in "
                "resources.yaml",
                False,
            )
        else:
            yield Difference(f"{kind}: {diff[1:]!r}", False)


def _modification(change: Any, names: _Names) -> Difference:
    kind, _schema, table, column, _existing, old, new = change
    where = names.column(table, column)
    if kind == "modify_type":
        return Difference(f"{where}: the database has type {old}, resources.yaml {new}", False)
    if kind == "modify_nullable":
        state = {True: "allows null", False: "refuses null"}
        return Difference(
            f"{where}: the database {state[bool(old)]}, resources.yaml {state[bool(new)]}",
            False,
        )
    return Difference(f"{where}: {kind.removeprefix('modify_')} {old!r} -> {new!r}", False)
