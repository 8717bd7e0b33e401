"""ids never reused: resource tables are AUTOINCREMENT on SQLite

Revision ID: 03373bb0c799
Revises: 21337c2ef063
Create Date: 2026-11-30 15:48:08.237324

An IRI names one item forever. Without ``AUTOINCREMENT`` SQLite hands out the id of the
newest row again once that row is deleted; the models now create every resource table
``AUTOINCREMENT``, and this revision rebuilds the existing ones the same way (batch mode,
foreign keys off, every row, id, constraint and index kept; see ``migrations/env.py``).
A table counts as a resource table when its primary key is its ``INTEGER`` column ``id``,
so the tables of resources added to ``resources.yaml`` before this revision are rebuilt
too. SQLite kept no record of ids above the highest one still present, so the sequence
of a rebuilt table starts there: ids are never reused from this revision on.

PostgreSQL: nothing to do, ``SERIAL`` sequences never hand out an id twice.

Relation columns now follow the fields' snake_case naming (``favouriteBook`` is stored
in ``favourite_book_id``). The bookshop's only relation column, ``review.book_id``, is
already snake_case, so nothing is renamed here.
"""
import re

import sqlalchemy as sa
from alembic import context, op
from alembic.util import CommandError


# revision identifiers, used by Alembic.
revision = '03373bb0c799'
down_revision = '21337c2ef063'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_context().dialect.name != "sqlite":
        return
    if context.is_offline_mode():
        raise CommandError(
            "Revision 03373bb0c799 inspects the SQLite database to rebuild its resource "
            "tables: run `flask db upgrade` without --sql."
        )
    bind = op.get_bind()
    for table in _resource_tables(bind):
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade():
    # AUTOINCREMENT is kept: the earlier revisions' code works with it, and undoing it
    # would let SQLite hand out the ids of deleted items again.
    pass


def _resource_tables(bind):
    """Tables whose primary key is the ``INTEGER`` column ``id`` and not yet AUTOINCREMENT."""
    inspector = sa.inspect(bind)
    tables = []
    for name in inspector.get_table_names():
        if name.startswith("sqlite_") or name == "alembic_version":
            continue
        if inspector.get_pk_constraint(name)["constrained_columns"] != ["id"]:
            continue
        declared = {
            row[1]: row[2] for row in bind.exec_driver_sql(f'PRAGMA table_info("{name}")')
        }
        if declared["id"].upper() != "INTEGER":
            continue
        sql = bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
        ).scalar()
        if not re.search(r"\bAUTOINCREMENT\b", sql, re.IGNORECASE):
            tables.append(name)
    return tables
