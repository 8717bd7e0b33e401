"""One resource's writes as single Core statements, without the ORM's unit of work.

The REST layer knows each write in full before it starts: the columns to insert, or the
stored row and the columns a ``PUT``/``PATCH`` changes. :class:`RowWriter` reads an item
with one ``SELECT`` and writes it with one statement on the session's connection (in the
session's transaction), ``RETURNING`` the row as stored, so no model instance is loaded,
tracked or flushed. Each written row is reported, as a :class:`~app.models.row.RowItem`,
to the publishing bridge (:func:`app.publish.tracker.written`), which stages the item's
update in the same transaction, as for a flushed change.

Contracts: an ``INSERT`` sends what a flush would (same columns, same Python and server
defaults, ``NULL`` for a given ``None``); an ``UPDATE`` sends every value the request gave
(so a value that equals a stale read is still written), but a change that leaves every
column as it was sends nothing and publishes nothing, as a flush would; a write's read
locks the row (:meth:`RowWriter.read`); an ``UPDATE`` that finds no row (deleted
meanwhile) raises :class:`~app.errors.NotFound`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.config.spec import ResourceSpec
from app.errors import NotFound
from app.models import ModelRegistry, iri_for_id
from app.models.columns import relation_column
from app.models.row import Relations, RowItem
from app.publish.tracker import written

__all__ = ["RowWriter"]

ITEM_ID = "ITEM_ID"
"""The bound parameter of the item's id: upper case, so no column's (lower case) name can
take it in an ``UPDATE``'s values."""


class RowWriter:
    """Reads and writes rows of ``resource``; ``columns`` are what the statements return
    (the read's columns, labelled by attribute, so a row answers as a read's does)."""

    def __init__(
        self, registry: ModelRegistry, resource: ResourceSpec, columns: tuple[sa.Label[Any], ...]
    ) -> None:
        self.resource = resource
        self.model = registry.model(resource.name)
        mapper: Any = sa.inspect(self.model)
        table: sa.Table = mapper.local_table
        self._keys = {attribute.key: attribute.columns[0].key for attribute in mapper.column_attrs}
        """Attribute -> the table's key of its column."""
        self._relations: Relations = {
            relation.name: (registry.model(relation.target), relation_column(relation))
            for relation in resource.relations
        }
        primary_key = table.c[mapper.primary_key[0].key]
        self._select = sa.select(*columns).where(primary_key == sa.bindparam(ITEM_ID))
        self._select_for_update = self._select.with_for_update()
        self._insert = table.insert().returning(*columns)
        self._update = (
            table.update().where(primary_key == sa.bindparam(ITEM_ID)).returning(*columns)
        )

    def read(
        self, connection: sa.Connection, item_id: int, *, for_update: bool = False
    ) -> sa.Row[Any] | None:
        """The stored row of ``item_id`` (a ``GET``'s on a connection of its own, a
        write's on the session's, in its transaction). ``for_update``: lock the row until
        the transaction ends (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite lets one
        writer at a time anyway), so that what a write judges and changes is what it
        overwrites."""
        statement = self._select_for_update if for_update else self._select
        return connection.execute(statement, {ITEM_ID: item_id}).first()

    def insert(self, session: Session, values: Mapping[str, Any]) -> sa.Row[Any]:
        """Insert an item of ``values`` (by attribute); return its row as stored."""
        params = {self._keys[name]: value for name, value in values.items()}
        row = session.connection().execute(self._insert, params).one()
        written(session, "create", self.model, RowItem(row, self._relations, session))
        return row

    def update(
        self, session: Session, stored: sa.Row[Any], values: Mapping[str, Any]
    ) -> sa.Row[Any]:
        """Store ``values`` (by attribute) over the item whose row is ``stored``, when
        one of them differs from it; return the row as stored (``stored`` when none
        differs: nothing is sent)."""
        current = stored._mapping
        if not any(_differs(current[name], value) for name, value in values.items()):
            return stored
        params = {self._keys[name]: value for name, value in values.items()}
        params[ITEM_ID] = stored.id
        row = session.connection().execute(self._update, params).one_or_none()
        if row is None:
            iri = iri_for_id(self.resource, stored.id)
            raise NotFound(f"No {self.resource.name} at {iri}: it was deleted meanwhile.")
        written(session, "update", self.model, RowItem(row, self._relations, session))
        return row


def _differs(stored: object, value: object) -> bool:
    """Whether writing ``value`` over ``stored`` changes the column: as ``!=``, but
    ``True`` and ``1``, or ``2`` and ``2.0``, differ (in a JSON document they are not the
    same value), also inside lists and objects; and a datetime without an offset (as
    SQLite gives them back) is the UTC time it stands for, as the API reads it."""
    if type(stored) is not type(value):
        return True
    if isinstance(value, dt.datetime):
        assert isinstance(stored, dt.datetime)
        return _aware(stored) != _aware(value)
    if isinstance(value, dict):
        assert isinstance(stored, dict)
        return stored.keys() != value.keys() or any(
            _differs(stored[k], v) for k, v in value.items()
        )
    if isinstance(value, list):
        assert isinstance(stored, list)
        return len(stored) != len(value) or any(map(_differs, stored, value))
    return stored != value


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
