"""Alembic environment: migrate the database of the Flask app that runs ``flask db``.

The target metadata is the one the app built from its ``resources.yaml``
(:class:`app.models.ModelRegistry`), so ``flask db migrate`` compares the database with
the declared resources. Options (batch mode for SQLite, type comparison) come from the
app's Flask-Migrate configuration.

Migrations never lose data:

- Every pending revision runs in one transaction, committed only when all of them
  succeeded; any error rolls the database back to where it was (PostgreSQL has
  transactional DDL; SQLite gets an explicit ``BEGIN IMMEDIATE``, since its driver
  would otherwise run DDL outside any transaction).
- On SQLite, batch mode changes a table by building a copy, dropping the original and
  renaming the copy. The app enforces foreign keys on every SQLite connection, so that
  ``DROP TABLE`` would run the ``ON DELETE`` actions of the referencing rows (``cascade``
  deletes them, ``set_null`` clears them, ``restrict`` fails). The migration connection
  therefore runs with ``PRAGMA foreign_keys=OFF`` (a pragma SQLite ignores inside a
  transaction, so it is set before ``BEGIN`` and restored after the end), and
  ``PRAGMA foreign_key_check`` runs before the commit: a row left pointing at nothing
  rolls the whole migration back with a message naming the table and the rows. With
  foreign keys off, a data migration's ``DELETE`` runs no ``ON DELETE`` action either, so
  a revision deleting parent rows must delete or update their children itself.
- A SQLite rebuild keeps the table's ``AUTOINCREMENT`` (reflection does not see it) and
  its ``sqlite_sequence`` high-water mark, so the ids of deleted rows are never handed
  out again after a migration.
- On PostgreSQL batch mode emits plain ``ALTER TABLE`` statements (no table is rebuilt)
  and foreign keys stay enforced throughout.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from logging.config import fileConfig
from typing import Any

import sqlalchemy as sa
from alembic import context
from alembic.util import CommandError
from flask import current_app
from sqlalchemy.engine import Connection

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate = current_app.extensions["migrate"]
engine = migrate.db.engine
target_metadata = migrate.db.metadata
config.set_main_option(
    "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
)

BATCH_PREFIX = "_alembic_tmp_"
"""The name batch mode gives the copy of a table it rebuilds (Alembic's default)."""

SHOWN_ROWS = 20
"""How many offending rows of one table a foreign-key violation message lists."""


class ForeignKeyViolation(CommandError):
    """A migration would leave rows whose foreign key names no existing row."""


def _skip_empty_autogenerate(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """``flask db migrate`` writes no file when nothing changed."""
    if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        logger.info("No changes in schema detected.")


def run_migrations_offline() -> None:
    """Emit SQL for ``flask db upgrade --sql`` without connecting.

    For SQLite the script turns foreign keys off around its transaction and lists
    violations with ``PRAGMA foreign_key_check`` before ``COMMIT``: whoever runs it must
    roll back instead of committing when that statement returns rows.
    """
    sqlite = engine.dialect.name == "sqlite"
    options = dict(migrate.configure_args)
    if sqlite:
        options["transactional_ddl"] = True
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        **options,
    )
    if sqlite:
        context.execute("PRAGMA foreign_keys=OFF")
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            context.execute("PRAGMA foreign_key_check")
    if sqlite:
        context.execute("PRAGMA foreign_keys=ON")


def run_migrations_online() -> None:
    """Run the pending migrations in one transaction on a connection of the app's engine."""
    options = dict(migrate.configure_args)
    options.setdefault("process_revision_directives", _skip_empty_autogenerate)
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            options["transactional_ddl"] = True
            with _sqlite_foreign_keys_off(connection), connection.begin():
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                with _sqlite_ids_kept():
                    context.configure(
                        connection=connection, target_metadata=target_metadata, **options
                    )
                    context.run_migrations()
                _check_foreign_keys(connection)
        else:
            with connection.begin():
                context.configure(connection=connection, target_metadata=target_metadata, **options)
                context.run_migrations()


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """Foreign keys off, and transactions only where the caller begins them.

    The driver connection is put in autocommit mode (the caller emits ``BEGIN``
    itself), so the pragma runs outside any transaction, where SQLite honours it. Both
    settings are restored afterwards; a connection that cannot be restored is
    invalidated rather than returned to the pool with foreign keys off.
    """
    driver = connection.connection.driver_connection
    if driver is None or driver.in_transaction:
        raise CommandError("The migration connection is already in a transaction.")
    isolation_level = driver.isolation_level
    driver.isolation_level = None
    cursor = driver.cursor()
    try:
        enforced = cursor.execute("PRAGMA foreign_keys").fetchone()[0]
        cursor.execute("PRAGMA foreign_keys=OFF")
        yield
    finally:
        try:
            if driver.in_transaction:
                driver.rollback()
            cursor.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
            cursor.close()
            driver.isolation_level = isolation_level
        except Exception:
            connection.invalidate()
            raise


@contextmanager
def _sqlite_ids_kept() -> Iterator[None]:
    """Rebuilt tables keep ``AUTOINCREMENT`` and their highest id ever handed out.

    Batch mode creates the copy of a table from its reflection, which has no
    ``AUTOINCREMENT``, and the copy's ``sqlite_sequence`` row starts at the highest id
    still present. Just before a copy is created, this notes whether the original is
    ``AUTOINCREMENT`` (then the copy is too) and its sequence; once the revisions ran,
    every noted sequence is raised back to at least what it was.
    """
    highest: dict[str, int] = {}

    def before_create(table: sa.Table, connection: Connection, **_kw: Any) -> None:
        if not table.name.startswith(BATCH_PREFIX):
            return
        original = table.name[len(BATCH_PREFIX) :]
        _check_conversions(connection, original, table)
        if _is_autoincrement(connection, original):
            table.dialect_options["sqlite"]["autoincrement"] = True
            seq = _sequence(connection, original)
            if seq is not None:
                highest[original] = max(seq, highest.get(original, seq))

    sa.event.listen(sa.Table, "before_create", before_create)
    try:
        yield
    finally:
        sa.event.remove(sa.Table, "before_create", before_create)
    connection = context.get_bind()
    for name, seq in highest.items():
        if not _is_autoincrement(connection, name):
            continue
        current = _sequence(connection, name)
        if current is None:
            connection.exec_driver_sql(
                "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name, seq)
            )
        elif current < seq:
            connection.exec_driver_sql(
                "UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (seq, name)
            )


def _check_conversions(connection: Connection, original: str, copy: sa.Table) -> None:
    """Refuse a rebuild whose type conversions would change stored values.

    Batch mode copies a column whose type changes through ``CAST``, which on SQLite
    never fails: ``'abc'`` becomes ``0`` as an integer, ``'2020-01-02'`` becomes ``2020``
    as a date. A value survives when the cast compares equal to it (SQLite's affinity
    rules compare ``3`` and ``'3'`` as equal, ``0`` and ``'abc'`` as different).
    """
    declared = {
        row[1]: row[2] for row in connection.exec_driver_sql(f'PRAGMA table_info("{original}")')
    }
    for column in copy.columns:
        old = declared.get(column.name)
        new = column.type.compile(dialect=connection.dialect)
        if old is None or old.upper() == new.upper():
            continue
        changed = (
            connection.exec_driver_sql(
                f'SELECT rowid FROM "{original}" WHERE "{column.name}" IS NOT NULL '
                f'AND NOT (CAST("{column.name}" AS {new}) = "{column.name}") ORDER BY rowid'
            )
            .scalars()
            .all()
        )
        if changed:
            shown = ", ".join(str(rowid) for rowid in changed[:SHOWN_ROWS])
            more = f" and {len(changed) - SHOWN_ROWS} more" if len(changed) > SHOWN_ROWS else ""
            raise CommandError(
                f"Migration rolled back, nothing was changed: converting {original}.{column.name} "
                f"from {old} to {new} would change the values of {len(changed)} row(s) with id "
                f"{shown}{more}.\nConvert or clear those values in the revision first (or keep "
                "the old type), then run the upgrade again."
            )


def _is_autoincrement(connection: Connection, table: str) -> bool:
    sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar()
    return sql is not None and re.search(r"\bAUTOINCREMENT\b", sql, re.IGNORECASE) is not None


def _sequence(connection: Connection, table: str) -> int | None:
    """The highest id ever given in ``table`` (``None``: none yet)."""
    seq = connection.exec_driver_sql(
        "SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)
    ).scalar()
    return None if seq is None else int(seq)


def _check_foreign_keys(connection: Connection) -> None:
    """Raise :class:`ForeignKeyViolation` when a row points at no row (SQLite)."""
    violations: dict[tuple[str, int], list[int]] = {}
    for table, rowid, _parent, fk_id in connection.exec_driver_sql("PRAGMA foreign_key_check"):
        violations.setdefault((table, fk_id), []).append(rowid)
    if not violations:
        return
    lines = []
    for (table, fk_id), rowids in sorted(violations.items()):
        keys = [
            row
            for row in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")')
            if row[0] == fk_id
        ]
        source = ", ".join(row[3] for row in keys)
        target = f"{keys[0][2]}({', '.join(str(row[4] or 'id') for row in keys)})" if keys else "?"
        shown = ", ".join(str(rowid) for rowid in sorted(rowids)[:SHOWN_ROWS])
        more = f" and {len(rowids) - SHOWN_ROWS} more" if len(rowids) > SHOWN_ROWS else ""
        lines.append(
            f"table {table}: {len(rowids)} row(s) with id {shown}{more}: "
            f"{source} names no row of {target}"
        )
    raise ForeignKeyViolation(
        "Migration rolled back, nothing was changed: it would leave rows whose foreign key "
        "names no existing row.\n  "
        + "\n  ".join(lines)
        + "\nEdit the revision so that it deletes or updates those rows (foreign keys are "
        "not enforced while a migration runs on SQLite, so no ON DELETE action happens), "
        "then run the upgrade again."
    )


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
